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

        using var worker = StartWorker(schema, latencyMs: 30, lanes: 4);
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

    private static Process StartWorker(string schema, int latencyMs, int lanes)
    {
        var dll = Path.Combine(AppContext.BaseDirectory.Replace("EventSourcedCampaigns.Sending.Tests", "EventSourcedCampaigns.Sending.Worker"),
            "EventSourcedCampaigns.Sending.Worker.dll");
        var start = new ProcessStartInfo("dotnet", [dll, schema, latencyMs.ToString(), lanes.ToString()])
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
