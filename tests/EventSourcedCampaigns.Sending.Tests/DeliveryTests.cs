using Wolverine;

namespace EventSourcedCampaigns.Sending.Tests;

public sealed class DeliveryTests
{
    [Fact]
    public async Task A_batch_message_delivered_twice_is_counted_once()
    {
        var dispatcher = new FakeDispatcher();
        await using var host = await SendingHost.StartAsync(dispatcher, o => o.WithBatchesInFlightPerCampaign(1));
        var id = await host.ScheduledAsync(400, 100, TimeSpan.FromMinutes(1));
        var duplicated = 0;
        dispatcher.OnDispatch = async (batch, _) =>
        {
            // While batch 2 is with the provider (batch 1 recorded): redeliver batch 2's send message, and
            // batch 1's provider answer, as an at-least-once transport may.
            if (batch.CampaignId != id || batch.BatchNumber != 2 || Interlocked.Exchange(ref duplicated, 1) == 1) return;
            await host.Bus.SendAsync(new SendBatch(id, 2, 1), new DeliveryOptions { TenantId = SendingHost.Tenant });
            await host.Bus.InvokeForTenantAsync(SendingHost.Tenant, new BatchSent(id, 1, 1, 100, 0, null));
        };
        host.Clock.Advance(TimeSpan.FromMinutes(1));
        await host.RunAcceptedAsync(new StartSend(id));

        var sent = await host.WaitForAsync(id, s => s.Status == CampaignStatus.Sent, "the send to complete");
        await host.WaitUntilIdleAsync();

        Assert.Equal(1, duplicated);
        var facts = new StreamFacts(await host.EventsAsync(id));
        facts.AssertEveryClaimRecordedOnce();
        Assert.Equal(4, facts.Deliveries.Count());
        Assert.Equal(400, ((CampaignPhase.Sent)sent.Phase).Progress.Delivered);
        Assert.Equal(1, facts.Count<SendCompleted>());
        Assert.Equal(facts.Events.Count, facts.Events.ToList().FindIndex(e => e.Data is SendCompleted) + 1);
    }

    [Fact]
    public async Task After_a_crash_mid_send_a_new_host_resumes_and_records_every_batch_exactly_once()
    {
        var schema = TestDatabase.UniqueSchema("crash");
        var audiences = new AudienceDirectory();
        var clock = new AdjustableClock();
        var slow = new FakeDispatcher(new FakeDispatcherOptions(Latency: TimeSpan.FromMilliseconds(15), Jitter: TimeSpan.FromMilliseconds(10)));
        // The provider answers 20 calls and then hangs, so the crash always lands mid-send however fast the machine is.
        slow.OnDispatch = async (_, cancellation) =>
        {
            if (slow.Calls > 20) await Task.Delay(Timeout.Infinite, cancellation);
        };
        var first = await SendingHost.StartAsync(slow, o => o.WithBatchesInFlightPerCampaign(4), schema: schema, audiences: audiences, clock: clock);
        var id = await first.SendingAsync(600, 10);
        await first.WaitForAsync(id, s => s.Phase is CampaignPhase.Sending { Progress.Recorded.Count: >= 12 }, "a dozen batches to be recorded");

        await first.CrashAsync();
        var crashedAt = await StateAfterCrashAsync(schema, id);
        Assert.Equal(CampaignStatus.Sending, crashedAt.Status);

        var dispatcher = new FakeDispatcher();
        await using var second = await SendingHost.StartAsync(dispatcher, o => o.WithBatchesInFlightPerCampaign(4), schema: schema, audiences: audiences, clock: clock);
        var sent = await second.WaitForAsync(id, s => s.Status == CampaignStatus.Sent, "the resumed send to complete");

        var facts = new StreamFacts(await second.EventsAsync(id));
        facts.AssertEveryClaimRecordedOnce();
        Assert.Equal(60, facts.Claims.Count());
        Assert.Equal(600, ((CampaignPhase.Sent)sent.Phase).Progress.Delivered);
        Assert.Equal(1, facts.Count<SendCompleted>());
        // Every batch went to the provider; one that was with the provider at the crash may have gone twice.
        var calls = slow.CallsPerBatch.Concat(dispatcher.CallsPerBatch).GroupBy(c => c.Key, c => c.Value).ToDictionary(g => g.Key, g => g.Sum());
        Assert.Equal(60, calls.Count);
        Assert.All(calls.Values, n => Assert.InRange(n, 1, 2));
        Assert.True(dispatcher.Calls > 0, "the new host sent the rest");
        Assert.Equal(0, await second.DeadLettersAsync());
    }

    private static async Task<CampaignState> StateAfterCrashAsync(string schema, Guid id)
    {
        await using var store = global::Marten.DocumentStore.For(o => TestDatabase.Configure(o, schema));
        await using var session = store.QuerySession(SendingHost.Tenant);
        return (await session.LoadCampaignStateAsync(id))!;
    }

    [Fact]
    public async Task A_provider_failing_a_fifth_of_calls_transiently_still_sends_everything()
    {
        var dispatcher = new FakeDispatcher(new FakeDispatcherOptions(TransientFailureRate: 0.2, Seed: 5));
        await using var host = await SendingHost.StartAsync(dispatcher, o => o.WithBatchesInFlightPerCampaign(4));
        var id = await host.SendingAsync(2_000, 50);

        var sent = await host.WaitForAsync(id, s => s.Status == CampaignStatus.Sent, "the send to complete");

        var progress = ((CampaignPhase.Sent)sent.Phase).Progress;
        var facts = new StreamFacts(await host.EventsAsync(id));
        facts.AssertEveryClaimRecordedOnce();
        Assert.Equal(40, facts.Claims.Count());
        Assert.True(dispatcher.Calls > 40, "some calls failed and were retried");
        // 0.2^4: a batch failing all four attempts is possible but rare; it would be recorded as failed, not lost.
        Assert.Equal(2_000, progress.Delivered + progress.Failed);
        Assert.Equal(facts.Failures.Sum(f => (long)f.Failure.Recipients), progress.Failed);
        Assert.True(progress.Delivered >= 1_900);
    }

    [Fact]
    public async Task Batches_the_provider_refuses_for_good_end_as_failed_counts_not_lost_batches()
    {
        var dispatcher = new FakeDispatcher(new FakeDispatcherOptions(PermanentFailureRate: 0.3, RecipientFailureRate: 0.05, Seed: 11));
        await using var host = await SendingHost.StartAsync(dispatcher, o => o.WithBatchesInFlightPerCampaign(3));
        var id = await host.SendingAsync(1_000, 50);

        var sent = await host.WaitForAsync(id, s => s.Status == CampaignStatus.Sent, "the send to complete");

        var progress = ((CampaignPhase.Sent)sent.Phase).Progress;
        var facts = new StreamFacts(await host.EventsAsync(id));
        facts.AssertEveryClaimRecordedOnce();
        Assert.Equal(20, facts.Claims.Count());
        Assert.NotEmpty(facts.Failures);
        Assert.All(facts.Failures, f => Assert.Contains("refused", f.Failure.Error));
        // A refused batch is handed over once: a permanent failure is not retried.
        Assert.All(facts.Failures, f => Assert.Equal(1, dispatcher.CallsFor(id, f.Failure.BatchNumber)));
        Assert.Equal(1_000, progress.Delivered + progress.Failed);
        Assert.Equal(facts.Failures.Sum(f => (long)f.Failure.Recipients) + facts.Deliveries.Sum(d => (long)d.Delivery.Failed), progress.Failed);
        Assert.Equal(dispatcher.Delivered, progress.Delivered);
    }
}
