using JasperFx.Events.Projections;
using Xunit.Abstractions;

namespace EventSourcedCampaigns.Sending.Tests;

public sealed class CancelTests(ITestOutputHelper output)
{
    private static CancelCampaign Cancel(Guid id) => new(id, SendingHost.Marketer, new CancelReason(CancelReasonCode.WrongAudience, "Wrong list"));

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
        await using var host = await SendingHost.StartAsync();
        var cancelled = await host.ScheduledAsync(250, 100, TimeSpan.FromSeconds(3));
        var control = await host.ScheduledAsync(250, 100, TimeSpan.FromSeconds(3));

        var result = await host.RunAcceptedAsync(Cancel(cancelled));
        Assert.Equal(CampaignStatus.Cancelled, result.State!.Status);

        // The control campaign's start fires from the same durable scheduled messages, so once it is sent
        // (and the inbox is empty) the cancelled campaign's start has run too.
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

    private sealed record Trial(int Batches, int BatchSize, int Lanes, double CancelAtFraction, int PauseMicroseconds);

    private sealed class CancelTrigger(int cancelAt, int pauseMicroseconds)
    {
        public int Dispatched;
        public int CancelAt { get; } = cancelAt;
        public int PauseMicroseconds { get; } = pauseMicroseconds;
        public CommandResult? Result { get; set; }
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
        Assert.Equal(request.BatchesInFlight, facts.Records.Count(r => r.AfterRequest));
        Assert.True(request.BatchesInFlight >= 1, $"{context}: the cancelling batch was in flight");
        facts.AssertEveryClaimRecordedOnce();
        Assert.Equal(facts.Claims.Count(), host.Dispatcher.CallsFor(id));
        // Totals add up: delivered before + after + not sent = recipients.
        var stopped = facts.Events.Select(e => e.Data).OfType<CancelledDuringSend>().Single();
        Assert.Equal(facts.Events.Count, facts.Events.ToList().FindIndex(e => e.Data is CancelledDuringSend) + 1);
        Assert.Equal(recipients, stopped.DeliveredBeforeRequest + stopped.DeliveredAfterRequest + stopped.Failed + stopped.NotSent);
        Assert.Equal(facts.Records.Where(r => r.AfterRequest).Sum(r => r.Delivered), stopped.DeliveredAfterRequest);
        Assert.Equal(facts.Records.Where(r => !r.AfterRequest).Sum(r => r.Delivered), stopped.DeliveredBeforeRequest);
        Assert.Equal(recipients - facts.Claims.Sum(c => (long)c.Claim.Recipients), stopped.NotSent);
        lanes.TryRemove(id, out _);
        triggers.TryRemove(id, out _);
        return stopped.TimeToStop;
    }
}
