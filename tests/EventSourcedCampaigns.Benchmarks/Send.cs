using System.Diagnostics;
using EventSourcedCampaigns.Decisions;
using EventSourcedCampaigns.Wolverine;
using Marten;
using Npgsql;

namespace EventSourcedCampaigns.Benchmarks;

/// <summary>
/// The send pipeline against the hand-written baseline: throughput for 1 and 16 campaigns, the sender's peak RSS,
/// statements per batch, and cancel-to-stop under load (the projection lag while sending is <see cref="Lag"/>).
/// </summary>
public static class Send
{
    private const int BatchSize = 1_000;

    public static async Task<Result[]> RunAsync(string connection, bool quick)
    {
        var results = new List<Result>();
        await using var pipeline = await Pipeline.StartAsync(connection, "bench_send");
        await using var data = NpgsqlDataSource.Create(connection);
        var baseline = await SendBaseline.CreateAsync(data, pipeline.Schema, pipeline.Options);

        // 12 cancel rounds: 70-170 cancels caught mid-send, so that the p99 is not simply the slowest of 20-25.
        var (oneBatches, manyBatches, rounds, cancelBatches, cancelRounds) = quick ? (60, 10, 1, 24, 1) : (200, 100, 3, 60, 12);
        // CI's quick run times nothing that matters, on a machine busy with other tests: it does not wait long.
        var settle = quick ? TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(10);

        // Warm-up of both sides (code generation, connection pools, JIT). The cancel too: Wolverine compiles a handler
        // on its first message, and the first cancels under load waited ~0.4 s for that.
        await PipelineSendAsync(pipeline, 2, 4, settle);
        foreach (var id in await pipeline.ReadyAsync(1, 2))
            await pipeline.Run(new CancelCampaign(id, Pipeline.Actor, new CancelReason(CancelReasonCode.Other)));
        await baseline.SendAsync(await baseline.SeedAsync(2, 4));

        // Alternated rounds, the side that goes first swapping each round: one run of a few seconds swings by +-0.1 on
        // this machine (JIT tiers, the cluster's checkpoints, the other side's leftovers), several even each other out.
        // The ratio is of the totals: every round's batches over every round's time.
        var (pipeOne, baseOne, pipeMany, baseMany) = (TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero);
        var (pipeRss, baseRss, pipeStatements, baseStatements) = (0d, 0d, 0L, 0L);
        var (pipeCpu, baseCpu, postmaster) = (new CpuUse(), new CpuUse(), await CpuTime.PostmasterAsync(connection));
        for (var round = 0; round < rounds; round++)
        {
            var baselineFirst = round % 2 == 1;
            var one = await AlternatedAsync(baselineFirst,
                async () => (await PipelineSendAsync(pipeline, 1, oneBatches, settle)).Item1,
                async () =>
                {
                    var seeded = await baseline.SeedAsync(1, oneBatches);
                    await Quiet.WaitAsync(settle);
                    return await baseline.SendAsync(seeded);
                });
            (pipeOne, baseOne) = (pipeOne + one.Pipeline, baseOne + one.Baseline);

            // 16 campaigns: throughput, statements per batch and each side's peak RSS.
            var many = await AlternatedAsync(baselineFirst,
                async () =>
                {
                    var ready = await pipeline.ReadyAsync(16, manyBatches);
                    var (elapsed, rss, statements, cpu) = await MeasuredAsync(connection, postmaster, settle, () => TimeSendAsync(pipeline, ready));
                    (pipeRss, pipeStatements, pipeCpu) = (Math.Max(pipeRss, rss), pipeStatements + statements, pipeCpu + cpu);
                    return elapsed;
                },
                async () =>
                {
                    var seeded = await baseline.SeedAsync(16, manyBatches);
                    var (elapsed, rss, statements, cpu) = await MeasuredAsync(connection, postmaster, settle, () => baseline.SendAsync(seeded));
                    (baseRss, baseStatements, baseCpu) = (Math.Max(baseRss, rss), baseStatements + statements, baseCpu + cpu);
                    return elapsed;
                });
            (pipeMany, baseMany) = (pipeMany + many.Pipeline, baseMany + many.Baseline);
            Console.WriteLine($"send, round {round + 1} of {rounds} ({(baselineFirst ? "baseline" : "pipeline")} first): " +
                              $"1 campaign {oneBatches / one.Pipeline.TotalSeconds:N0} vs {oneBatches / one.Baseline.TotalSeconds:N0} batches/s " +
                              $"({one.Baseline / one.Pipeline:N2}); 16 campaigns {16 * manyBatches / many.Pipeline.TotalSeconds:N0} vs " +
                              $"{16 * manyBatches / many.Baseline.TotalSeconds:N0} ({many.Baseline / many.Pipeline:N2})");
        }
        results.AddRange(Throughput("1 campaign", rounds * oneBatches, pipeOne, baseOne));
        results.AddRange(Throughput("16 campaigns", rounds * 16 * manyBatches, pipeMany, baseMany));
        results.Add(new Result("memory: sender peak RSS, 16-campaign send", pipeRss, baseRss, "MiB vs hand-written sender"));
        if (pipeStatements >= 0 && baseStatements >= 0)
            results.Add(new Result("send: SQL statements per batch, 16 campaigns", (double)pipeStatements / (rounds * 16 * manyBatches),
                (double)baseStatements / (rounds * 16 * manyBatches), "statements vs hand-written"));
        // Where the time goes: CPU a batch in the sending process and in PostgreSQL (both on this machine's two cores).
        var sent = rounds * 16 * manyBatches;
        results.Add(new Result("send: sender CPU ms per batch, 16 campaigns", pipeCpu.Sender.TotalMilliseconds / sent,
            baseCpu.Sender.TotalMilliseconds / sent, "ms vs hand-written"));
        results.Add(new Result("send: sender KiB allocated per batch, 16 campaigns", pipeCpu.Allocated / 1024.0 / sent,
            baseCpu.Allocated / 1024.0 / sent, "KiB vs hand-written"));
        if (pipeCpu.PostgreSql is { } pipeDb && baseCpu.PostgreSql is { } baseDb)
            results.Add(new Result("send: PostgreSQL CPU ms per batch, 16 campaigns", pipeDb.TotalMilliseconds / sent, baseDb.TotalMilliseconds / sent,
                "ms vs hand-written"));
        Console.WriteLine($"send, {rounds} rounds: 1 campaign {rounds * oneBatches / pipeOne.TotalSeconds:N0} vs {rounds * oneBatches / baseOne.TotalSeconds:N0} batches/s; " +
                          $"16 campaigns {rounds * 16 * manyBatches / pipeMany.TotalSeconds:N0} vs {rounds * 16 * manyBatches / baseMany.TotalSeconds:N0} batches/s; " +
                          $"the process paused by garbage collection {pipeCpu.GcPauses.TotalMilliseconds:N0} vs {baseCpu.GcPauses.TotalMilliseconds:N0} ms in total");

        // Cancel-to-stop with 16 campaigns sending.
        var estimate = TimeSpan.FromSeconds(pipeMany.TotalSeconds * cancelBatches / manyBatches); // each campaign's expected send time
        results.AddRange(await CancelAsync(pipeline, baseline, cancelBatches, cancelRounds, estimate));
        return results.ToArray();
    }

    private static async Task<(TimeSpan Pipeline, TimeSpan Baseline)> AlternatedAsync(bool baselineFirst,
        Func<Task<TimeSpan>> pipeline, Func<Task<TimeSpan>> baseline)
    {
        if (!baselineFirst) return (await pipeline(), await baseline());
        var baselineTime = await baseline();
        return (await pipeline(), baselineTime);
    }

    /// <summary>The send's time, the process's peak RSS during it and the statements PostgreSQL ran for it (negative without pg_stat_statements).</summary>
    private static async Task<(TimeSpan Elapsed, double PeakMiB, long Statements, CpuUse Cpu)> MeasuredAsync(string connection, int? postmaster, TimeSpan settle,
        Func<Task<TimeSpan>> send)
    {
        await Quiet.WaitAsync(settle);
        var before = await Sql.StatementsAsync(connection);
        Memory.ResetPeak();
        TimeSpan? Database() => postmaster is { } pid ? CpuTime.PostgreSql(pid) : null;
        var (sender, database, allocated, paused) = (CpuTime.Sender(), Database(), GC.GetTotalAllocatedBytes(), GC.GetTotalPauseDuration());
        var elapsed = await send();
        var cpu = new CpuUse(CpuTime.Sender() - sender, Database() - database, GC.GetTotalAllocatedBytes() - allocated, GC.GetTotalPauseDuration() - paused);
        var rss = Memory.PeakMiB();
        return (elapsed, rss, before < 0 ? -1 : await Sql.StatementsAsync(connection) - before, cpu);
    }

    /// <summary>
    /// CPU time of the sending process and of PostgreSQL (null when its processes are not on this machine), bytes the process
    /// allocated, and how long its garbage collections paused it.
    /// </summary>
    private readonly record struct CpuUse(TimeSpan Sender, TimeSpan? PostgreSql, long Allocated, TimeSpan GcPauses)
    {
        public CpuUse() : this(TimeSpan.Zero, TimeSpan.Zero, 0, TimeSpan.Zero) { }
        public static CpuUse operator +(CpuUse a, CpuUse b) =>
            new(a.Sender + b.Sender, a.PostgreSql + b.PostgreSql, a.Allocated + b.Allocated, a.GcPauses + b.GcPauses);
    }

    private static Result[] Throughput(string label, int batches, TimeSpan pipeline, TimeSpan baseline) =>
    [
        new($"send pipeline, {label}: recipients/s", batches * (double)BatchSize / pipeline.TotalSeconds, batches * (double)BatchSize / baseline.TotalSeconds,
            "recipients/s vs hand-written Npgsql"),
        new($"send pipeline, {label}: batches/s", batches / pipeline.TotalSeconds, batches / baseline.TotalSeconds, "batches/s vs hand-written Npgsql"),
    ];

    private static async Task<(TimeSpan, Guid[], double)> PipelineSendAsync(Pipeline pipeline, int campaigns, int batches, TimeSpan settle)
    {
        var ids = await pipeline.ReadyAsync(campaigns, batches);
        await Quiet.WaitAsync(settle);
        return (await TimeSendAsync(pipeline, ids), ids, 0);
    }

    private static async Task<TimeSpan> TimeSendAsync(Pipeline pipeline, Guid[] ids)
    {
        var started = Stopwatch.GetTimestamp();
        await pipeline.StartSendAsync(ids);
        await pipeline.WaitForAsync(ids, "sent", TimeSpan.FromMilliseconds(10));
        return Stopwatch.GetElapsedTime(started);
    }

    private static async Task<Result[]> CancelAsync(Pipeline pipeline, SendBaseline baseline, int batches, int rounds, TimeSpan estimate)
    {
        var random = new Random(7);
        var commits = new List<double>();
        var stops = new List<double>();
        var paused = new List<(double Commit, double Gc)>(); // each commit, and how long garbage collections paused the process meanwhile
        var claimsAfter = 0;
        var checkedCancels = 0;
        var window = (int)Math.Max(200, estimate.TotalMilliseconds * 0.7);
        for (var round = 0; round < rounds; round++)
        {
            var ids = await pipeline.ReadyAsync(16, batches);
            await pipeline.StartSendAsync(ids);
            var outcomes = await Task.WhenAll(ids.Select(async id =>
            {
                await Task.Delay(random.Next(20, window));
                var issuedAt = pipeline.Clock.GetUtcNow();
                var (started, paused) = (Stopwatch.GetTimestamp(), GC.GetTotalPauseDuration());
                var result = await pipeline.Run(new CancelCampaign(id, Pipeline.Actor, new CancelReason(CancelReasonCode.Other)));
                return (id, result, issuedAt, commit: Stopwatch.GetElapsedTime(started).TotalMilliseconds, gc: (GC.GetTotalPauseDuration() - paused).TotalMilliseconds);
            }));
            await pipeline.WaitForAsync(ids, "sent,cancelled_during_send", TimeSpan.FromMilliseconds(20));
            foreach (var (id, result, issuedAt, commit, gc) in outcomes)
            {
                if (result.IsRejected) continue; // it finished sending first
                var events = await pipeline.EventsAsync(id);
                var requested = events.Single(e => e.Data is CancelRequested).Version;
                claimsAfter += events.Count(e => e.Data is BatchClaimed && e.Version > requested);
                var stopped = events.Select(e => e.Data).OfType<CancelledDuringSend>().Single();
                commits.Add(commit);
                paused.Add((commit, gc));
                stops.Add((stopped.CancelledAt - issuedAt).TotalMilliseconds);
                checkedCancels++;
            }
        }
        // A tail is read against the process's own pauses: a collection stops every thread, the cancel's too.
        Console.WriteLine("cancel commits, sorted (ms; in brackets the garbage collection pauses of 5 ms or more while it ran): " +
                          string.Join(" ", paused.OrderBy(x => x.Commit).Select(x => x.Commit.ToString("N0") + (x.Gc >= 5 ? $"[{x.Gc:N0}]" : ""))));
        var record = baseline.RecordLatencies.ToList();
        var cycle = baseline.CycleLatencies.ToList();
        Console.WriteLine($"cancel under load: {checkedCancels} mid-send cancels; commit p50 {Percentile(commits, 0.5):N1} / p99 {Percentile(commits, 0.99):N1} / " +
                          $"max {Percentile(commits, 1):N1} ms; stopped p50 {Percentile(stops, 0.5):N1} / p99 {Percentile(stops, 0.99):N1} / max {Percentile(stops, 1):N1} ms; " +
                          $"claims after the cancel commit: {claimsAfter}");
        const string commitUnit = "ms vs hand-written locked append";
        const string stopUnit = "ms vs hand-written claim-to-record";
        return
        [
            new("cancel (a) accepted -> no further claim (p50)", Percentile(commits, 0.5), Percentile(record, 0.5), commitUnit),
            new("cancel (a) accepted -> no further claim (p99)", Percentile(commits, 0.99), Percentile(record, 0.99), commitUnit),
            new("cancel (a) accepted -> no further claim (max)", Percentile(commits, 1), Percentile(record, 1), commitUnit),
            new("cancel (b) cancel -> CancelledDuringSend (p50)", Percentile(stops, 0.5), Percentile(cycle, 0.5), stopUnit),
            new("cancel (b) cancel -> CancelledDuringSend (p99)", Percentile(stops, 0.99), Percentile(cycle, 0.99), stopUnit),
            new("cancel (b) cancel -> CancelledDuringSend (max)", Percentile(stops, 1), Percentile(cycle, 1), stopUnit),
            new("cancel: batches claimed after the cancel commit (must be 0)", claimsAfter, checkedCancels, "claims / mid-send cancels checked"),
        ];
    }

    public static double Percentile(List<double> samples, double p)
    {
        if (samples.Count == 0) return 0;
        var sorted = samples.OrderBy(x => x).ToList();
        return sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];
    }
}
