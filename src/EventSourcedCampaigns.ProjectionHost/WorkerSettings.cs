using JasperFx.Events.Daemon;
using Npgsql;

namespace EventSourcedCampaigns.ProjectionHost;

/// <summary>The worker's settings, section "Campaigns" (appsettings.json, CAMPAIGNS__* environment variables, --Campaigns:* arguments).</summary>
public sealed class WorkerSettings
{
    public const string Section = "Campaigns";

    /// <summary>Npgsql connection string; falls back to the CAMPAIGNS_POSTGRES environment variable.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>PostgreSQL schema of the event store and read models.</summary>
    public string Schema { get; set; } = "campaigns";

    /// <summary>HotCold (default: one leader among many workers), Solo (exactly one worker), or Disabled (query API only).</summary>
    public DaemonMode DaemonMode { get; set; } = DaemonMode.HotCold;

    /// <summary>Create or update the schema at start-up (turn off when migrations run through "db-apply").</summary>
    public bool ApplySchemaOnStartup { get; set; } = true;

    /// <summary>How long a stopping worker lets in-flight projection pages finish.</summary>
    public TimeSpan DrainTime { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often a standby worker tries to take over the projections (HotCold); bounds the failover time.</summary>
    public TimeSpan LeadershipPollingTime { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Readiness fails when the slowest read model is more than this many events behind the high-water mark.</summary>
    public long MaxReadyLag { get; set; } = 10_000;

    /// <summary>none, console or otlp (OTLP endpoint from the standard OTEL_EXPORTER_OTLP_* variables).</summary>
    public string TelemetryExporter { get; set; } = "none";

    public string ResolveConnectionString()
    {
        var raw = ConnectionString is { Length: > 0 } configured ? configured
            : Environment.GetEnvironmentVariable("CAMPAIGNS_POSTGRES") is { Length: > 0 } fromEnvironment ? fromEnvironment
            : throw new InvalidOperationException("Set Campaigns:ConnectionString (or CAMPAIGNS_POSTGRES) to an Npgsql connection string.");
        var builder = new NpgsqlConnectionStringBuilder(raw);
        // The HotCold leader holds its lock in a session that runs pg_sleep(60) to watch for failover; without
        // this, PostgreSQL notices a crashed leader only when that sleep ends, delaying takeover by up to a minute.
        if (builder.Options?.Contains("client_connection_check_interval") != true)
            builder.Options = $"{builder.Options} -c client_connection_check_interval=1000".Trim();
        return builder.ConnectionString;
    }
}
