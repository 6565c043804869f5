using EventSourcedCampaigns.Decisions;
using EventSourcedCampaigns.Marten;
using EventSourcedCampaigns.Sending.Tests.Infrastructure;
using EventSourcedCampaigns.Ports;
using EventSourcedCampaigns.Testing;
using EventSourcedCampaigns.Wolverine;
using JasperFx;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Wolverine;
using Wolverine.Marten;

namespace EventSourcedCampaigns.Benchmarks;

/// <summary>
/// The real send pipeline (Wolverine + Marten, durable local queues, default <see cref="CampaignSendingOptions"/>)
/// on a schema of its own, with a Bogus audience per campaign and the zero-latency fake provider.
/// </summary>
public sealed class Pipeline : IAsyncDisposable
{
    public const string Tenant = "bench";
    public static readonly Actor Actor = new("bench", RequestChannel.System);

    private readonly IHost _host;
    private readonly AudienceDirectory _audiences;

    private Pipeline(IHost host, string schema, string connection, AdjustableClock clock, AudienceDirectory audiences)
    {
        _host = host;
        Schema = schema;
        Connection = connection;
        Clock = clock;
        _audiences = audiences;
    }

    public string Schema { get; }
    public string Connection { get; }
    public AdjustableClock Clock { get; }
    public CampaignSendingOptions Options => _host.Services.GetRequiredService<CampaignSendingOptions>();
    public IMessageBus Bus => _host.Services.GetRequiredService<IMessageBus>();
    public IDocumentStore Store => _host.Services.GetRequiredService<IDocumentStore>();

    public static async Task<Pipeline> StartAsync(string connection, string schema)
    {
        await Sql.ExecuteAsync(connection, $"drop schema if exists {schema} cascade");
        var clock = new AdjustableClock();
        var audiences = new AudienceDirectory();
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders().AddConsole().SetMinimumLevel(LogLevel.Error);
        builder.Services.AddSingleton<TimeProvider>(clock);
        builder.Services.AddSingleton<IAudienceResolver>(audiences);
        builder.Services.AddSingleton<IMessageDispatcher>(new FakeDispatcher());
        builder.Services.AddMarten(o =>
        {
            o.Connection(connection);
            o.DatabaseSchemaName = schema;
            o.AutoCreateSchemaObjects = AutoCreate.All;
            o.AddCampaigns();
        }).IntegrateWithWolverine();
        builder.Services.AddWolverine(opts =>
        {
            opts.Durability.Mode = DurabilityMode.Solo;
            opts.Policies.AutoApplyTransactions();
            opts.AddCampaignSending();
        });
        var host = builder.Build();
        await host.StartAsync();
        await host.Services.GetRequiredService<IDocumentStore>().Storage.ApplyAllConfiguredChangesToDatabaseAsync();
        return new Pipeline(host, schema, connection, clock, audiences);
    }

    /// <summary>Create and schedule a campaign of <paramref name="recipients"/>; returns once it is Scheduled.</summary>
    public async Task<Guid> ScheduledAsync(long recipients, int batchSize = 1_000, TimeSpan? poll = null, TimeSpan? limit = null)
    {
        var id = Guid.NewGuid();
        var audience = _audiences.Everyone("list-" + id.ToString("N"), recipients);
        await Run(new CreateCampaign(id, "Bench " + id.ToString("N")[..6], Channel.Email, [new Variant("A", "Hello", "Body", 100)], Actor));
        await Run(new ScheduleCampaign(id, Clock.GetUtcNow().AddDays(1), audience, batchSize, Actor));
        await WaitForAsync([id], "scheduled", poll ?? TimeSpan.FromMilliseconds(20), limit);
        return id;
    }

    /// <summary><paramref name="campaigns"/> campaigns of <paramref name="batches"/> batches of 1,000, scheduled, with the send time reached.</summary>
    public async Task<Guid[]> ReadyAsync(int campaigns, int batches)
    {
        var ids = new List<Guid>();
        foreach (var chunk in Enumerable.Range(0, campaigns).Chunk(4))
            ids.AddRange(await Task.WhenAll(chunk.Select(_ => ScheduledAsync((long)batches * 1_000))));
        Clock.Advance(TimeSpan.FromDays(1));
        return ids.ToArray();
    }

    public Task StartSendAsync(IEnumerable<Guid> ids) => Task.WhenAll(ids.Select(id => Run(new StartSend(id))));

    public Task<CommandResult> Run(CampaignCommand command) => Bus.ExecuteCampaignCommandAsync(Tenant, command);

    /// <summary>Poll (one query for all campaigns) until every campaign's write model is in the phase.</summary>
    public async Task WaitForAsync(Guid[] ids, string phase, TimeSpan poll, TimeSpan? limit = null)
    {
        var deadline = DateTime.UtcNow + (limit ?? TimeSpan.FromMinutes(10));
        await using var conn = new NpgsqlConnection(Connection);
        await conn.OpenAsync();
        await using var command = new NpgsqlCommand(
            $"/*poll*/ select count(*) from {Schema}.mt_doc_campaignstate where id = any(@ids) and data->'Phase'->>'$phase' = any(@phases)", conn);
        command.Parameters.AddWithValue("ids", ids);
        command.Parameters.AddWithValue("phases", phase.Split(','));
        while ((long)(await command.ExecuteScalarAsync())! < ids.Length)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Campaigns never reached '{phase}'.");
            await Task.Delay(poll);
        }
    }

    public async Task<IReadOnlyList<JasperFx.Events.IEvent>> EventsAsync(Guid id)
    {
        await using var session = Store.QuerySession(Tenant);
        return await session.Events.FetchStreamAsync(id);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }
}

public static class Sql
{
    public static async Task ExecuteAsync(string connection, string sql)
    {
        await using var conn = new NpgsqlConnection(connection);
        await conn.OpenAsync();
        await using var command = new NpgsqlCommand(sql, conn) { CommandTimeout = 0 };
        await command.ExecuteNonQueryAsync();
    }

    public static async Task<T> ScalarAsync<T>(string connection, string sql)
    {
        await using var conn = new NpgsqlConnection(connection);
        await conn.OpenAsync();
        await using var command = new NpgsqlCommand(sql, conn) { CommandTimeout = 0 };
        return (T)Convert.ChangeType((await command.ExecuteScalarAsync())!, typeof(T));
    }

    /// <summary>Statements executed so far (pg_stat_statements, when the server preloads it; else -1), polling excluded.</summary>
    public static async Task<long> StatementsAsync(string connection)
    {
        try
        {
            await ExecuteAsync(connection, "create extension if not exists pg_stat_statements");
            return await ScalarAsync<long>(connection,
                "select coalesce(sum(calls), 0)::bigint from pg_stat_statements where query not like '%/*poll*/%' and query not like '%pg_stat_statements%'");
        }
        catch (PostgresException)
        {
            return -1;
        }
    }
}

/// <summary>Peak RSS per phase: reset the kernel's high-water mark (/proc/self/clear_refs, 5) then read VmHWM.</summary>
public static class Memory
{
    public static void ResetPeak()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        try { File.WriteAllText("/proc/self/clear_refs", "5"); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    /// <summary>Peak resident set since the last reset, MiB.</summary>
    public static double PeakMiB()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024.0;
        return System.Diagnostics.Process.GetCurrentProcess().PeakWorkingSet64 / 1024.0 / 1024.0;
    }
}

/// <summary>CPU time spent so far, to tell where a send's time goes: in the sending process or in PostgreSQL.</summary>
public static class CpuTime
{
    public static TimeSpan Sender() => System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;

    /// <summary>The process id of the server's postmaster when it runs on this machine (the parent of this connection's backend), else null.</summary>
    public static async Task<int?> PostmasterAsync(string connection)
    {
        var backend = await Sql.ScalarAsync<int>(connection, "select pg_backend_pid()");
        return Stat(backend) is { } stat && IsPostgres(backend) ? int.Parse(stat[1]) : null;
    }

    /// <summary>User and system time of the postmaster and its children, the backends (those that ended are not counted).</summary>
    public static TimeSpan PostgreSql(int postmaster)
    {
        var ticks = 0L;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid) || Stat(pid) is not { } stat) continue;
            if (pid == postmaster || int.Parse(stat[1]) == postmaster) ticks += long.Parse(stat[11]) + long.Parse(stat[12]);
        }
        return TimeSpan.FromSeconds(ticks / 100.0); // USER_HZ is 100 on Linux
    }

    /// <summary>/proc/pid/stat from its state on (ppid at 1, utime at 11, stime at 12): the command name before it may hold spaces.</summary>
    private static string[]? Stat(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        }
        catch (IOException) { return null; } // gone meanwhile, or not on this machine
        catch (UnauthorizedAccessException) { return null; }
    }

    private static bool IsPostgres(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid}/comm").Trim() == "postgres"; }
        catch (IOException) { return false; }
    }
}

/// <summary>
/// Waits until the machine is nearly idle: under <see cref="Busy"/> of its CPU over a quarter of a second (/proc/stat), at
/// most <c>longest</c>. Each side of a timed comparison starts on a quiet machine, so that neither pays for what
/// the other left running (handled messages cleaned up, autovacuum after seeding, a checkpoint): in one run the side
/// that went second was up to 40% slower, whichever it was.
/// </summary>
public static class Quiet
{
    public const double Busy = 0.15;

    public static async Task WaitAsync(TimeSpan longest)
    {
        if (Ticks() is not var (busy, total)) return; // not Linux: nothing to wait on
        var started = DateTime.UtcNow;
        while (DateTime.UtcNow < started + longest)
        {
            await Task.Delay(250);
            if (Ticks() is not var (nowBusy, nowTotal)) return;
            var share = nowTotal > total ? (double)(nowBusy - busy) / (nowTotal - total) : 0;
            if (share < Busy)
            {
                if (DateTime.UtcNow - started > TimeSpan.FromSeconds(1)) Console.WriteLine($"(waited {(DateTime.UtcNow - started).TotalSeconds:N1} s for a quiet machine)");
                return;
            }
            (busy, total) = (nowBusy, nowTotal);
        }
        Console.WriteLine($"(the machine was still busy after {longest.TotalSeconds:N0} s; timing anyway)");
    }

    /// <summary>The machine's busy and total CPU ticks so far (the first line of /proc/stat), null where there is none.</summary>
    private static (long Busy, long Total)? Ticks()
    {
        try
        {
            var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(long.Parse).ToArray();
            var idle = fields[3] + fields[4]; // idle, iowait
            var total = fields.Take(8).Sum(); // user nice system idle iowait irq softirq steal (guest time is inside user)
            return (total - idle, total);
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }
}
