using System.Diagnostics;
using EventSourcedCampaigns.Marten;
using JasperFx;
using JasperFx.Events.Daemon;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace EventSourcedCampaigns.Benchmarks;

/// <summary>
/// Projection lag while 16 campaigns send: Marten's async daemon in the sending process, then in a worker process of
/// its own (as the service is deployed), against a raw-SQL projector folding the baseline's events.
/// </summary>
public static class Lag
{
    private const string Schema = "bench_lag";

    public static async Task<Result[]> RunAsync(string connection, bool quick)
    {
        await using var pipeline = await Pipeline.StartAsync(connection, Schema);
        await using var data = NpgsqlDataSource.Create(connection);
        var baseline = await SendBaseline.CreateAsync(data, pipeline.Schema, pipeline.Options);
        // 150 batches a campaign: a send of ~10-15 s, so that each p99 stands on more than a hundred samples (with 50, on ~40 it was the maximum).
        var batches = quick ? 10 : 150;

        // Warm-up of both sides (code generation, connection pools, JIT).
        var warm = await pipeline.ReadyAsync(2, 4);
        await pipeline.StartSendAsync(warm);
        await pipeline.WaitForAsync(warm, "sent", TimeSpan.FromMilliseconds(10));
        await baseline.SendAsync(await baseline.SeedAsync(2, 4));

        // The daemon in the sending process.
        List<double> inProcess;
        using (var daemon = await ((DocumentStore)pipeline.Store).BuildProjectionDaemonAsync())
        {
            await daemon.StartAllAsync();
            inProcess = await DaemonLagAsync(pipeline, data, batches, "in the sending process");
            await daemon.StopAllAsync();
        }

        // The daemon in a worker process of its own (HotCold, as the service runs it).
        List<double> separate;
        using (var worker = await StartWorkerAsync(connection))
        {
            try
            {
                separate = await DaemonLagAsync(pipeline, data, batches, "in a separate worker");
            }
            finally
            {
                worker.StandardInput.Close(); // the worker stops its daemon and exits
                if (!worker.WaitForExit(TimeSpan.FromSeconds(30))) worker.Kill(entireProcessTree: true);
            }
        }

        var s = pipeline.Schema;
        var seeded = await baseline.SeedAsync(16, batches);
        var progress = new Progress { Value = await Sql.ScalarAsync<long>(connection, $"select coalesce(max(seq_id), 0) from {s}.base_events") };
        using var stop = new CancellationTokenSource();
        var projector = baseline.ProjectAsync(progress, stop.Token);
        var baseLag = await SampleWhileAsync(data, $"""
            /*poll*/ select extract(epoch from clock_timestamp() - e.timestamp) * 1000 from {s}.base_events e
            where e.seq_id > @progress order by e.seq_id limit 1
            """, progress, () => baseline.SendAsync(seeded));
        await stop.CancelAsync();
        await projector;
        Console.WriteLine($"lag: raw SQL projector p50 {Send.Percentile(baseLag, 0.5):N0} / p99 {Send.Percentile(baseLag, 0.99):N0} ms");

        const string unit = "ms vs raw SQL projector";
        var (base50, base99) = (Math.Max(1, Send.Percentile(baseLag, 0.5)), Math.Max(1, Send.Percentile(baseLag, 0.99)));
        return
        [
            new("projection lag while sending (p50)", Send.Percentile(inProcess, 0.5), base50, unit),
            new("projection lag while sending (p99)", Send.Percentile(inProcess, 0.99), base99, unit),
            new("projection lag while sending, separate worker (p50)", Send.Percentile(separate, 0.5), base50, unit),
            new("projection lag while sending, separate worker (p99)", Send.Percentile(separate, 0.99), base99, unit),
        ];
    }

    /// <summary>
    /// The age of the oldest event some read model has not applied yet (no row: caught up). Only the read models' shard
    /// rows count: Marten 9 keeps bookkeeping rows in the same table (HighWaterMark, HighWaterAllocationFence,
    /// HighWaterStuckGap), and the allocation fence stays where it was while events keep arriving.
    /// </summary>
    private static string DaemonLagSql(string s) => $"""
        /*poll*/ select extract(epoch from clock_timestamp() - e.timestamp) * 1000 from {s}.mt_events e
        where e.seq_id > (select coalesce(min(last_seq_id), 0) from {s}.mt_event_progression
                          where {string.Join(" or ", ReadModelWaiting.ReadModels.Select(m => $"name like '{m}:%'"))})
        order by e.seq_id limit 1
        """;

    private static async Task<List<double>> DaemonLagAsync(Pipeline pipeline, NpgsqlDataSource data, int batches, string where)
    {
        var sql = DaemonLagSql(pipeline.Schema);
        var ready = await pipeline.ReadyAsync(16, batches);
        await WaitCaughtUpAsync(data, sql);
        var rollbacks = await RollbacksAsync(data);
        var started = Stopwatch.GetTimestamp();
        var samples = await SampleWhileAsync(data, sql, null, async () =>
        {
            await pipeline.StartSendAsync(ready);
            await pipeline.WaitForAsync(ready, "sent", TimeSpan.FromMilliseconds(10));
        });
        var sent = Stopwatch.GetElapsedTime(started);
        Console.WriteLine($"lag: daemon {where} p50 {Send.Percentile(samples, 0.5):N0} / p99 {Send.Percentile(samples, 0.99):N0} ms " +
                          $"({samples.Count} samples, {await RollbacksAsync(data) - rollbacks} transactions rolled back in the database meanwhile; " +
                          $"sent in {sent.TotalSeconds:N1} s, {16 * batches / sent.TotalSeconds:N0} batches/s)");
        return samples;
    }

    private static async Task WaitCaughtUpAsync(NpgsqlDataSource data, string sql)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        await using var command = data.CreateCommand(sql);
        while (await command.ExecuteScalarAsync() is not (null or DBNull))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("The read models did not catch up before the send.");
            await Task.Delay(50);
        }
    }

    private static async Task<long> RollbacksAsync(NpgsqlDataSource data)
    {
        await using var command = data.CreateCommand("/*poll*/ select xact_rollback from pg_stat_database where datname = current_database()");
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Sample a lag query every 100 ms while <paramref name="work"/> runs (no row: caught up, 0 ms).</summary>
    private static async Task<List<double>> SampleWhileAsync(NpgsqlDataSource data, string sql, Progress? progress, Func<Task> work)
    {
        var samples = new List<double>();
        var running = work();
        await using var conn = await data.OpenConnectionAsync();
        while (!running.IsCompleted)
        {
            await using var command = new NpgsqlCommand(sql, conn);
            if (progress is not null) command.Parameters.AddWithValue("progress", progress.Value);
            samples.Add(await command.ExecuteScalarAsync() is { } lag and not DBNull ? Convert.ToDouble(lag) : 0);
            await Task.WhenAny(running, Task.Delay(100));
        }
        await running;
        return samples;
    }

    private static async Task<Process> StartWorkerAsync(string connection)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            ArgumentList = { typeof(Lag).Assembly.Location, "--phase", "worker", "--schema", Schema },
            UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true,
        };
        start.Environment["CAMPAIGNS_POSTGRES"] = connection;
        var worker = Process.Start(start)!;
        while (await worker.StandardOutput.ReadLineAsync() is { } line)
            if (line == "ready") return worker;
        throw new InvalidOperationException($"The projection worker exited before it was ready (exit code {worker.ExitCode}).");
    }

    /// <summary>
    /// The worker process (<c>--phase worker --schema S</c>): a host that runs only the async daemon over the schema's
    /// read models, HotCold as the service runs it; prints "ready" once started, stops when its stdin closes.
    /// </summary>
    public static async Task WorkerAsync(string connection, string schema)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders().AddConsole().SetMinimumLevel(LogLevel.Error);
        builder.Services.AddMarten(o =>
        {
            o.Connection(connection);
            o.DatabaseSchemaName = schema;
            o.AutoCreateSchemaObjects = AutoCreate.None;
            o.AddCampaigns();
        }).AddAsyncDaemon(DaemonMode.HotCold);
        using var host = builder.Build();
        await host.StartAsync();
        Console.WriteLine("ready");
        await Console.In.ReadToEndAsync();
        await host.StopAsync();
    }
}
