using Marten;
using Marten.Services;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourcedCampaigns.Sending.Tests;

public sealed class ReconcilerTests
{
    private static Task<SendingHost> StartWithTwoLanesAndAShortClaimTimeoutAsync(FakeDispatcher dispatcher, double claimTimeoutSeconds = 2) =>
        SendingHost.StartAsync(dispatcher, o =>
        {
            o.WithBatchesInFlightPerCampaign(2);
            o.ClaimTimeout = TimeSpan.FromSeconds(claimTimeoutSeconds);
            o.ReconcileInterval = TimeSpan.FromMilliseconds(500);
        });

    /// <summary>A campaign of 10 batches sending, whose batch 2 is with the provider until <paramref name="unblock"/> completes.</summary>
    private static async Task<Guid> SendingWithBatch2HeldAsync(SendingHost host, FakeDispatcher dispatcher, TaskCompletionSource unblock)
    {
        var id = await host.CreateAsync();
        var called = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        dispatcher.OnDispatch = async (batch, cancellation) =>
        {
            if (batch.CampaignId != id || batch.BatchNumber != 2) return;
            called.TrySetResult();
            await unblock.Task.WaitAsync(cancellation);
        };
        var audience = host.Audiences.Everyone("list-" + id.ToString("N"), 100);
        await host.RunAcceptedAsync(new ScheduleCampaign(id, host.Clock.Now.AddSeconds(3), audience, 10, SendingHost.Marketer));
        await called.Task.WaitAsync(TimeSpan.FromSeconds(30));
        return id;
    }

    [Fact]
    public async Task A_node_that_starts_after_a_claim_went_stale_gives_it_the_claim_timeout_from_its_start()
    {
        // Found by a fault audit: a sender restarted after an outage longer than ClaimTimeout recorded as failed ("the node
        // was lost") the batches whose steps were waiting in the queues it had not yet taken over, 11 s after it came back.
        var claimTimeout = TimeSpan.FromSeconds(4);
        var dispatcher = new FakeDispatcher();
        var unblock = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await StartWithTwoLanesAndAShortClaimTimeoutAsync(dispatcher, claimTimeout.TotalSeconds);
        var id = await SendingWithBatch2HeldAsync(host, dispatcher, unblock);
        // Half the claim timeout after the claim, the node is (as far as its reconciler can tell) started anew.
        var claimedAt = new StreamFacts(await host.EventsAsync(id)).Claims.Single(c => c.Claim.BatchNumber == 2).Claim.ClaimedAt;
        var halfway = claimedAt + claimTimeout / 2 - host.Clock.GetUtcNow();
        if (halfway > TimeSpan.Zero) await Task.Delay(halfway);
        await host.NodeStart.StartAsync(CancellationToken.None);
        var restarted = host.NodeStart.At;

        await host.WaitForAsync(id, s => s.Status == CampaignStatus.Sent, "the reconciler to settle the stuck batch", TimeSpan.FromSeconds(30));

        var failure = Assert.Single(new StreamFacts(await host.EventsAsync(id)).Failures).Failure;
        Assert.Equal(2, failure.BatchNumber);
        // Counted from the claim alone it fails about claimTimeout / 2 after the restart.
        Assert.True(failure.FailedAt - restarted >= claimTimeout, $"failed {failure.FailedAt - restarted} after the node's start");
        unblock.SetResult();
        await host.WaitUntilIdleAsync();
    }

    [Fact]
    public async Task A_batch_whose_provider_call_never_returns_is_recorded_as_failed_after_the_claim_timeout_and_holds_back_no_other_batch()
    {
        var dispatcher = new FakeDispatcher();
        var unblock = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await StartWithTwoLanesAndAShortClaimTimeoutAsync(dispatcher);
        var id = await host.CreateAsync();
        // Batch 2 (head of lane 2) is lost at the provider: its call never answers (until the test lets it, at the end),
        // as if its node or its answer had vanished. The token is honoured so the host can still stop.
        dispatcher.OnDispatch = async (batch, cancellation) =>
        {
            if (batch.CampaignId == id && batch.BatchNumber == 2) await unblock.Task.WaitAsync(cancellation);
        };
        // The clock is not moved: the reconciler's watches are scheduled by it, and Wolverine fires them by real time.
        var audience = host.Audiences.Everyone("list-" + id.ToString("N"), 100);
        await host.RunAcceptedAsync(new ScheduleCampaign(id, host.Clock.Now.AddSeconds(3), audience, 10, SendingHost.Marketer));

        var sent = await host.WaitForAsync(id, s => s.Status == CampaignStatus.Sent, "the reconciler to settle the stuck batch and the send to complete",
            TimeSpan.FromSeconds(30));

        var facts = new StreamFacts(await host.EventsAsync(id));
        facts.AssertEveryClaimRecordedOnce();
        var (failedAt, failure) = Assert.Single(facts.Failures);
        Assert.Equal(2, failure.BatchNumber);
        Assert.Contains("No result from the provider", failure.Error);
        var claim = facts.Claims.Single(c => c.Claim.BatchNumber == 2).Claim;
        Assert.True(failure.FailedAt - claim.ClaimedAt >= TimeSpan.FromSeconds(2), $"failed {failure.FailedAt - claim.ClaimedAt} after the claim");
        // The stuck batch held back only itself: the other lane claimed every later batch in order and delivered it, none
        // of them waiting for batch 2 to be settled.
        var others = new[] { 1, 3, 4, 5, 6, 7, 8, 9, 10 };
        Assert.Equal(others, facts.Deliveries.Select(d => d.Delivery.BatchNumber).Order());
        Assert.Equal(Enumerable.Range(1, 10), facts.Claims.OrderBy(c => c.Version).Select(c => c.Claim.BatchNumber));
        Assert.All(others, n => Assert.True(facts.Deliveries.Single(d => d.Delivery.BatchNumber == n).Version < failedAt, $"batch {n} waited for batch 2"));
        var progress = ((CampaignPhase.Sent)sent.Phase).Progress;
        Assert.Equal((90L, 10L), (progress.Delivered, progress.Failed));
        Assert.Equal(1, dispatcher.CallsFor(id, 2));

        // The lost call answers after all: it was settled already, so its late result changes nothing.
        var eventsBefore = facts.Events.Count;
        unblock.SetResult();
        await host.WaitUntilIdleAsync();
        Assert.Equal(eventsBefore, (await host.EventsAsync(id)).Count);
        Assert.Equal(0, await host.DeadLettersAsync());
    }

    [Fact]
    public async Task A_batch_retried_for_longer_than_the_claim_timeout_keeps_its_claim_and_is_delivered()
    {
        // Found by an audit: the retry delays (about two minutes by default) and their attempts could outlast ClaimTimeout;
        // the reconciler then recorded the batch as lost with its node while the step was still retrying it, and what the
        // provider delivered afterwards counted as failed.
        var dispatcher = new FakeDispatcher();
        await using var host = await SendingHost.StartAsync(dispatcher, o =>
        {
            o.WithBatchesInFlightPerCampaign(2);
            o.ClaimTimeout = TimeSpan.FromSeconds(2);
            o.ReconcileInterval = TimeSpan.FromMilliseconds(500);
            o.DispatchRetryDelays = [TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(1.5)];
        });
        var id = await host.CreateAsync();
        var attempts = 0;
        dispatcher.OnDispatch = (batch, _) =>
            batch.CampaignId == id && batch.BatchNumber == 2 && Interlocked.Increment(ref attempts) <= 3
                ? throw new TransientDispatchException("421 Try again later.") : ValueTask.CompletedTask;
        var audience = host.Audiences.Everyone("list-" + id.ToString("N"), 100);
        await host.RunAcceptedAsync(new ScheduleCampaign(id, host.Clock.Now.AddSeconds(3), audience, 10, SendingHost.Marketer));

        var sent = await host.WaitForAsync(id, s => s.Status == CampaignStatus.Sent, "the send to complete", TimeSpan.FromSeconds(30));
        await host.WaitUntilIdleAsync();

        var facts = new StreamFacts(await host.EventsAsync(id));
        Assert.Empty(facts.Failures);
        facts.AssertEveryClaimRecordedOnce();
        Assert.Equal(4, dispatcher.CallsFor(id, 2));
        Assert.Equal((100L, 0L), (((CampaignPhase.Sent)sent.Phase).Progress is var p ? (p.Delivered, p.Failed) : default));
        Assert.Equal(0, await host.DeadLettersAsync());
    }

    [Fact]
    public async Task A_lost_claim_whose_outcomes_the_dispatch_step_wrote_is_recorded_as_they_say_not_as_failed()
    {
        // The node that sent batch 2 wrote its recipient outcomes (the provider took it) and died before the batch's record:
        // the reconciler must record it as delivered, as the recipients say, not as a lost batch of unknown fate.
        var dispatcher = new FakeDispatcher();
        var unblock = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await StartWithTwoLanesAndAShortClaimTimeoutAsync(dispatcher);
        var id = await SendingWithBatch2HeldAsync(host, dispatcher, unblock);
        await using (var session = host.Store.LightweightSession(SendingHost.Tenant))
        {
            var batch = (await session.LoadAsync<CampaignBatch>(CampaignBatch.IdFor(id, 2)))!;
            session.RecordBatchOutcome(batch, RecipientOutcome.Delivered, 0, [], null, host.Clock.Now);
            await session.SaveChangesAsync();
        }

        var sent = await host.WaitForAsync(id, s => s.Status == CampaignStatus.Sent, "the reconciler to settle the stuck batch and the send to complete",
            TimeSpan.FromSeconds(30));

        var facts = new StreamFacts(await host.EventsAsync(id));
        facts.AssertEveryClaimRecordedOnce();
        Assert.Empty(facts.Failures);
        Assert.Contains(facts.Deliveries, d => d.Delivery.BatchNumber == 2 && d.Delivery.Delivered == 10);
        var progress = ((CampaignPhase.Sent)sent.Phase).Progress;
        Assert.Equal((100L, 0L), (progress.Delivered, progress.Failed));
        var (failed, delivered) = (await host.OutcomesAsync(id, RecipientOutcome.Failed), await host.OutcomesAsync(id, RecipientOutcome.Delivered));
        Assert.Equal((0L, 100L), (failed.Total, delivered.Total));
        unblock.SetResult();
        await host.WaitUntilIdleAsync();
        Assert.Equal(0, await host.DeadLettersAsync());
    }
}

public sealed class the_pipelines_stored_reasons
{
    [Fact]
    public void read_the_same_whatever_the_nodes_culture()
    {
        // They are stored in events: a node in Germany wrote "2,5 s" where another wrote "2.5 s".
        var culture = System.Globalization.CultureInfo.CurrentCulture;
        System.Globalization.CultureInfo.CurrentCulture = new System.Globalization.CultureInfo("de-DE");
        try
        {
            Assert.StartsWith("No result from the provider 2.5 s after the claim (claimed at 2027-01-02T03:04:05.0000000+00:00)",
                ReconcilingHandler.LostReason(TimeSpan.FromSeconds(2.5), new DateTimeOffset(2027, 1, 2, 3, 4, 5, TimeSpan.Zero)));
            Assert.Equal("The provider kept asking to slow down for 1200 s (asked for 7.5 s more; at most 1200 s are waited): busy",
                SendingHandler.ThrottledTooLong(TimeSpan.FromSeconds(1200), TimeSpan.FromSeconds(7.5), TimeSpan.FromSeconds(1200), "busy"));
            // Found by an audit: a first Retry-After past the limit read "kept asking to slow down for 0 s".
            Assert.Equal("The provider asked to wait 60 s, more than the 30 s waited at most: busy",
                SendingHandler.ThrottledTooLong(TimeSpan.Zero, TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(30), "busy"));
        }
        finally
        {
            System.Globalization.CultureInfo.CurrentCulture = culture;
        }
    }

    [Fact]
    public async Task A_schedule_whose_next_page_step_was_lost_is_prepared_to_the_end_and_sent()
    {
        // A database-restart test left a campaign Scheduling for good: three pages prepared, and no step for the fourth.
        // Here the second page's step is lost outright (dead-lettered): the schedule's watch sends it again.
        var lose = new FailOnce(e => e is SchedulingProgressed { RecipientsPrepared: 20 });
        await using var host = await SendingHost.StartAsync(configure: o =>
        {
            o.BatchesPerPage = 2;
            o.ReconcileInterval = TimeSpan.FromMilliseconds(500);
        }, services: s => s.ConfigureMarten(o => o.Listeners.Add(lose)));

        var id = await ScheduledAndSentDespiteTheLossAsync(host, lose);

        var progress = (await host.EventsAsync(id)).Select(e => e.Data).OfType<SchedulingProgressed>().Select(p => p.RecipientsPrepared).ToArray();
        Assert.Equal([10L, 20L, 30L], progress); // no page prepared twice
    }

    [Fact]
    public async Task A_schedule_whose_start_was_lost_starts_one_interval_after_its_send_time()
    {
        var lose = new FailOnce(e => e is SendStarted);
        await using var host = await SendingHost.StartAsync(configure: o => o.ReconcileInterval = TimeSpan.FromMilliseconds(500),
            services: s => s.ConfigureMarten(o => o.Listeners.Add(lose)));

        var id = await ScheduledAndSentDespiteTheLossAsync(host, lose);

        Assert.Single((await host.EventsAsync(id)).Select(e => e.Data).OfType<SendStarted>());
    }

    [Fact]
    public async Task A_resumed_schedule_whose_start_was_lost_still_starts()
    {
        // The pause ends the schedule's watch; the resume watches it again.
        var lose = new FailOnce(e => e is SendStarted);
        await using var host = await SendingHost.StartAsync(configure: o => o.ReconcileInterval = TimeSpan.FromMilliseconds(500),
            services: s => s.ConfigureMarten(o => o.Listeners.Add(lose)));
        var id = await host.ScheduledAsync(30, 5, TimeSpan.FromSeconds(3));
        await host.WaitForAsync(id, s => s.Status == CampaignStatus.Scheduled, "scheduling to finish");
        await host.RunAcceptedAsync(new PauseSchedule(id, SendingHost.Marketer));
        await Task.Delay(TimeSpan.FromSeconds(4)); // past the send time and one interval: the watch looks, finds it paused, and ends

        await host.RunAcceptedAsync(new ResumeSchedule(id, SendingHost.Marketer));
        await host.WaitForAsync(id, s => s.Status == CampaignStatus.Sent, "the send to finish", TimeSpan.FromSeconds(30));

        Assert.True(lose.Thrown, "the start was not lost");
        Assert.Equal(30L, (await host.OutcomesAsync(id, RecipientOutcome.Delivered)).Total);
    }

    /// <summary>30 recipients in batches of 5, scheduled to send in 2 s, sent to every one of them although <paramref name="lose"/> lost a step.</summary>
    private static async Task<Guid> ScheduledAndSentDespiteTheLossAsync(SendingHost host, FailOnce lose)
    {
        var id = await host.CreateAsync();
        var audience = host.Audiences.Everyone("list-" + id.ToString("N"), 30);
        await host.RunAcceptedAsync(new ScheduleCampaign(id, host.Clock.Now.AddSeconds(2), audience, 5, SendingHost.Marketer));

        await host.WaitForAsync(id, s => s.Status == CampaignStatus.Sent, "the send to finish", TimeSpan.FromSeconds(30));

        Assert.True(lose.Thrown, "no step was lost");
        Assert.Equal(1, await host.DeadLettersAsync());
        Assert.Equal(30L, (await host.OutcomesAsync(id, RecipientOutcome.Delivered)).Total);
        return id;
    }

    /// <summary>
    /// Fails, once, before it is saved, the first SaveChanges that appends an event <c>fail</c> picks, with an error the
    /// steps never retry: the step that made it goes to the dead letters, as a lost step would never run.
    /// </summary>
    private sealed class FailOnce(Func<object, bool> fail) : DocumentSessionListenerBase
    {
        private int _thrown;
        public bool Thrown => _thrown == 1;

        public override Task BeforeSaveChangesAsync(IDocumentSession session, CancellationToken token) =>
            session.PendingChanges.Streams().SelectMany(s => s.Events).Any(e => fail(e.Data)) && Interlocked.Exchange(ref _thrown, 1) == 0
                ? throw new CampaignRejectedException(new Rejection(RejectionCode.InvalidCount, "Lost by the test."))
                : Task.CompletedTask;
    }
}
