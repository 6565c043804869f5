using System.Diagnostics;
using Xunit.Abstractions;

namespace EventSourcedCampaigns.Sending.Tests;

/// <summary>
/// Message rate limits (per campaign, per tenant, per sending node) and the provider's own Retry-After: waiting never
/// fails a batch, a cancel still stops batches that wait, and a provider that keeps saying "slow down" fails a batch
/// only after <see cref="CampaignSendingOptions.MaxThrottleWait"/>.
/// </summary>
public sealed class ThrottlingTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_campaign_limited_to_1200_messages_a_minute_sends_at_that_pace_without_failing_a_batch()
    {
        const int perMinute = 1_200, recipients = 120, batchSize = 10;
        await using var host = await SendingHost.StartAsync(configure: o => o.WithMessagesPerMinutePerCampaign(perMinute).WithBatchesInFlightPerCampaign(4));
        var id = await host.SendingAsync(recipients, batchSize);

        var sent = await host.WaitForAsync(id, s => s.Status == CampaignStatus.Sent, "the throttled campaign to be sent", TimeSpan.FromSeconds(90));

        var facts = new StreamFacts(await host.EventsAsync(id));
        Assert.Equal(0, facts.Count<BatchFailed>());
        Assert.Equal(recipients, ((CampaignPhase.Sent)sent.Phase).Progress.Delivered);
        facts.AssertEveryClaimRecordedOnce();
        var calls = host.Dispatcher.StartedCalls.Where(c => c.CampaignId == id).OrderBy(c => c.StartedAt).ToList();
        Assert.Equal(recipients / batchSize, calls.Count); // one call per batch: waiting for permits is not an attempt
        // Measured, not asserted: the messages after the first second's burst over the time they took.
        var span = Stopwatch.GetElapsedTime(calls[0].StartedAt, calls[^1].StartedAt);
        var burst = perMinute / 60;
        output.WriteLine($"{recipients} messages in batches of {batchSize}, limit {perMinute}/min (burst {burst}): calls spanned {span.TotalSeconds:0.00} s, " +
                         $"observed {(recipients - burst - batchSize) / span.TotalMinutes:0} messages/min after the burst");
    }

    [Fact]
    public async Task A_tenant_limit_paces_two_campaigns_together_without_failing_a_batch()
    {
        const int perMinute = 1_200, recipients = 60, batchSize = 10;
        await using var host = await SendingHost.StartAsync(configure: o => o.MessagesPerMinutePerTenant = perMinute);
        var first = await host.SendingAsync(recipients, batchSize);
        var second = await host.SendingAsync(recipients, batchSize);

        foreach (var id in new[] { first, second })
        {
            var sent = await host.WaitForAsync(id, s => s.Status == CampaignStatus.Sent, "both campaigns to be sent", TimeSpan.FromSeconds(90));
            Assert.Equal(recipients, ((CampaignPhase.Sent)sent.Phase).Progress.Delivered);
            Assert.Equal(0, new StreamFacts(await host.EventsAsync(id)).Count<BatchFailed>());
        }
        var calls = host.Dispatcher.StartedCalls.OrderBy(c => c.StartedAt).ToList();
        var span = Stopwatch.GetElapsedTime(calls[0].StartedAt, calls[^1].StartedAt);
        output.WriteLine($"2 x {recipients} messages of one tenant, tenant limit {perMinute}/min: calls spanned {span.TotalSeconds:0.00} s, " +
                         $"observed {(2 * recipients - perMinute / 60 - batchSize) / span.TotalMinutes:0} messages/min after the burst");
    }

    [Fact]
    public async Task A_cancel_releases_the_batches_waiting_for_permits_and_no_provider_call_starts_after_it()
    {
        // 60 messages a minute: four batches of 10 claimed at once wait tens of seconds for their permits.
        await using var host = await SendingHost.StartAsync(configure: o => o.WithMessagesPerMinutePerCampaign(60).WithBatchesInFlightPerCampaign(4));
        var id = await host.SendingAsync(recipients: 80, batchSize: 10);
        await host.WaitForAsync(id, s => s.Phase is CampaignPhase.Sending { Progress.InFlight.Count: 4 }, "four batches to be claimed");
        await Task.Delay(500); // let them reach the rate limiter (how far they got does not matter to what is checked)

        var cancelStarted = Stopwatch.GetTimestamp();
        await host.RunAcceptedAsync(new CancelCampaign(id, SendingHost.Marketer, new CancelReason(CancelReasonCode.MarketerRequest)));
        var cancelled = Stopwatch.GetTimestamp();
        await host.WaitForAsync(id, s => s.Status == CampaignStatus.CancelledDuringSend,
            "the batches waiting for permits to be released (CancelCheckInterval is 100 ms)", TimeSpan.FromSeconds(10));
        var stoppedIn = Stopwatch.GetElapsedTime(cancelStarted);

        Assert.Empty(host.Dispatcher.CallsStartedAfter(id, cancelled));
        var facts = new StreamFacts(await host.EventsAsync(id));
        Assert.Equal(4, facts.Count<BatchReleased>());
        Assert.Equal(0, facts.Count<BatchFailed>());
        facts.AssertEveryClaimRecordedOnce();
        output.WriteLine($"provider calls: {host.Dispatcher.CallsFor(id)}; released {facts.Count<BatchReleased>()}; cancel to Cancelled During Send {stoppedIn.TotalMilliseconds:0} ms");
    }

    [Fact]
    public async Task A_provider_that_answers_retry_after_for_a_while_then_accepts_gets_everything_delivered_nothing_failed()
    {
        // Each batch is refused with "retry after 300 ms" five times: more than the three retries meant for errors.
        var dispatcher = new FakeDispatcher();
        dispatcher.OnDispatch = (batch, _) => dispatcher.CallsFor(batch.CampaignId, batch.BatchNumber) <= 5
            ? throw new TransientDispatchException("429 Too Many Requests", retryAfter: TimeSpan.FromMilliseconds(300))
            : ValueTask.CompletedTask;
        await using var host = await SendingHost.StartAsync(dispatcher);
        var id = await host.SendingAsync(recipients: 30, batchSize: 10);

        var sent = await host.WaitForAsync(id, s => s.Status == CampaignStatus.Sent, "the throttled provider to take every batch", TimeSpan.FromSeconds(60));

        Assert.Equal(30, ((CampaignPhase.Sent)sent.Phase).Progress.Delivered);
        Assert.Equal(0, new StreamFacts(await host.EventsAsync(id)).Count<BatchFailed>());
        foreach (var batch in new[] { 1, 2, 3 }) Assert.Equal(6, dispatcher.CallsFor(id, batch));
        output.WriteLine($"provider calls: {dispatcher.CallsFor(id)} for 3 batches (5 'retry after 300 ms' each)");
    }

    [Fact]
    public async Task A_provider_that_never_stops_saying_slow_down_fails_the_batch_after_MaxThrottleWait_with_the_reason()
    {
        var dispatcher = new FakeDispatcher { OnDispatch = (_, _) => throw new TransientDispatchException("429 Too Many Requests", retryAfter: TimeSpan.FromMilliseconds(200)) };
        await using var host = await SendingHost.StartAsync(dispatcher, o => o.MaxThrottleWait = TimeSpan.FromSeconds(1));
        var id = await host.SendingAsync(recipients: 10, batchSize: 10);

        var sent = await host.WaitForAsync(id, s => s.Status == CampaignStatus.Sent, "the batch to be recorded as failed", TimeSpan.FromSeconds(30));

        Assert.Equal(10, ((CampaignPhase.Sent)sent.Phase).Progress.Failed);
        var failure = Assert.Single(new StreamFacts(await host.EventsAsync(id)).Failures).Failure;
        Assert.Contains("slow down", failure.Error);
        Assert.Contains("429 Too Many Requests", failure.Error);
        output.WriteLine($"{dispatcher.CallsFor(id)} calls; failed with: {failure.Error}");
    }
}
