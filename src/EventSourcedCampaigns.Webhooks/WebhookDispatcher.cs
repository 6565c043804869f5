using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using EventSourcedCampaigns.Ports;
using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace EventSourcedCampaigns.Webhooks;

/// <summary>
/// Sends a batch to an SMS or push gateway: one POST of <see cref="WebhookBatch"/> as JSON to
/// <see cref="WebhookDispatcherOptions.Url"/>, signed (<see cref="WebhookSignature"/>), with the batch's idempotency key
/// in <c>Idempotency-Key</c> (percent-encoded where it is not printable ASCII: <see cref="DispatchRequest.HeaderSafe"/>). The answer: 2xx with an optional <see cref="WebhookResponse"/> naming refused recipients;
/// 429 or 503 → <see cref="TransientDispatchException"/> carrying <c>Retry-After</c>; 408, other 5xx, network errors and
/// timeouts → <see cref="TransientDispatchException"/>; any other 4xx → <see cref="PermanentDispatchException"/>. When
/// the client's circuit breaker rests a failing gateway, <see cref="TransientDispatchException"/> carrying
/// <see cref="CircuitBreakDuration"/> as its <c>Retry-After</c>. At least once: a retried batch is POSTed again with the same idempotency key, which the gateway should use to drop
/// the duplicate.
/// </summary>
public sealed class WebhookDispatcher : IMessageDispatcher
{
    /// <summary>The name of the <see cref="HttpClient"/> (with the resilience handler) this dispatcher uses.</summary>
    public const string HttpClientName = "EventSourcedCampaigns.Webhooks";

    /// <summary>The request header carrying the batch's idempotency key.</summary>
    public const string IdempotencyHeader = "Idempotency-Key";

    /// <summary>How long the client's circuit breaker rests a gateway that failed too often (the standard handler's 5 s).</summary>
    public static readonly TimeSpan CircuitBreakDuration = TimeSpan.FromSeconds(5);

    /// <summary>The longest wait between two quick retries (they back off exponentially from 200 ms, with jitter).</summary>
    public static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(30);

    private readonly IHttpClientFactory _clients;
    private readonly WebhookDispatcherOptions _options;
    private readonly TimeProvider _clock;

    /// <summary>A dispatcher posting through the named client <see cref="HttpClientName"/> (see <c>AddWebhookDispatcher</c>).</summary>
    public WebhookDispatcher(IHttpClientFactory clients, IOptions<WebhookDispatcherOptions> options, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(clients);
        ArgumentNullException.ThrowIfNull(options);
        options.Value.Validate();
        (_clients, _options, _clock) = (clients, options.Value, clock ?? TimeProvider.System);
    }

    /// <inheritdoc />
    public async ValueTask<DispatchResult> DispatchAsync(DispatchRequest batch, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        // An SMS variant may have no subject (null or blank): the body then has none, rather than an empty one.
        var subject = string.IsNullOrWhiteSpace(batch.Variant.Subject) ? null : batch.Variant.Subject;
        var body = JsonSerializer.SerializeToUtf8Bytes(new WebhookBatch(batch.CampaignId, batch.TenantId, batch.BatchNumber, batch.IdempotencyKey,
            batch.Channel.ToString(), new WebhookVariant(batch.Variant.Key, subject, batch.Variant.Content),
            batch.Recipients.Select(r => new WebhookRecipient(r.Id, r.Address, r.Name)).ToArray()), WebhookJson.Options);

        using var request = new HttpRequestMessage(HttpMethod.Post, _options.Url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.Add(WebhookSignature.Header, WebhookSignature.Sign(_options.Secret, _clock.GetUtcNow(), body));
        request.Headers.Add(IdempotencyHeader, DispatchRequest.HeaderSafe(batch.IdempotencyKey));

        HttpResponseMessage response;
        try
        {
            response = await _clients.CreateClient(HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellation).ConfigureAwait(false);
        }
        catch (BrokenCircuitException e)
        {
            // After many failures the HTTP client rests the gateway for a while without calling it: like the gateway's own
            // 503, the batch waits that out (the pipeline does, without using up its retries) instead of failing for good.
            throw new TransientDispatchException($"The webhook {_options.Url} is rested after repeated failures, batch {batch.IdempotencyKey} waits: {e.Message}", e)
            {
                RetryAfter = CircuitBreakDuration,
            };
        }
        catch (Exception e) when (e is HttpRequestException or TimeoutRejectedException
                                  || (e is OperationCanceledException && !cancellation.IsCancellationRequested))
        {
            throw new TransientDispatchException($"The webhook {_options.Url} could not be reached for batch {batch.IdempotencyKey}: {e.Message}", e);
        }

        using (response)
        {
            var status = (int)response.StatusCode;
            var (text, whole) = await ReadAsync(response, response.IsSuccessStatusCode ? MaxAnswerBytes : MaxErrorExcerptBytes, cancellation).ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
                return whole
                    ? Result(batch, text)
                    // The gateway took the batch (2xx), so it is never handed over again; what it says of it is not known.
                    : throw new PermanentDispatchException($"The webhook {_options.Url} took batch {batch.IdempotencyKey} ({status}) but its answer " +
                                                           $"could not be read within {_options.AttemptTimeout} and {MaxAnswerBytes / (1 << 20)} MiB: " +
                                                           "who it refused is unknown.");
            if (status is >= 300 and < 400)
                throw new PermanentDispatchException($"The webhook {_options.Url} answered {status} {response.ReasonPhrase} for batch {batch.IdempotencyKey}, " +
                                                     $"a redirect to {response.Headers.Location?.ToString() ?? "nowhere"}: redirects are not followed " +
                                                     "(they would not carry the batch, or carry it elsewhere); set the Url to the gateway's own address.");
            var what = $"The webhook {_options.Url} answered {status} {response.ReasonPhrase} for batch {batch.IdempotencyKey}{Excerpt(text)}";
            if (response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable)
                throw new TransientDispatchException(what) { RetryAfter = RetryAfter(response) };
            if (status is 408 or >= 500) throw new TransientDispatchException(what);
            throw new PermanentDispatchException(what);
        }
    }

    private static DispatchResult Result(DispatchRequest batch, string text)
    {
        if (string.IsNullOrWhiteSpace(text)) return new DispatchResult(batch.Recipients.Count, 0);
        WebhookResponse? answer;
        try { answer = JsonSerializer.Deserialize<WebhookResponse>(text, WebhookJson.Options); }
        catch (JsonException e)
        {
            // The gateway took the batch (2xx): do not throw, a retry would send it again. Counts only.
            _ = e;
            return new DispatchResult(batch.Recipients.Count, 0);
        }
        var refused = answer?.Refused ?? [];
        // A refusal of no one, of someone not in the batch, or of a recipient already named, refuses nobody more: dropped,
        // so that the counts are of the batch's recipients (the pipeline would take a refusal it cannot place for one
        // nobody named). One without a reason still refuses its recipient: before, it made the whole answer unread and
        // every recipient delivered, the refused one too.
        var inBatch = batch.Recipients.Select(r => r.Id).ToHashSet();
        var refusals = refused.Where(r => r is not null && !string.IsNullOrEmpty(r.RecipientId) && inBatch.Remove(r.RecipientId))
            .Select(r => new RecipientRefusal(r!.RecipientId, string.IsNullOrWhiteSpace(r.Reason) ? NoReasonGiven : r.Reason)).ToArray();
        var size = batch.Recipients.Count;
        return answer?.Accepted switch
        {
            null => new DispatchResult(size - refusals.Length, refusals.Length) { Refusals = refusals },
            // Fewer accepted than the batch less the named refusals: the rest failed too, unnamed (their outcome is unknown).
            { } accepted when accepted >= 0 && accepted <= size - refusals.Length => new DispatchResult(accepted, size - accepted) { Refusals = refusals },
            // Counts that cannot be the batch's: passed on as they are, and the pipeline fails the batch with the reason.
            { } accepted => new DispatchResult(accepted, refusals.Length) { Refusals = refusals },
        };
    }

    /// <summary>The reason recorded for a recipient the gateway refused without one.</summary>
    public const string NoReasonGiven = "Refused by the gateway, which gave no reason.";

    /// <summary>Most bytes of a 2xx answer read (its refusals of a batch of 100,000 fit many times over).</summary>
    public const int MaxAnswerBytes = 16 << 20;

    /// <summary>Most bytes of another answer read: only its start goes into the reason.</summary>
    private const int MaxErrorExcerptBytes = 64 << 10;

    /// <summary>
    /// The answer's body as text, at most <paramref name="limit"/> bytes and within <see cref="WebhookDispatcherOptions.AttemptTimeout"/>
    /// (the resilience handler's limits end with the headers): <c>whole</c> is false when it was longer, or too slow.
    /// </summary>
    private async Task<(string Text, bool Whole)> ReadAsync(HttpResponseMessage response, int limit, CancellationToken cancellation)
    {
        using var slow = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        slow.CancelAfter(_options.AttemptTimeout);
        var buffer = new MemoryStream();
        try
        {
            await using var body = await response.Content.ReadAsStreamAsync(slow.Token).ConfigureAwait(false);
            var chunk = new byte[81920];
            int read;
            while ((read = await body.ReadAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, limit + 1L - buffer.Length)), slow.Token).ConfigureAwait(false)) > 0)
                if (buffer.Length + read > limit)
                    return (System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length), false);
                else buffer.Write(chunk, 0, read);
        }
        catch (Exception e) when ((e is OperationCanceledException && !cancellation.IsCancellationRequested) || e is HttpRequestException or IOException)
        {
            return (System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length), false);
        }
        return (System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length), true);
    }

    private TimeSpan? RetryAfter(HttpResponseMessage response) => response.Headers.RetryAfter switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } => date - _clock.GetUtcNow() is var wait && wait > TimeSpan.Zero ? wait : TimeSpan.Zero,
        _ => null,
    };

    private static string Excerpt(string text) =>
        string.IsNullOrWhiteSpace(text) ? "." : $": {(text.Length > 300 ? text[..300] + "…" : text)}";
}
