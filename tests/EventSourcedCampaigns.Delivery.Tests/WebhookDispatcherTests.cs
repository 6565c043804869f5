using System.Text.Json;
using EventSourcedCampaigns.Webhooks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourcedCampaigns.Delivery.Tests;

/// <summary>The webhook provider against a real Kestrel endpoint started by the test.</summary>
public sealed class WebhookDispatcherTests : IAsyncLifetime
{
    private const string Secret = "whsec_test_0123456789";
    private WebhookReceiver _receiver = null!;
    private ServiceProvider _services = null!;

    public async Task InitializeAsync()
    {
        _receiver = await WebhookReceiver.StartAsync();
        _services = new ServiceCollection()
            .AddWebhookDispatcher(o => { o.Url = _receiver.Url; o.Secret = Secret; o.AttemptTimeout = TimeSpan.FromSeconds(20); o.Retries = 1; })
            .BuildServiceProvider();
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        await _receiver.DisposeAsync();
    }

    private IMessageDispatcher Dispatcher => _services.GetRequiredService<IMessageDispatcher>();

    private static DispatchRequest Batch(int recipients = 3) =>
        new(Guid.Parse("0f4b2a6c-1d3e-4f5a-8b9c-0d1e2f3a4b5c"), "acme", 7, Channel.Sms, new Variant("B", "Flash sale", "-50% today only", 50),
            Enumerable.Range(1, recipients).Select(i => new Recipient($"c{i}", $"+4470000000{i:00}", $"Contact {i}")).ToArray());

    [Fact]
    public async Task Text_in_any_script_arrives_exactly_and_the_signature_covers_the_bytes_sent()
    {
        // From an audit by marketers in Tokyo, Tel Aviv, Kyiv and São Paulo, verified as docs/delivery.md tells a receiver
        // in another language: HMAC-SHA256 over "{t}." and the raw body, nothing normalized on the way.
        var subject = "Promoc\u0327a\u0303o \U0001F468\u200d\U0001F469\u200d\U0001F467 \u6771\u4eac";
        var content = "\u05de\u05d1\u05e6\u05e2 50% \u0633\u0639\u0631 \u0661\u0662 \u0417\u0438\u043c\u0430\n\U0001F44D\U0001F3FD \"quoted\" \\ <b>&";
        var batch = Batch(1) with
        {
            Channel = Channel.Push, Variant = new Variant("A", subject, content, 100),
            Recipients = [new Recipient("\u0456\u0434-1", "device-\u00e9", "Jose\u0301 \u05d9\u05d5\u05e1\u05d9")],
        };

        await Dispatcher.DispatchAsync(batch);

        var (headers, body) = Assert.Single(_receiver.Requests);
        var parts = headers[WebhookSignature.Header].ToString().Split(',').Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        var mac = System.Security.Cryptography.HMACSHA256.HashData(System.Text.Encoding.UTF8.GetBytes(Secret),
            (byte[])[.. System.Text.Encoding.ASCII.GetBytes(parts["t"] + "."), .. body]);
        Assert.Equal(Convert.ToHexStringLower(mac), parts["v1"]);
        // Every character beyond ASCII is a JSON escape (System.Text.Json's default encoder): the body is ASCII.
        Assert.All(body, b => Assert.True(b < 0x80));
        Assert.Contains("\\u0327", System.Text.Encoding.ASCII.GetString(body), StringComparison.OrdinalIgnoreCase); // the combining cedilla, kept
        using var document = JsonDocument.Parse(body);
        var root = document.RootElement;
        Assert.Equal(subject, root.GetProperty("variant").GetProperty("subject").GetString());
        Assert.Equal(content, root.GetProperty("variant").GetProperty("content").GetString());
        var recipient = root.GetProperty("recipients")[0];
        Assert.Equal(("\u0456\u0434-1", "device-\u00e9", "Jose\u0301 \u05d9\u05d5\u05e1\u05d9"),
            (recipient.GetProperty("id").GetString(), recipient.GetProperty("address").GetString(), recipient.GetProperty("name").GetString()));
    }

    [Fact]
    public async Task The_batch_is_posted_as_signed_json_that_the_receiver_can_verify()
    {
        var batch = Batch();

        var result = await Dispatcher.DispatchAsync(batch);

        Assert.Equal((3, 0), (result.Delivered, result.Failed));
        var (headers, body) = Assert.Single(_receiver.Requests);
        Assert.True(WebhookSignature.Verify(Secret, headers[WebhookSignature.Header], body, DateTimeOffset.UtcNow),
            $"The signature '{headers[WebhookSignature.Header]}' does not verify.");
        Assert.False(WebhookSignature.Verify("another secret", headers[WebhookSignature.Header], body, DateTimeOffset.UtcNow));
        Assert.False(WebhookSignature.Verify(Secret, headers[WebhookSignature.Header], [.. body, (byte)' '], DateTimeOffset.UtcNow));
        Assert.False(WebhookSignature.Verify(Secret, headers[WebhookSignature.Header], body, DateTimeOffset.UtcNow.AddHours(1)),
            "An hour-old signature must be refused (replay).");
        Assert.Equal(batch.IdempotencyKey, headers[WebhookDispatcher.IdempotencyHeader]);
        var sent = JsonSerializer.Deserialize<WebhookBatch>(body, WebhookJson.Options)!;
        Assert.Equal((batch.CampaignId, "acme", 7, batch.IdempotencyKey, "Sms"), (sent.CampaignId, sent.TenantId, sent.BatchNumber, sent.IdempotencyKey, sent.Channel));
        Assert.Equal(new WebhookVariant("B", "Flash sale", "-50% today only"), sent.Variant);
        Assert.Equal(batch.Recipients.Select(r => new WebhookRecipient(r.Id, r.Address, r.Name)), sent.Recipients);
        using var document = JsonDocument.Parse(body);
        Assert.True(document.RootElement.TryGetProperty("idempotencyKey", out _), "The body uses camelCase names.");
    }

    [Fact]
    public async Task A_tenant_beyond_ascii_reaches_the_gateway_with_its_key_percent_encoded_in_the_header()
    {
        // Found by an audit: HttpClient refuses a header that is not ASCII, so every batch of such a tenant failed.
        var batch = Batch() with { TenantId = "shöp👩" };

        var result = await Dispatcher.DispatchAsync(batch);

        Assert.Equal((3, 0), (result.Delivered, result.Failed));
        var (headers, body) = Assert.Single(_receiver.Requests);
        Assert.Equal($"sh%C3%B6p%F0%9F%91%A9/{batch.CampaignId:N}-7", headers[WebhookDispatcher.IdempotencyHeader]);
        Assert.Equal(batch.IdempotencyKey, Uri.UnescapeDataString(headers[WebhookDispatcher.IdempotencyHeader]));
        Assert.Equal(batch.IdempotencyKey, JsonSerializer.Deserialize<WebhookBatch>(body, WebhookJson.Options)!.IdempotencyKey);
    }

    [Theory]
    [InlineData("t=99999999999999999,v1=")]
    [InlineData("t=9223372036854775807,v1=")]
    public void A_signature_with_a_timestamp_no_date_can_hold_is_refused_not_thrown(string forged)
    {
        byte[] body = [.. "{}"u8];
        var header = forged + new string('0', 64);

        Assert.False(WebhookSignature.Verify(Secret, header, body, DateTimeOffset.UtcNow));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("  ")]
    public async Task An_sms_without_a_subject_is_posted_without_one(string? subject)
    {
        var batch = Batch() with { Variant = new Variant("A", subject, "Flash sale: -50% today only", 100) };

        var result = await Dispatcher.DispatchAsync(batch);

        Assert.Equal((3, 0), (result.Delivered, result.Failed));
        var (_, body) = Assert.Single(_receiver.Requests);
        using var document = JsonDocument.Parse(body);
        var variant = document.RootElement.GetProperty("variant");
        Assert.False(variant.TryGetProperty("subject", out _), $"An SMS without a subject has no \"subject\": {variant}");
        Assert.Equal(new WebhookVariant("A", null, "Flash sale: -50% today only"), JsonSerializer.Deserialize<WebhookBatch>(body, WebhookJson.Options)!.Variant);
    }

    [Fact]
    public async Task Recipients_the_gateway_refuses_are_reported_with_its_reason()
    {
        _receiver.Answer = _ => Results.Json(new { accepted = 2, refused = new[] { new { recipientId = "c2", reason = "21610 unsubscribed" } } });

        var result = await Dispatcher.DispatchAsync(Batch());

        Assert.Equal((2, 1), (result.Delivered, result.Failed));
        Assert.Equal(new RecipientRefusal("c2", "21610 unsubscribed"), Assert.Single(result.Refusals));
    }

    /// <summary>Dispatch a batch of 3 to a gateway that answers 200 with <paramref name="body"/> as JSON.</summary>
    private Task<DispatchResult> DispatchAnsweredWithAsync(string body)
    {
        _receiver.Answer = _ => Results.Text(body, "application/json");
        return Dispatcher.DispatchAsync(Batch()).AsTask();
    }

    [Theory]
    [InlineData("{\"accepted\": 1}", new string[0])]
    [InlineData("{\"accepted\": 1, \"refused\": [{\"recipientId\": \"c2\", \"reason\": \"21610 unsubscribed\"}]}", new[] { "c2" })]
    [InlineData("{\"accepted\": 0, \"refused\": []}", new string[0])]
    public async Task Recipients_the_gateway_does_not_count_as_accepted_failed_named_or_not(string body, string[] named)
    {
        var result = await DispatchAnsweredWithAsync(body);

        // The batch has 3 recipients: those not accepted failed, the unnamed among them with no reason (unknown who).
        var accepted = JsonDocument.Parse(body).RootElement.GetProperty("accepted").GetInt32();
        Assert.Equal((accepted, 3 - accepted), (result.Delivered, result.Failed));
        Assert.Equal(named, result.Refusals.Select(r => r.RecipientId));
    }

    [Theory]
    [InlineData("{\"refused\": [{\"recipientId\": \"nobody\", \"reason\": \"who\"}, {\"recipientId\": \"c2\", \"reason\": \"21610 unsubscribed\"}]}")]
    [InlineData("{\"refused\": [{\"recipientId\": \"c2\", \"reason\": \"21610 unsubscribed\"}, {\"recipientId\": \"c2\", \"reason\": \"again\"}]}")]
    public async Task A_refusal_of_someone_not_in_the_batch_or_named_twice_refuses_nobody_more(string body)
    {
        var result = await DispatchAnsweredWithAsync(body);

        // Only c2 was refused: counted once, so that the recipient outcomes can name every failure the counts say.
        Assert.Equal((2, 1), (result.Delivered, result.Failed));
        Assert.Equal(new RecipientRefusal("c2", "21610 unsubscribed"), Assert.Single(result.Refusals));
    }

    [Theory]
    [InlineData("{\"accepted\": 4}")]
    [InlineData("{\"accepted\": 3, \"refused\": [{\"recipientId\": \"c2\", \"reason\": \"21610 unsubscribed\"}]}")]
    [InlineData("{\"accepted\": -1}")]
    public async Task Counts_that_cannot_be_the_batchs_are_passed_on_for_the_pipeline_to_fail_the_batch(string body)
    {
        var result = await DispatchAnsweredWithAsync(body);

        Assert.False(result.Delivered >= 0 && result.Failed >= 0 && result.Delivered + result.Failed == 3, $"{result.Delivered} + {result.Failed}");
        Assert.Single(_receiver.Requests);
    }

    [Fact]
    public async Task A_refusal_without_a_reason_still_refuses_its_recipient_and_one_of_nobody_refuses_nobody()
    {
        // Found by an audit: one refusal without a reason made the whole answer unread, and everyone delivered.
        var result = await DispatchAnsweredWithAsync(
            "{\"refused\": [{\"recipientId\": \"c2\"}, {\"reason\": \"who\"}, null, {\"recipientId\": \"c3\", \"reason\": \"30007 filtered\"}]}");

        Assert.Equal((1, 2), (result.Delivered, result.Failed));
        Assert.Equal([new RecipientRefusal("c2", WebhookDispatcher.NoReasonGiven), new RecipientRefusal("c3", "30007 filtered")], result.Refusals);
    }

    [Theory]
    [InlineData(301)]
    [InlineData(302)]
    [InlineData(307)]
    [InlineData(308)]
    public async Task A_redirect_is_not_followed_and_fails_the_batch_naming_where_it_points(int status)
    {
        // Found by an audit: a 301 or 302 was followed as a GET without the batch, whose 200 counted everyone delivered;
        // a 307 or 308 sent the signed batch to the host it named.
        _receiver.Answer = _ => new Answer(status, location: "http://127.0.0.2:9/elsewhere");

        var error = await Assert.ThrowsAsync<PermanentDispatchException>(() => Dispatcher.DispatchAsync(Batch()).AsTask());

        Assert.Contains("a redirect to http://127.0.0.2:9/elsewhere: redirects are not followed", error.Message);
        Assert.Single(_receiver.Requests);
    }

    [Fact]
    public async Task A_timed_out_attempt_is_not_retried_inside_the_dispatcher_which_a_cancel_would_not_stop()
    {
        // Found by an audit: the quick retry of a timed-out POST went out after a cancel had committed; the pipeline's
        // retry goes through the send gate.
        _receiver.Answer = _ => new Answer(200, delay: TimeSpan.FromSeconds(2));
        await using var services = new ServiceCollection()
            .AddWebhookDispatcher(o => { o.Url = _receiver.Url; o.Secret = Secret; o.AttemptTimeout = TimeSpan.FromMilliseconds(300); o.Retries = 2; })
            .BuildServiceProvider();

        await Assert.ThrowsAsync<TransientDispatchException>(() => services.GetRequiredService<IMessageDispatcher>().DispatchAsync(Batch()).AsTask());

        Assert.Single(_receiver.Requests);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_2xx_whose_answer_is_too_large_or_too_slow_to_read_fails_the_batch_it_took(bool slow)
    {
        // Found by an audit: a 300 MB answer was read whole into memory, and a stalled body held the step past AttemptTimeout.
        _receiver.Answer = _ => slow ? new Answer(200, delay: TimeSpan.FromSeconds(8), bodyFirst: true)
                                     : Results.Text(new string(' ', WebhookDispatcher.MaxAnswerBytes + 1), "application/json");
        await using var services = new ServiceCollection()
            // 16 MiB take a while to write on a busy machine: only the slow body is held to a short attempt.
            .AddWebhookDispatcher(o => { o.Url = _receiver.Url; o.Secret = Secret; o.AttemptTimeout = TimeSpan.FromSeconds(slow ? 2 : 30); o.Retries = 0; })
            .BuildServiceProvider();

        var error = await Assert.ThrowsAsync<PermanentDispatchException>(() => services.GetRequiredService<IMessageDispatcher>().DispatchAsync(Batch()).AsTask());

        Assert.Contains("its answer could not be read within", error.Message);
        Assert.Single(_receiver.Requests);
    }

    [Theory]
    [InlineData("<html>OK</html>")]
    [InlineData("{\"refused\": [null]}")]
    public async Task A_2xx_whose_body_is_not_the_answer_accepts_every_recipient(string body)
    {
        // The gateway took the batch: a throw here would have the pipeline retry it, and send it again.
        var result = await DispatchAnsweredWithAsync(body);

        Assert.Equal((3, 0), (result.Delivered, result.Failed));
        Assert.Empty(result.Refusals);
        Assert.Single(_receiver.Requests);
    }

    [Theory]
    [InlineData(429)]
    [InlineData(503)]
    public async Task Throttling_is_transient_and_carries_the_retry_after_delay(int status)
    {
        _receiver.Answer = _ => new Answer(status, retryAfterSeconds: 7);

        var error = await Assert.ThrowsAsync<TransientDispatchException>(() => Dispatcher.DispatchAsync(Batch()).AsTask());

        Assert.Equal(TimeSpan.FromSeconds(7), error.RetryAfter);
        Assert.Single(_receiver.Requests); // not retried inside the dispatcher: the pipeline waits
    }

    [Fact]
    public async Task A_400_is_permanent()
    {
        _receiver.Answer = _ => Results.BadRequest(new { error = "unknown sender id" });

        var error = await Assert.ThrowsAsync<PermanentDispatchException>(() => Dispatcher.DispatchAsync(Batch()).AsTask());

        Assert.Contains("400", error.Message);
        Assert.Contains("unknown sender id", error.Message);
        Assert.Single(_receiver.Requests);
    }

    [Fact]
    public async Task A_500_is_retried_once_then_transient()
    {
        _receiver.Answer = _ => Results.StatusCode(500);

        var error = await Assert.ThrowsAsync<TransientDispatchException>(() => Dispatcher.DispatchAsync(Batch()).AsTask());

        Assert.Contains("500", error.Message);
        Assert.Null(error.RetryAfter);
        Assert.Equal(2, _receiver.Requests.Count);
    }

    [Fact]
    public async Task Every_quick_retry_is_made_however_long_the_backoff_between_them()
    {
        // Found by an audit: the request's overall limit left out the waits, so with Retries = 10 only 4 retries were made.
        // Six retries back off about 12.6 s in all (200 ms doubling, with jitter), twice the old limit (7 attempts of 100 ms, and 5 s).
        _receiver.Answer = _ => Results.StatusCode(500);
        await using var services = new ServiceCollection()
            .AddWebhookDispatcher(o => { o.Url = _receiver.Url; o.Secret = Secret; o.AttemptTimeout = TimeSpan.FromMilliseconds(100); o.Retries = 6; })
            .BuildServiceProvider();

        await Assert.ThrowsAsync<TransientDispatchException>(() => services.GetRequiredService<IMessageDispatcher>().DispatchAsync(Batch()).AsTask());

        Assert.Equal(7, _receiver.Requests.Count);
    }

    [Fact]
    public async Task An_unreachable_gateway_is_transient()
    {
        var url = _receiver.Url;
        await _receiver.DisposeAsync();
        _receiver = await WebhookReceiver.StartAsync(); // disposed by the test class; the old URL's port is closed now

        await using var services = new ServiceCollection()
            .AddWebhookDispatcher(o => { o.Url = url; o.Secret = Secret; o.Retries = 0; })
            .BuildServiceProvider();

        await Assert.ThrowsAsync<TransientDispatchException>(() => services.GetRequiredService<IMessageDispatcher>().DispatchAsync(Batch()).AsTask());
    }

    [Fact]
    public async Task A_gateway_rested_by_the_circuit_breaker_is_waited_out_not_failed_for_good()
    {
        // The standard handler opens its circuit after 100 calls in its window with 10 % failing; while open, every call
        // failed at once, and the pipeline spent a batch's retries on it: 20 % of one audit's recipients failed for good.
        _receiver.Answer = _ => Results.StatusCode(500);
        await using var services = new ServiceCollection()
            .AddWebhookDispatcher(o => { o.Url = _receiver.Url; o.Secret = Secret; o.Retries = 0; })
            .BuildServiceProvider();
        var dispatcher = services.GetRequiredService<IMessageDispatcher>();

        TransientDispatchException? rested = null;
        for (var call = 0; call < 150 && rested is null; call++)
        {
            var error = await Assert.ThrowsAsync<TransientDispatchException>(() => dispatcher.DispatchAsync(Batch()).AsTask());
            if (error.RetryAfter is not null) rested = error;
        }

        Assert.NotNull(rested);
        Assert.Equal(WebhookDispatcher.CircuitBreakDuration, rested.RetryAfter);
        Assert.True(_receiver.Requests.Count < 150, "The rested call reached the gateway.");
    }

    /// <summary>A status code with a Retry-After header.</summary>
    /// <summary>
    /// An answer of <paramref name="status"/>: with a Retry-After, a Location, or late by <paramref name="delay"/> (before
    /// the headers, or with <paramref name="bodyFirst"/> after them, while the body is still coming).
    /// </summary>
    private sealed class Answer(int status, int? retryAfterSeconds = null, string? location = null, TimeSpan? delay = null, bool bodyFirst = false) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = status;
            if (retryAfterSeconds is { } seconds) httpContext.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (location is not null) httpContext.Response.Headers.Location = location;
            if (delay is not { } wait) return;
            if (bodyFirst)
            {
                await httpContext.Response.WriteAsync("{\"accepted\":");
                await httpContext.Response.Body.FlushAsync();
            }
            await Task.Delay(wait);
            if (bodyFirst) await httpContext.Response.WriteAsync("3}");
        }
    }
}
