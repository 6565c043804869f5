using System.Reflection;
using JasperFx.Events.Projections;
using Marten;
using Wolverine.Runtime.Handlers;
using Xunit.Abstractions;

namespace EventSourcedCampaigns.Sending.Tests;

public sealed class CancelTests(ITestOutputHelper output)
{
    private static CancelCampaign Cancel(Guid id) => new(id, SendingHost.Marketer, new CancelReason(CancelReasonCode.WrongAudience, "Wrong list"));

    [Fact]
    public async Task The_cancel_handler_is_built_when_the_node_starts_not_by_the_first_cancel()
    {
        // Wolverine generates and compiles a handler on its first message: the first cancel after a start waited for it.
        await using var host = await SendingHost.StartAsync();
        var chain = host.Runtime.Handlers.ChainFor<CancelCampaign>() ?? throw new InvalidOperationException("No handler for CancelCampaign.");
        // A chain keeps its generated code once built; Wolverine has no public flag for it.
        var generated = typeof(HandlerChain).GetProperty("SourceCode", BindingFlags.NonPublic | BindingFlags.Instance)
                        ?? throw new InvalidOperationException("Wolverine's HandlerChain no longer has SourceCode: find another way to tell a built handler.");

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (generated.GetValue(chain) is null && DateTime.UtcNow < deadline) await Task.Delay(50);

        Assert.NotNull(generated.GetValue(chain));
    }

    [Fact]
    public async Task Cancelling_while_a_million_recipient_audience_is_being_prepared_stops_scheduling_and_sends_nothing()
    {
        await using var host = await SendingHost.StartAsync();
        var id = await host.CreateAsync();
        var audience = host.Audiences.Everyone("everyone-" + id.ToString("N"), 1_000_000);
        await host.RunAcceptedAsync(new ScheduleCampaign(id, host.Clock.Now.AddHours(1), audience, 1_000, SendingHost.Marketer));
        await host.WaitForAsync(id, s => s.Phase is CampaignPhase.Scheduling { Prepared: > 0 }, "the first page to be prepared");

        var result = await host.RunAcceptedAsync(Cancel(id));
        await host.WaitUntilIdleAsync();

        Assert.Equal(CampaignStatus.Cancelled, result.State!.Status);
        var state = await host.StateAsync(id);
        Assert.Equal(CampaignStatus.Cancelled, state.Status);
        var facts = new StreamFacts(await host.EventsAsync(id));
        var cancelledAt = facts.VersionOf<CancelRequested>()!.Value;
        var progress = facts.Events.Where(e => e.Data is SchedulingProgressed).ToList();
        Assert.NotEmpty(progress);
        Assert.All(progress, p => Assert.True(p.Version < cancelledAt, "scheduling progressed after the cancel"));
        Assert.True(((SchedulingProgressed)progress[^1].Data).RecipientsPrepared < 1_000_000);
        Assert.Equal(1_000_000, ((SchedulingProgressed)progress[^1].Data).RecipientsTotal);
        Assert.Equal(0, facts.Count<SchedulingCompleted>());
        Assert.Equal(0, facts.Count<SendStarted>());
        Assert.Empty(facts.Claims);
        Assert.Equal(0, host.Dispatcher.Calls);
        Assert.Equal(0, await host.BatchDocumentsAsync(id));
        Assert.Equal(0, await host.DeadLettersAsync());
    }

    [Fact]
    public async Task Cancelling_a_scheduled_campaign_before_its_send_time_makes_the_scheduled_start_do_nothing()
    {
        // The reconciler's watch outlives the control campaign's send by up to one interval: keep it short so the
        // inbox (scheduled messages included) goes idle soon after.
        await using var host = await SendingHost.StartAsync(configure: o => o.ReconcileInterval = TimeSpan.FromMilliseconds(250));
        // The cancel follows the scheduling at once (the control is scheduled after it): it must commit before the
        // send time, 3 s away, even on a slow machine.
        var cancelled = await host.ScheduledAsync(250, 100, TimeSpan.FromSeconds(3));
        var result = await host.RunAcceptedAsync(Cancel(cancelled));
        Assert.Equal(CampaignStatus.Cancelled, result.State!.Status);
        var control = await host.ScheduledAsync(250, 100, TimeSpan.FromSeconds(3));

        // The control campaign's start fires from the same durable scheduled messages, later than the cancelled one's,
        // so once it is sent (and the inbox is empty) the cancelled campaign's start has run too.
        await host.WaitForAsync(control, s => s.Status == CampaignStatus.Sent, "the control campaign to be sent at its time");
        await host.WaitUntilIdleAsync(includingScheduled: true);

        var facts = new StreamFacts(await host.EventsAsync(cancelled));
        Assert.Equal(CampaignStatus.Cancelled, (await host.StateAsync(cancelled)).Status);
        Assert.Equal(0, facts.Count<SendStarted>());
        Assert.Empty(facts.Claims);
        Assert.Equal(0, host.Dispatcher.CallsFor(cancelled));
        Assert.Equal(3, host.Dispatcher.CallsFor(control));
    }

    [Fact]
    public async Task Cancelling_a_fully_sent_campaign_is_refused_changes_nothing_and_is_audited()
    {
        await using var host = await SendingHost.StartAsync(readModels: ProjectionLifecycle.Inline);
        var id = await host.SendingAsync(300, 100);
        var sent = await host.WaitForAsync(id, s => s.Status == CampaignStatus.Sent, "the send to complete");
        var before = await host.EventsAsync(id);

        var result = await host.RunAsync(Cancel(id));

        Assert.True(result.IsRejected);
        Assert.Equal(RejectionCode.NotCancellableSent, result.Decision.Rejection!.Code);
        Assert.Contains("fully sent", result.Decision.Rejection.Message);
        var after = await host.EventsAsync(id);
        Assert.Equal(before.Count + 1, after.Count);
        var rejected = Assert.IsType<CancelRejected>(after[^1].Data);
        Assert.Equal(CampaignStatus.Sent, rejected.StatusAtRequest);
        var now = await host.StateAsync(id);
        Assert.Equal((CampaignStatus.Sent, sent.LastChangedAt, 300L), (now.Status, now.LastChangedAt, ((CampaignPhase.Sent)now.Phase).Progress.Delivered));
        await using var session = host.Store.QuerySession(SendingHost.Tenant);
        var audit = await session.QueryCancellationAuditAsync(new CancellationAuditQuery(CampaignId: id));
        var entry = Assert.Single(audit.Items);
        Assert.Equal(RejectionCode.NotCancellableSent, entry.RejectionCode);
        Assert.Equal(SendingHost.Marketer.Id, entry.ActorId);
    }

    [Fact]
    public async Task Cancelling_mid_send_200_times_at_random_moments_never_claims_a_batch_after_the_cancel_commits()
    {
        const int Trials = 200;
        var lanes = new System.Collections.Concurrent.ConcurrentDictionary<Guid, int>();
        var triggers = new System.Collections.Concurrent.ConcurrentDictionary<Guid, CancelTrigger>();
        var dispatcher = new FakeDispatcher();
        await using var host = await SendingHost.StartAsync(dispatcher, o =>
        {
            o.BatchesInFlightPerCampaign = campaign => lanes[campaign.Id];
            o.MaxParallelDispatches = 16;
        });
        dispatcher.OnDispatch = async (batch, _) =>
        {
            // The k-th batch handed to the provider cancels its campaign while it is itself with the provider,
            // after a random pause while the other lanes keep going.
            if (!triggers.TryGetValue(batch.CampaignId, out var trigger) || Interlocked.Increment(ref trigger.Dispatched) != trigger.CancelAt) return;
            if (trigger.PauseMicroseconds > 0) await Task.Delay(TimeSpan.FromMicroseconds(trigger.PauseMicroseconds));
            trigger.Result = await host.RunAsync(Cancel(batch.CampaignId));
            trigger.CommittedBy = System.Diagnostics.Stopwatch.GetTimestamp();
        };

        var random = new Random(20261102);
        var stopTimes = new List<TimeSpan>();
        for (var round = 0; round < Trials / 4; round++)
        {
            var trials = Enumerable.Range(0, 4).Select(_ => new Trial(
                Batches: random.Next(3, 10), BatchSize: random.Next(1, 6), Lanes: random.Next(1, 17),
                CancelAtFraction: random.NextDouble(), PauseMicroseconds: random.Next(0, 3) * random.Next(0, 2_000))).ToList();
            // Schedule the round's campaigns, then jump the clock to their send time once, then race them.
            var ids = await Task.WhenAll(trials.Select(t => host.ScheduledAsync((long)t.Batches * t.BatchSize, t.BatchSize, TimeSpan.FromMinutes(1))));
            host.Clock.Advance(TimeSpan.FromMinutes(1));
            var results = await Task.WhenAll(trials.Select((t, i) => RunTrialAsync(host, ids[i], t, lanes, triggers)));
            stopTimes.AddRange(results);
        }
        stopTimes.Sort();
        output.WriteLine($"{Trials} trials; time to stop p50 {stopTimes[stopTimes.Count / 2].TotalMilliseconds:0.0} ms, max {stopTimes[^1].TotalMilliseconds:0.0} ms");
        Assert.Equal(0, await host.DeadLettersAsync());
    }

    [Fact]
    public async Task Cancelling_mid_send_200_times_with_16_lanes_and_a_flaky_provider_starts_no_provider_call_after_the_cancel_commits()
    {
        const int Trials = 200, Parallel = 4, BatchSize = 10;
        var dispatcher = new FakeDispatcher(new FakeDispatcherOptions(
            Latency: TimeSpan.FromMilliseconds(1), Jitter: TimeSpan.FromMilliseconds(4), TransientFailureRate: 0.3, Seed: 7));
        var triggers = new System.Collections.Concurrent.ConcurrentDictionary<Guid, CallTrigger>();
        await using var host = await SendingHost.StartAsync(dispatcher, o =>
        {
            o.WithBatchesInFlightPerCampaign(16);
            o.MaxParallelDispatches = 16;
            o.DispatchRetryDelays = [TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(40)];
            o.CancelCheckInterval = TimeSpan.FromMilliseconds(10);
        });
        // The k-th provider call of a campaign (retries included) fires its trigger; the trial then cancels from
        // outside the provider after a random pause, while lanes are with the provider, in backoff or queued.
        dispatcher.OnDispatch = (batch, _) =>
        {
            if (triggers.TryGetValue(batch.CampaignId, out var trigger) && Interlocked.Increment(ref trigger.Calls) == trigger.FireAt)
                trigger.Fired.TrySetResult();
            return ValueTask.CompletedTask;
        };

        var random = new Random(20261129);
        var outcomes = new List<TrialOutcome>();
        for (var round = 0; round < Trials / Parallel; round++)
        {
            var trials = Enumerable.Range(0, Parallel).Select(_ =>
            {
                var batches = random.Next(20, 41);
                return new FlakyTrial(batches, FireAtCall: random.Next(1, batches + 1), PauseMicroseconds: random.Next(0, 3) * random.Next(0, 5_000));
            }).ToList();
            var ids = await Task.WhenAll(trials.Select(t => host.ScheduledAsync((long)t.Batches * BatchSize, BatchSize, TimeSpan.FromMinutes(1))));
            host.Clock.Advance(TimeSpan.FromMinutes(1));
            outcomes.AddRange(await Task.WhenAll(trials.Select((t, i) => RunFlakyTrialAsync(host, ids[i], t, BatchSize, triggers))));
        }

        var cancelled = outcomes.Where(o => o.Status == CampaignStatus.CancelledDuringSend).ToList();
        var stops = cancelled.Select(o => o.TimeToStop).Order().ToList();
        output.WriteLine($"{Trials} trials: {cancelled.Count} cancelled during send, {Trials - cancelled.Count} sent (cancel too late); " +
                         $"provider calls {dispatcher.Calls}, started after the cancel committed: {outcomes.Sum(o => o.CallsAfterCancel)}; " +
                         $"released batches {outcomes.Sum(o => o.Released)} in {outcomes.Count(o => o.Released > 0)} trials; " +
                         $"failed batches (out of retries) {outcomes.Sum(o => o.FailedBatches)}");
        if (stops.Count > 0)
            output.WriteLine($"cancel → Cancelled During Send: p50 {stops[stops.Count / 2].TotalMilliseconds:0.0} ms, " +
                             $"p95 {stops[(int)(stops.Count * 0.95)].TotalMilliseconds:0.0} ms, max {stops[^1].TotalMilliseconds:0.0} ms");
        Assert.Equal(0, outcomes.Sum(o => o.CallsAfterCancel));
        Assert.True(cancelled.Count >= Trials / 2, $"only {cancelled.Count} of {Trials} trials were cancelled mid-send: the test lost its point");
        Assert.True(outcomes.Sum(o => o.Released) > 0, "no batch was ever released: the release path did not run");
        Assert.Equal(0, await host.DeadLettersAsync());
    }

    private sealed record FlakyTrial(int Batches, int FireAtCall, int PauseMicroseconds);

    private sealed record TrialOutcome(CampaignStatus Status, int CallsAfterCancel, int Released, int FailedBatches, TimeSpan TimeToStop);

    private sealed class CallTrigger(int fireAt)
    {
        public int Calls;
        public int FireAt { get; } = fireAt;
        public TaskCompletionSource Fired { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private static async Task<TrialOutcome> RunFlakyTrialAsync(SendingHost host, Guid id, FlakyTrial trial, int batchSize,
        System.Collections.Concurrent.ConcurrentDictionary<Guid, CallTrigger> triggers)
    {
        var context = $"trial {trial} campaign {id}";
        var recipients = (long)trial.Batches * batchSize;
        var trigger = triggers[id] = new CallTrigger(trial.FireAtCall);
        await host.RunAcceptedAsync(new StartSend(id));
        // Every batch gets at least one call unless the campaign is cancelled, so the k-th call (k ≤ batches) comes.
        await trigger.Fired.Task.WaitAsync(TimeSpan.FromSeconds(60));
        if (trial.PauseMicroseconds > 0) await Task.Delay(TimeSpan.FromMicroseconds(trial.PauseMicroseconds));
        var result = await host.RunAsync(Cancel(id));
        var committedBy = System.Diagnostics.Stopwatch.GetTimestamp(); // the cancel committed before its command returned

        var final = await host.WaitForAsync(id, s => s.IsFinished, $"{context} to finish");
        var facts = new StreamFacts(await host.EventsAsync(id));
        facts.AssertEveryClaimRecordedOnce();
        var callsAfter = host.Dispatcher.CallsStartedAfter(id, committedBy);
        Assert.True(callsAfter.Count == 0,
            $"{context}: {callsAfter.Count} provider call(s) started after the cancel committed: " + string.Join(", ", callsAfter.Select(c =>
                $"batch {c.BatchNumber} attempt {c.Attempt} {(c.StartedAt - committedBy) * 1_000.0 / System.Diagnostics.Stopwatch.Frequency:0.00} ms after")));

        // Totals add up, from the events: delivered + failed + not sent = recipients.
        var delivered = facts.Deliveries.Sum(d => (long)d.Delivery.Delivered);
        var failed = facts.Deliveries.Sum(d => (long)d.Delivery.Failed) + facts.Failures.Sum(f => (long)f.Failure.Recipients);
        var released = facts.Releases.Sum(r => (long)r.Release.Recipients);
        var neverClaimed = recipients - facts.Claims.Sum(c => (long)c.Claim.Recipients);
        Assert.Equal(recipients, delivered + failed + released + neverClaimed);
        Assert.All(facts.Failures, f => Assert.Contains("timed out", f.Failure.Error)); // only the provider's transient failures, out of retries

        if (result.IsRejected)
        {
            // Too late: the last batch was recorded before the cancel, which is refused.
            Assert.Equal(RejectionCode.NotCancellableSent, result.Decision.Rejection!.Code);
            Assert.True(final.Status == CampaignStatus.Sent, $"{context}: the cancel was refused but the campaign ended {final.Status}");
            Assert.Empty(facts.Releases);
            Assert.Equal(trial.Batches, facts.Claims.Count());
            return new TrialOutcome(final.Status, callsAfter.Count, 0, facts.Failures.Count(), TimeSpan.Zero);
        }

        Assert.True(final.Status == CampaignStatus.CancelledDuringSend, $"{context}: ended {final.Status}");
        var cancelVersion = facts.VersionOf<CancelRequested>()!.Value;
        Assert.DoesNotContain(facts.Claims, c => c.Version > cancelVersion);
        Assert.All(facts.Releases, r => Assert.True(r.Version > cancelVersion, $"{context}: batch {r.Release.BatchNumber} released before the cancel"));
        var request = facts.Events.Select(e => e.Data).OfType<CancelRequested>().Single();
        Assert.Equal(request.BatchesInFlight, facts.Records.Count(r => r.AfterRequest) + facts.Releases.Count());
        var stopped = facts.Events.Select(e => e.Data).OfType<CancelledDuringSend>().Single();
        Assert.Equal(facts.Events.Count, facts.Events.ToList().FindIndex(e => e.Data is CancelledDuringSend) + 1);
        Assert.Equal(recipients, stopped.DeliveredBeforeRequest + stopped.DeliveredAfterRequest + stopped.Failed + stopped.NotSent);
        Assert.Equal(delivered, stopped.DeliveredBeforeRequest + stopped.DeliveredAfterRequest);
        Assert.Equal(failed, stopped.Failed);
        Assert.Equal(released + neverClaimed, stopped.NotSent);
        triggers.TryRemove(id, out _);
        return new TrialOutcome(final.Status, callsAfter.Count, facts.Releases.Count(), facts.Failures.Count(), stopped.TimeToStop);
    }

    [Fact]
    public async Task A_batch_waiting_to_retry_when_the_cancel_commits_is_released_without_waiting_out_its_backoff()
    {
        var dispatcher = new FakeDispatcher(new FakeDispatcherOptions(TransientFailureRate: 1.0));
        await using var host = await SendingHost.StartAsync(dispatcher, o =>
        {
            o.WithBatchesInFlightPerCampaign(4);
            o.DispatchRetryDelays = [TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30)];
        });
        var id = await host.SendingAsync(200, 10);
        // Each of the 4 claimed batches failed its first call and now waits 30 s before the next.
        await WaitUntilAsync(() => dispatcher.CallsFor(id) >= 4, "the 4 batches in flight to fail their first call");

        var result = await host.RunAcceptedAsync(Cancel(id));
        var committedBy = System.Diagnostics.Stopwatch.GetTimestamp();
        Assert.Equal(CampaignStatus.Cancelling, result.State!.Status);

        // A liveness bound, far below the 30 s backoff (not a speed figure).
        var stopped = await host.WaitForAsync(id, s => s.IsFinished, "the batches in backoff to be released", TimeSpan.FromSeconds(10));
        Assert.Equal(CampaignStatus.CancelledDuringSend, stopped.Status);
        var facts = new StreamFacts(await host.EventsAsync(id));
        facts.AssertEveryClaimRecordedOnce();
        Assert.Equal([1, 2, 3, 4], facts.Releases.Select(r => r.Release.BatchNumber).Order());
        Assert.Empty(facts.Deliveries);
        Assert.Empty(facts.Failures);
        Assert.Empty(dispatcher.CallsStartedAfter(id, committedBy));
        Assert.Equal(4, dispatcher.CallsFor(id));
        var end = facts.Events.Select(e => e.Data).OfType<CancelledDuringSend>().Single();
        Assert.Equal(0, end.DeliveredBeforeRequest + end.DeliveredAfterRequest + end.Failed);
        Assert.Equal(200, end.NotSent);
        output.WriteLine($"cancel → Cancelled During Send with 4 batches in a 30 s backoff: {end.TimeToStop.TotalMilliseconds:0} ms");
        await host.WaitUntilIdleAsync();
        Assert.Equal(0, await host.DeadLettersAsync());
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what, TimeSpan? limit = null)
    {
        var deadline = DateTime.UtcNow + (limit ?? TimeSpan.FromSeconds(30));
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Gave up waiting for {what}.");
            await Task.Delay(20);
        }
    }

    private sealed record Trial(int Batches, int BatchSize, int Lanes, double CancelAtFraction, int PauseMicroseconds);

    private sealed class CancelTrigger(int cancelAt, int pauseMicroseconds)
    {
        public int Dispatched;
        public int CancelAt { get; } = cancelAt;
        public int PauseMicroseconds { get; } = pauseMicroseconds;
        public CommandResult? Result { get; set; }
        /// <summary>Taken once the cancel command returned, so after its commit.</summary>
        public long CommittedBy { get; set; }
    }

    private static async Task<TimeSpan> RunTrialAsync(SendingHost host, Guid id, Trial trial,
        System.Collections.Concurrent.ConcurrentDictionary<Guid, int> lanes, System.Collections.Concurrent.ConcurrentDictionary<Guid, CancelTrigger> triggers)
    {
        var recipients = (long)trial.Batches * trial.BatchSize;
        lanes[id] = trial.Lanes;
        var trigger = triggers[id] = new CancelTrigger(1 + (int)(trial.CancelAtFraction * (trial.Batches - 1)), trial.PauseMicroseconds);
        await host.RunAcceptedAsync(new StartSend(id));

        var final = await host.WaitForAsync(id, s => s.IsFinished, "the cancel to take effect");

        var context = $"trial {trial} campaign {id}";
        Assert.True(final.Status == CampaignStatus.CancelledDuringSend, $"{context}: ended {final.Status}");
        Assert.NotNull(trigger.Result);
        Assert.False(trigger.Result!.IsRejected, context);
        var facts = new StreamFacts(await host.EventsAsync(id));
        var cancelVersion = facts.VersionOf<CancelRequested>() ?? throw new Xunit.Sdk.XunitException($"{context}: no CancelRequested");
        // The linearization point: no claim was committed after the cancel.
        Assert.DoesNotContain(facts.Claims, c => c.Version > cancelVersion);
        // Batches in flight at the cancel finished and were flagged as after the request; earlier ones were not.
        Assert.All(facts.Records, r => Assert.Equal(r.Version > cancelVersion, r.AfterRequest));
        var request = facts.Events.Select(e => e.Data).OfType<CancelRequested>().Single();
        // A batch claimed before the cancel but not yet at the provider is released, never sent.
        Assert.All(facts.Releases, r => Assert.True(r.Version > cancelVersion, $"{context}: batch {r.Release.BatchNumber} released before the cancel"));
        Assert.Equal(request.BatchesInFlight, facts.Records.Count(r => r.AfterRequest) + facts.Releases.Count());
        Assert.True(request.BatchesInFlight >= 1, $"{context}: the cancelling batch was in flight");
        facts.AssertEveryClaimRecordedOnce();
        Assert.Equal(facts.Claims.Count() - facts.Releases.Count(), host.Dispatcher.CallsFor(id));
        Assert.Empty(host.Dispatcher.CallsStartedAfter(id, trigger.CommittedBy));
        // Totals add up: delivered before + after + not sent = recipients.
        var stopped = facts.Events.Select(e => e.Data).OfType<CancelledDuringSend>().Single();
        Assert.Equal(facts.Events.Count, facts.Events.ToList().FindIndex(e => e.Data is CancelledDuringSend) + 1);
        Assert.Equal(recipients, stopped.DeliveredBeforeRequest + stopped.DeliveredAfterRequest + stopped.Failed + stopped.NotSent);
        Assert.Equal(facts.Records.Where(r => r.AfterRequest).Sum(r => r.Delivered), stopped.DeliveredAfterRequest);
        Assert.Equal(facts.Records.Where(r => !r.AfterRequest).Sum(r => r.Delivered), stopped.DeliveredBeforeRequest);
        Assert.Equal(recipients - facts.Claims.Sum(c => (long)c.Claim.Recipients) + facts.Releases.Sum(r => (long)r.Release.Recipients), stopped.NotSent);
        lanes.TryRemove(id, out _);
        triggers.TryRemove(id, out _);
        return stopped.TimeToStop;
    }

    [Fact]
    public async Task The_empty_campaign_id_is_refused_by_the_rules_and_a_cancel_of_it_is_audited_like_any_unknown_campaign()
    {
        // Found by an audit: Marten loads no stream by the empty id, and the door threw after 6 s of retries instead.
        await using var host = await SendingHost.StartAsync();
        var create = await host.RunAsync(new CreateCampaign(Guid.Empty, "Nameless", Channel.Email, [new Variant("A", "Hi", "-30%", 100)], SendingHost.Marketer));
        Assert.Equal(RejectionCode.InvalidCampaignId, create.Decision.Rejection?.Code);
        var schedule = await host.RunAsync(new ScheduleCampaign(Guid.Empty, host.Clock.Now.AddDays(1), new Audience(["newsletter"], []), 100, SendingHost.Marketer));
        Assert.Equal(RejectionCode.CampaignNotFound, schedule.Decision.Rejection?.Code);

        var cancel = await host.RunAsync(new CancelCampaign(Guid.Empty, SendingHost.Marketer, new CancelReason(CancelReasonCode.Other)));
        Assert.Equal(RejectionCode.CampaignNotFound, cancel.Decision.Rejection?.Code);
        await using var session = host.Store.QuerySession(SendingHost.Tenant);
        var audited = Assert.Single(await session.Events.FetchStreamAsync(AuditChain.TenantAuditStreamId(SendingHost.Tenant)));
        var refused = Assert.IsType<CancelRejected>(audited.Data);
        Assert.Equal((Guid.Empty, RejectionCode.CampaignNotFound, 1L), (refused.CampaignId, refused.Code, refused.Audit?.Position));
        Assert.Equal(audited.Sequence, cancel.Sequence);
    }

    /// <summary>
    /// A cancel's transaction sends no NOTIFY: PostgreSQL commits notifying transactions one at a time, each through its
    /// flush, so the cancel would wait behind the lanes' commits; its session wakes the daemon once it has committed
    /// (the_async_daemon_woken_by_appends). A pause notifies inside its transaction, as every other append does.
    /// </summary>
    [Fact]
    public async Task A_cancel_wakes_the_read_models_after_its_commit_not_inside_its_transaction()
    {
        var statements = new RecordedStatements();
        await using var host = await SendingHost.StartAsync(services: s => s.ConfigureMarten(o => o.Logger(statements)));
        var id = await host.ScheduledAsync(10, 5, TimeSpan.FromHours(1));

        statements.Clear();
        await host.RunAcceptedAsync(new PauseSchedule(id, SendingHost.Marketer));
        var pause = statements.Sessions.Where(Appends).ToList();
        statements.Clear();
        await host.RunAcceptedAsync(Cancel(id));
        // The cancel's append, with its audit chain's new head.
        var cancel = Assert.Single(statements.Sessions, s => Appends(s) && s.Any(sql => sql.Contains("mt_doc_auditchainhead", StringComparison.Ordinal)));

        Assert.Contains(pause, s => s.Any(Notifies));
        Assert.DoesNotContain(cancel, Notifies);

        static bool Appends(IReadOnlyList<string> session) => session.Any(sql => sql.Contains("mt_quick_append_events", StringComparison.Ordinal));
        static bool Notifies(string sql) => sql.Contains(global::Marten.Events.Daemon.HighWater.PostgresqlListenWakeup.DefaultChannel, StringComparison.Ordinal);
    }
}
