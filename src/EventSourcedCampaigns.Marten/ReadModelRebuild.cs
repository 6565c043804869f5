using EventSourcedCampaigns.Marten.ReadModels;
using JasperFx.Events.Daemon;

namespace EventSourcedCampaigns.Marten;

/// <summary>Rebuilding the read models from the events alone.</summary>
public static class ReadModelRebuild
{
    /// <summary>
    /// Rebuild the campaign list, the send reports and the cancellation audit from the events, the three at once
    /// (Marten's own rebuild command runs projections concurrently on one daemon too): each reads the events on its
    /// own connection, so the database's and the worker's cores overlap instead of taking turns. Run
    /// <c>ANALYZE</c> on the events table after bulk-loading events: without statistics every page of the rebuild
    /// scans and sorts the remaining range.
    /// </summary>
    /// <param name="daemon">From <c>store.BuildProjectionDaemonAsync()</c>; no other daemon may run these projections meanwhile.</param>
    /// <param name="shardTimeout">How long one read model may take.</param>
    /// <param name="cancellation">Stops the rebuild; a later rebuild starts over.</param>
    public static Task RebuildReadModelsAsync(this IProjectionDaemon daemon, TimeSpan shardTimeout, CancellationToken cancellation = default) =>
        Task.WhenAll(
            daemon.RebuildProjectionAsync<CampaignListProjection>(shardTimeout, cancellation),
            daemon.RebuildProjectionAsync<SendReportProjection>(shardTimeout, cancellation),
            daemon.RebuildProjectionAsync<CancellationAuditProjection>(shardTimeout, cancellation));
}
