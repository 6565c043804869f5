using System.Diagnostics;

namespace EventSourcedCampaigns.Sending.Tests;

public sealed class CrashTests
{
    [Fact]
    public async Task A_sending_node_killed_with_SIGKILL_mid_send_is_resumed_by_another_and_every_batch_is_recorded_once()
    {
        var schema = TestDatabase.UniqueSchema("sigkill");
        Guid id;
        // Schedule on one node (the send time is seconds away), then stop it cleanly: the scheduled start waits in PostgreSQL.
        await using (var scheduler = await SendingHost.StartAsync(schema: schema))
            id = await scheduler.ScheduledAsync(recipients: 2_000, batchSize: 20, sendIn: TimeSpan.FromSeconds(2));

        using var worker = StartWorker(schema, latencyMs: 30, lanes: 4, answered: 20);
        try
        {
            await WaitForAsync(schema, id, s => s.Phase is CampaignPhase.Sending { Progress.Recorded.Count: >= 10 }, "the worker to be mid-send");
        }
        finally
        {
            worker.Kill(entireProcessTree: true); // SIGKILL: no drain, claims in flight, messages half-handled
            await worker.WaitForExitAsync();
        }
        var killedAt = await WaitForAsync(schema, id, _ => true, "the state after the kill");
        Assert.Equal(CampaignStatus.Sending, killedAt.Status);

        await using var successor = await SendingHost.StartAsync(schema: schema);
        var sent = await successor.WaitForAsync(id, s => s.Status == CampaignStatus.Sent, "the successor to finish the send", TimeSpan.FromMinutes(2));

        var facts = new StreamFacts(await successor.EventsAsync(id));
        facts.AssertEveryClaimRecordedOnce();
        Assert.Equal(100, facts.Claims.Count());
        Assert.Equal(2_000, ((CampaignPhase.Sent)sent.Phase).Progress.Delivered);
        Assert.Equal(1, facts.Count<SendCompleted>());
        Assert.True(successor.Dispatcher.Calls > 0, "the successor sent the rest");
        Assert.Equal(0, await successor.DeadLettersAsync());
    }

    [Fact]
    public async Task A_batch_whose_answer_was_written_before_its_node_died_is_not_handed_to_the_provider_again_by_the_node_that_recovers_it()
    {
        // The dispatch step's crash window: the provider answered for batch 2 (one recipient refused) and the batch's
        // recipient outcomes are committed, but the node dies before its SendBatch is marked handled. The node that recovers
        // the SendBatch finds the batch still in flight; it must pass the written answer on, not call the provider again.
        var schema = TestDatabase.UniqueSchema("answered");
        var (audiences, clock) = (new AudienceDirectory(), new AdjustableClock());
        var first = new FakeDispatcher();
        var dying = await SendingHost.StartAsync(first, o => o.WithBatchesInFlightPerCampaign(1), schema: schema, audiences: audiences, clock: clock);
        var id = await dying.ScheduledAsync(30, 10, TimeSpan.FromMinutes(1));
        var answered = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        first.OnDispatch = async (request, cancellation) =>
        {
            if (request.CampaignId != id || request.BatchNumber != 2) return;
            // What the step writes once the provider has answered; then the node hangs until it is killed.
            await using (var session = dying.Store.LightweightSession(SendingHost.Tenant))
            {
                var batch = (await session.LoadAsync<CampaignBatch>(CampaignBatch.IdFor(id, 2), cancellation))!;
                session.RecordBatchOutcome(batch, RecipientOutcome.Delivered, 1, [new RecipientRefusal(batch.Recipients[0].Id, "Mailbox full")], null,
                    clock.Now);
                await session.SaveChangesAsync(cancellation);
                answered.SetResult(batch.Recipients[0].Id);
            }
            await Task.Delay(Timeout.Infinite, cancellation);
        };
        clock.Advance(TimeSpan.FromMinutes(1));
        await dying.RunAcceptedAsync(new StartSend(id));
        var refused = await answered.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await dying.CrashAsync();
        var crashedAt = await WaitForAsync(schema, id, _ => true, "the state after the crash");
        Assert.Equal([2], ((CampaignPhase.Sending)crashedAt.Phase).Progress.InFlight.Keys); // answered, not recorded

        var second = new FakeDispatcher();
        await using var successor = await SendingHost.StartAsync(second, o => o.WithBatchesInFlightPerCampaign(1), schema: schema, audiences: audiences, clock: clock);
        var sent = await successor.WaitForAsync(id, s => s.Status == CampaignStatus.Sent, "the successor to finish the send");
        await successor.WaitUntilIdleAsync();

        Assert.Equal(1, first.CallsFor(id, 2) + second.CallsFor(id, 2));
        Assert.All(Enumerable.Range(1, 3), n => Assert.Equal(1, first.CallsFor(id, n) + second.CallsFor(id, n)));
        var facts = new StreamFacts(await successor.EventsAsync(id));
        facts.AssertEveryClaimRecordedOnce();
        Assert.Equal((9L, 1L), facts.Records.Where(r => r.Batch == 2).Select(r => (r.Delivered, r.Failed)).Single());
        var progress = ((CampaignPhase.Sent)sent.Phase).Progress;
        Assert.Equal((29L, 1L), (progress.Delivered, progress.Failed));
        var (failed, delivered) = (await successor.OutcomesAsync(id, RecipientOutcome.Failed), await successor.OutcomesAsync(id, RecipientOutcome.Delivered));
        Assert.Equal((1L, 29L), (failed.Total, delivered.Total));
        Assert.Equal((refused, "Mailbox full"), (failed.Items.Single().RecipientId, failed.Items.Single().Reason));
        Assert.Equal(0, await successor.DeadLettersAsync());
    }

    [Fact]
    public async Task Recipients_the_provider_took_before_their_node_stopped_while_the_rest_waited_are_not_handed_over_again()
    {
        // Found by an audit: what the provider took of a batch before an attempt failed was kept in memory only. A node stopped
        // (a deploy) while the rest waited out its retry delay: the node that ran the step again handed the whole batch
        // over, and the recipients the provider had taken got the message twice.
        var schema = TestDatabase.UniqueSchema("partstop");
        var (audiences, clock) = (new AudienceDirectory(), new AdjustableClock());
        var first = new FakeDispatcher();
        var stopping = await SendingHost.StartAsync(first, o =>
        {
            o.WithBatchesInFlightPerCampaign(1);
            o.DispatchRetryDelays = [TimeSpan.FromMinutes(5)];
        }, schema: schema, audiences: audiences, clock: clock);
        var id = await stopping.ScheduledAsync(30, 10, TimeSpan.FromMinutes(1));
        var handed = new TaskCompletionSource<string[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        first.OnDispatch = (batch, _) =>
        {
            if (batch.CampaignId != id || batch.BatchNumber != 2) return ValueTask.CompletedTask;
            var ids = batch.Recipients.Select(r => r.Id).ToArray();
            handed.TrySetResult(ids);
            throw new TransientDispatchException("Connection reset after 4 of 10.")
                { Accepted = [.. ids[..3]], Refused = [new(ids[3], "550 5.1.1 no such user")] };
        };
        clock.Advance(TimeSpan.FromMinutes(1));
        await stopping.RunAcceptedAsync(new StartSend(id));
        var ids = await handed.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await ProgressStoredAsync(stopping, id);                       // the step is in its 5-minute wait
        await stopping.CrashAsync(); // a clean stop would wait for Wolverine's drain, then end the wait the same way

        var second = new FakeDispatcher();
        var handedAgain = new System.Collections.Concurrent.ConcurrentQueue<string[]>();
        second.OnDispatch = (batch, _) =>
        {
            if (batch.CampaignId == id && batch.BatchNumber == 2) handedAgain.Enqueue(batch.Recipients.Select(r => r.Id).ToArray());
            return ValueTask.CompletedTask;
        };
        await using var successor = await SendingHost.StartAsync(second, o => o.WithBatchesInFlightPerCampaign(1), schema: schema, audiences: audiences, clock: clock);
        var sent = await successor.WaitForAsync(id, s => s.Status == CampaignStatus.Sent, "the successor to finish the send");
        await successor.WaitUntilIdleAsync();

        Assert.Equal(ids[4..], Assert.Single(handedAgain)); // only the six the provider had neither taken nor refused
        var progress = ((CampaignPhase.Sent)sent.Phase).Progress;
        Assert.Equal((29L, 1L), (progress.Delivered, progress.Failed));
        var failed = await successor.OutcomesAsync(id, RecipientOutcome.Failed);
        Assert.Equal((ids[3], "550 5.1.1 no such user"), (failed.Items.Single().RecipientId, failed.Items.Single().Reason));
        Assert.Equal(29, (await successor.OutcomesAsync(id, RecipientOutcome.Delivered)).Total);
        new StreamFacts(await successor.EventsAsync(id)).AssertEveryClaimRecordedOnce();
        Assert.Equal(0, await successor.DeadLettersAsync());
    }

    private static async Task ProgressStoredAsync(SendingHost host, Guid id)
    {
        for (var deadline = DateTime.UtcNow.AddSeconds(30); ; await Task.Delay(50))
        {
            await using var session = host.Store.QuerySession(SendingHost.Tenant);
            if ((await session.LoadAsync<CampaignBatch>(CampaignBatch.IdFor(id, 2)))?.Progress is not null) return;
            if (DateTime.UtcNow > deadline) throw new TimeoutException("Batch 2's progress was never stored.");
        }
    }

    private static Process StartWorker(string schema, int latencyMs, int lanes, int answered)
    {
        var dll = Path.Combine(AppContext.BaseDirectory.Replace("EventSourcedCampaigns.Sending.Tests", "EventSourcedCampaigns.Sending.Worker"),
            "EventSourcedCampaigns.Sending.Worker.dll");
        var start = new ProcessStartInfo("dotnet", [dll, schema, latencyMs.ToString(), lanes.ToString(), answered.ToString()])
        {
            RedirectStandardOutput = true, RedirectStandardError = true,
        };
        start.Environment["CAMPAIGNS_POSTGRES"] = TestDatabase.ConnectionString;
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task<CampaignState> WaitForAsync(string schema, Guid id, Func<CampaignState, bool> until, string what)
    {
        await using var store = global::Marten.DocumentStore.For(o => TestDatabase.Configure(o, schema));
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            await using var session = store.QuerySession(SendingHost.Tenant);
            if (await session.LoadCampaignStateAsync(id) is { } state && until(state)) return state;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Gave up waiting for {what}.");
            await Task.Delay(50);
        }
    }
}
