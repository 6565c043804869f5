using System.Diagnostics;
using EventSourcedCampaigns.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace EventSourcedCampaigns.Service.Tests;

/// <summary>Several worker processes on one database: HotCold leader election, takeover after a crash, restart.</summary>
[Collection("workers")] // one multi-process test at a time: they share two cores
public sealed class several_workers(ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task when_the_leader_is_killed_another_takes_over_and_nothing_is_lost_or_counted_twice()
    {
        await using var store = await TestDatabase.NewStoreAsync("failover");
        var schema = store.Options.DatabaseSchemaName;
        var workers = new List<WorkerProcess>();
        try
        {
            for (var i = 0; i < 3; i++) workers.Add(await WorkerProcess.StartAsync(schema));
            var campaigns = 1_920; // ~200,000 events
            var traffic = Task.Run(() => Traffic.AppendAsync(store, campaigns));

            var (leader, status) = await WaitForAsync(workers, s => s.RunsProjections && s.ReadModelFloor > 60_000, "a leader past 60,000 events");
            Assert.Single(await RunningAsync(workers)); // exactly one worker projects
            leader.Kill();
            var killedAt = Stopwatch.GetTimestamp();
            output.WriteLine($"killed the leader (pid {leader.Id}) at read-model progress {status.ReadModelFloor:N0}");

            var survivors = workers.Where(w => w != leader).ToList();
            var (successor, _) = await WaitForAsync(survivors, s => s.RunsProjections, "a new leader");
            var takeover = Stopwatch.GetElapsedTime(killedAt);
            output.WriteLine($"takeover: pid {successor.Id} runs the projections {takeover.TotalSeconds:N1} s after the kill");

            var events = await traffic;
            Assert.True(events >= 200_000, $"only {events:N0} events appended");
            await WaitForAsync([successor], s => s.HighWaterMark >= events && s.ReadModelFloor == s.HighWaterMark, "the read models to catch up");
            foreach (var worker in survivors) await worker.StopAsync();

            var live = await ReadModelSnapshot.TakeAsync(store);
            Assert.Equal(campaigns, ReadModelSnapshot.CampaignCount(live));
            await ReadModelSnapshot.RebuildAllAsync(store, Patience);
            Assert.Equal(live, await ReadModelSnapshot.TakeAsync(store));
        }
        finally
        {
            foreach (var worker in workers) await worker.DisposeAsync();
        }
    }

    [Fact]
    public async Task stopped_mid_projection_a_restarted_worker_resumes_without_gaps_or_duplicates()
    {
        await using var store = await TestDatabase.NewStoreAsync("restart");
        var schema = store.Options.DatabaseSchemaName;
        var events = await Traffic.AppendAsync(store, campaigns: 600);

        var first = await WorkerProcess.StartAsync(schema);
        var second = await WorkerProcess.StartAsync(schema);
        long stoppedAt;
        try
        {
            var (_, status) = await WaitForAsync([first, second], s => s.RunsProjections && s.ReadModelFloor > 5_000, "projection under way");
            await Task.WhenAll(first.StopAsync(), second.StopAsync());
            stoppedAt = status.ReadModelFloor;
        }
        finally
        {
            await first.DisposeAsync();
            await second.DisposeAsync();
        }
        // A graceful stop drains: the workers (which now also host Wolverine, and take longer to stop) may have
        // projected every event by the time they exit. Events appended while no worker runs make sure the restarted
        // worker has something to resume, wherever the stop left the read models.
        events += await Traffic.AppendAsync(store, campaigns: 200);

        await using var restarted = await WorkerProcess.StartAsync(schema);
        var (_, resumed) = await WaitForAsync([restarted], s => s.RunsProjections, "the restarted worker to lead");
        output.WriteLine($"stopped at {stoppedAt:N0} of {events:N0} events; the restarted worker starts from {resumed.ReadModelFloor:N0}");
        // Resumes from its progress, not from zero; on a fast machine it may have caught up before its first status.
        Assert.InRange(resumed.ReadModelFloor, stoppedAt, events);
        var catchingUp = Stopwatch.GetTimestamp();
        await WaitForAsync([restarted], s => s.ReadModelFloor == events, "the read models to catch up");
        var elapsed = Stopwatch.GetElapsedTime(catchingUp);
        output.WriteLine($"one worker projected {events - resumed.ReadModelFloor:N0} events into the three read models in {elapsed.TotalSeconds:N1} s: " +
                         $"{(events - resumed.ReadModelFloor) / elapsed.TotalSeconds:N0} events/s");
        await restarted.StopAsync();

        var live = await ReadModelSnapshot.TakeAsync(store);
        Assert.Equal(800, ReadModelSnapshot.CampaignCount(live));
        await ReadModelSnapshot.RebuildAllAsync(store, Patience);
        Assert.Equal(live, await ReadModelSnapshot.TakeAsync(store));
    }

    private static async Task<IReadOnlyList<WorkerProcess>> RunningAsync(IEnumerable<WorkerProcess> workers)
    {
        var running = new List<WorkerProcess>();
        foreach (var worker in workers)
            if (await worker.StatusAsync() is { RunsProjections: true }) running.Add(worker);
        return running;
    }

    private static async Task<(WorkerProcess Worker, WorkerStatus Status)> WaitForAsync(
        IReadOnlyList<WorkerProcess> workers, Func<WorkerStatus, bool> condition, string what)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(Patience.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < deadline)
        {
            foreach (var worker in workers.Where(w => !w.HasExited))
                if (await worker.StatusAsync() is { } status && condition(status)) return (worker, status);
            await Task.Delay(100);
        }
        throw new TimeoutException($"Waited {Patience.TotalMinutes} minutes for {what}.");
    }
}
