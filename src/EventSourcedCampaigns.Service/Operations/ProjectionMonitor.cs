using EventSourcedCampaigns.Marten.ReadModels;
using EventSourcedCampaigns.Marten.Telemetry;
using JasperFx.Events.Daemon;
using Marten;

namespace EventSourcedCampaigns.Service.Operations;

/// <summary>What the worker knows about the projections: for readiness, the lag gauge and the ops endpoint.</summary>
public sealed record ProjectionStatus(
    bool Reachable, bool RunsProjections, bool AnyPaused, long HighWaterMark,
    IReadOnlyDictionary<string, long> Shards, long? Lag, DateTimeOffset CheckedAt, string? Error);

/// <summary>Polls the database's projection progress and this process's daemon every second.</summary>
public sealed class ProjectionMonitor(IDocumentStore store, IServiceProvider services, TimeProvider clock, ILogger<ProjectionMonitor> logger)
    : BackgroundService
{
    /// <summary>What <see cref="ProjectionStatus.Error"/> says when the database cannot be read; the cause is in the log.</summary>
    public const string UnreachableError = "The database could not be read; the service's log has the cause.";

    private static readonly string[] ReadModels = [nameof(CampaignListItem), nameof(SendReport), nameof(CancellationAuditEntry)];

    public ProjectionStatus Current { get; private set; } =
        new(false, false, false, 0, new Dictionary<string, long>(), null, DateTimeOffset.MinValue, "not checked yet");

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        CampaignMetrics.ObserveProjectionLag(() => Current.Lag);
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), clock);
        try
        {
            do
            {
                Current = await CheckAsync(stoppingToken);
            } while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping, also when the host failed to start (its port taken): not a failure of this service to report.
        }
    }

    private async Task<ProjectionStatus> CheckAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        try
        {
            var progress = await store.Advanced.AllProjectionProgress(token: ct);
            var shards = progress.ToDictionary(s => s.ShardName, s => s.Sequence);
            var highWater = shards.GetValueOrDefault("HighWaterMark");
            // The lag is counted from the last event stored, not from the daemon's mark: only a running daemon moves the mark,
            // so with no projection worker anywhere (or a stalled one) the read models would look up to date.
            await using var session = store.QuerySession();
            var stored = (await session.AdvancedSql.QueryAsync<long>(
                $"select coalesce(max(seq_id), 0) from {store.Options.Events.DatabaseSchemaName}.mt_events", ct)).Single();
            var last = Math.Max(highWater, stored);
            var readModels = shards.Where(s => ReadModels.Any(name => s.Key.StartsWith(name + ":", StringComparison.Ordinal))).ToList();
            long? lag = readModels.Count == 0 ? last : last - readModels.Min(s => s.Value);
            var daemon = services.GetService<IProjectionCoordinator>() is { } coordinator ? coordinator.DaemonForMainDatabase() : null;
            var runs = daemon?.CurrentAgents().Count > 0;
            return new ProjectionStatus(true, runs, daemon?.HasAnyPaused() ?? false, highWater, shards, lag, now, null);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The endpoint answers anyone: the exception's text (the database's host, port, user or name) goes to the log only.
            logger.LogWarning(ex, "Could not read projection progress");
            return Current with { Reachable = false, CheckedAt = now, Error = UnreachableError };
        }
    }
}
