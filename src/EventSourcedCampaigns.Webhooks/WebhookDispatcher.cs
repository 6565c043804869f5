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
            response = await _clients.CreateClient(HttpClientName).SendAsync(request, cancellation).ConfigureAwait(false);
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
            var text = await response.Content.ReadAsStringAsync(cancellation).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            if (response.IsSuccessStatusCode) return Result(batch, text);
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
        // A refusal without a recipient or a reason is not the answer above either: the gateway took the batch, so every
        // recipient is accepted rather than a throw (the pipeline would retry, and send the batch again).
        if (refused.Any(r => r is null || string.IsNullOrEmpty(r.RecipientId) || r.Reason is null)) return new DispatchResult(batch.Recipients.Count, 0);
        // A refusal of someone not in the batch, or of a recipient already named, refuses nobody more: dropped, so that the
        // counts are of the batch's recipients (the pipeline would take a refusal it cannot place for one nobody named).
        var inBatch = batch.Recipients.Select(r => r.Id).ToHashSet();
        var refusals = refused.Where(r => inBatch.Remove(r.RecipientId)).Select(r => new RecipientRefusal(r.RecipientId, r.Reason)).ToArray();
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

    private TimeSpan? RetryAfter(HttpResponseMessage response) => response.Headers.RetryAfter switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } => date - _clock.GetUtcNow() is var wait && wait > TimeSpan.Zero ? wait : TimeSpan.Zero,
        _ => null,
    };

    private static string Excerpt(string text) =>
        string.IsNullOrWhiteSpace(text) ? "." : $": {(text.Length > 300 ? text[..300] + "…" : text)}";
}
