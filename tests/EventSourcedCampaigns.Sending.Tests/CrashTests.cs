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
