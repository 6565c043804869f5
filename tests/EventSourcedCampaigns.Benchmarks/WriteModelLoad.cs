using System.Diagnostics;
using EventSourcedCampaigns.Decisions;
using Marten;

namespace EventSourcedCampaigns.Benchmarks;

/// <summary>The command path's cost (load the write model + decide) for a long stream vs a new campaign.</summary>
public static class WriteModelLoad
{
    public static async Task<Result[]> RunAsync(string connection, bool quick)
    {
        await using var store = await BenchStore.CreateAsync(connection, "bench_writemodel");

        var longBatches = quick ? 5_000 : 15_000; // two events per batch: 10k / 30k events
        var (longId, longNow) = await SeedAsync(store, longBatches, longBatches + 10);
        var (newId, newNow) = await SeedAsync(store, 0, 10);
        var longEvents = longBatches * 2 + 4;

        var iterations = quick ? 100 : 300;
        var newCost = await MeasureAsync(store, newId, newNow, iterations);
        var longCost = await MeasureAsync(store, longId, longNow, iterations);
        Console.WriteLine($"write model: p50 load+decide {longCost:N3} ms for {longEvents:N0} events vs {newCost:N3} ms for a new campaign");
        return [new Result($"write-model load+decide, {longEvents:N0}-event stream (p50)", longCost, newCost, "ms vs new campaign")];
    }

    private static async Task<(Guid, DateTimeOffset)> SeedAsync(IDocumentStore store, int batches, int planned)
    {
        var id = Guid.NewGuid();
        var (events, now) = History.Sending(id, batches, planned);
        // Seed in chunks through the real inline write model so the snapshot is what production would hold.
        foreach (var chunk in events.Chunk(2_000))
        {
            await using var session = store.LightweightSession("bench");
            session.Events.Append(id, chunk.Cast<object>().ToArray());
            await session.SaveChangesAsync();
        }
        return (id, now);
    }

    private static async Task<double> MeasureAsync(IDocumentStore store, Guid id, DateTimeOffset now, int iterations)
    {
        var samples = new List<double>();
        for (var i = 0; i < iterations + 10; i++)
        {
            var started = Stopwatch.GetTimestamp();
            await using var session = store.LightweightSession("bench");
            var stream = await session.Events.FetchForWriting<CampaignState>(id);
            var decision = Decider.Decide(new CancelCampaign(id, History.Marketer, new CancelReason(CancelReasonCode.Other)), stream.Aggregate, now);
            if (decision.IsRejected) throw new InvalidOperationException(decision.Rejection!.Message);
            if (i >= 10) samples.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds); // first 10: warm-up
        }
        samples.Sort();
        return samples[samples.Count / 2];
    }
}
