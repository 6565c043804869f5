using JasperFx.Events.Projections;

namespace EventSourcedCampaigns.Marten;

/// <summary>Options of <see cref="StoreOptionsExtensions.AddCampaigns"/>.</summary>
public sealed class CampaignStoreOptions
{
    /// <summary>
    /// How the read models (campaign list, send report, cancellation audit) are built. Async by default:
    /// the projection worker (Marten's async daemon) builds them. Inline suits small deployments that
    /// want read-your-writes without running a daemon.
    /// </summary>
    public ProjectionLifecycle ReadModels { get; set; } = ProjectionLifecycle.Async;

    /// <summary>Events the async daemon fetches and applies per page for each read model.</summary>
    public int AsyncBatchSize { get; set; } = 5_000;

    /// <summary>
    /// How long a campaign's recipient outcomes (who received it, <see cref="RecipientOutcomes"/>) are kept after they are
    /// recorded; null keeps them until erased. Expired rows of a tenant are deleted when one of its campaigns finishes.
    /// </summary>
    public TimeSpan? RecipientOutcomeRetention { get; set; } = TimeSpan.FromDays(365);

    /// <summary>
    /// How long the async daemon waits on a gap in the event sequence (an append that rolled back, such as a lost race)
    /// while some older transaction is still open in the database before it skips the gap anyway. Marten waits for as
    /// long as any such transaction lives, and one that never ends (another application's session in the same
    /// database, a projection leader of another store) would stall the read models for good. Every append of this
    /// library commits within seconds, so a minute cannot skip a real event. Null: wait as long as Marten does.
    /// </summary>
    public TimeSpan? SkipStaleGapsAfter { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How soon the async daemon looks for new events again after it found some (Marten's FastPollingTime); with
    /// <see cref="WakeDaemonOnAppend"/>, the longest it waits when no append wakes it sooner.
    /// </summary>
    public TimeSpan HighWaterPolling { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// How soon the async daemon looks again when it is caught up, or when its high-water mark is held behind an append
    /// still in flight (Marten's SlowPollingTime, 1 s by default). While campaigns send the mark is often held for one
    /// poll; without <see cref="WakeDaemonOnAppend"/> that poll bounds how stale the read models can be (250 ms gave a
    /// p50 lag about 40 ms longer than 100 ms, docs/benchmarks.md), with it the append's commit wakes the daemon sooner
    /// and this is the fallback. Default 100 ms; an idle store pays ten small queries a second for it.
    /// </summary>
    public TimeSpan HighWaterPollingWhenIdle { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Wake the async daemon when events are appended instead of leaving them for its next poll (Marten's
    /// <c>UseListenNotifyForEventAppends</c>): every transaction that appends events sends a PostgreSQL <c>NOTIFY</c> when
    /// it commits, and the daemon's high-water agent, which listens on one connection, looks at once. The polls above stay
    /// as the fallback (a notification lost with a connection). On by default: while campaigns send it cut the read
    /// models' lag in a separate worker by a third (docs/benchmarks.md, issue 14). The price is a daemon that works in
    /// smaller, more frequent pages while appends keep coming: on one 2-core machine running the sender, the worker and
    /// PostgreSQL together, the send was 10-16% slower. Every process of a deployment that appends or projects must
    /// agree on it: the appenders notify, the daemon listens. A cancel notifies just after its commit instead of inside its
    /// transaction, so that its commit does not queue behind the lanes' for PostgreSQL's notify lock (docs/service.md).
    /// </summary>
    public bool WakeDaemonOnAppend { get; set; } = true;

    /// <summary>Build the read models in the same transaction as the events.</summary>
    public CampaignStoreOptions ReadModelsInline()
    {
        ReadModels = ProjectionLifecycle.Inline;
        return this;
    }
}
