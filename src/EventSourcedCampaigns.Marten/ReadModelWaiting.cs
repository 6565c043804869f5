using System.Globalization;
using EventSourcedCampaigns.Marten.ReadModels;
using JasperFx.Events.Projections;
using Marten;

namespace EventSourcedCampaigns.Marten;

/// <summary>
/// Read-your-writes over asynchronous read models: a command's <see cref="CommandResult.Sequence"/> says which
/// event the read models must have applied before they show the command's effect.
/// </summary>
public static class ReadModelWaiting
{
    /// <summary>The read models <see cref="StoreOptionsExtensions.AddCampaigns"/> adds, as the async daemon names their shards.</summary>
    public static IReadOnlyList<string> ReadModels { get; } = [nameof(CampaignListItem), nameof(SendReport), nameof(CancellationAuditEntry)];

    /// <summary>The last event sequence of a campaign's stream in the session's tenant (0 when it has none).</summary>
    public static Task<long> LastSequenceAsync(this IQuerySession session, Guid campaignId, CancellationToken cancellation = default) =>
        session.LastSequenceAsync([campaignId], cancellation);

    /// <summary>The last event sequence of any of these streams in the session's tenant (0 when they have none).</summary>
    public static async Task<long> LastSequenceAsync(this IQuerySession session, IReadOnlyCollection<Guid> streamIds, CancellationToken cancellation = default)
    {
        var events = $"{session.DocumentStore.Options.Events.DatabaseSchemaName}.mt_events";
        var found = await session.AdvancedSql.QueryAsync<long>(
            $"select coalesce(max(seq_id), 0) from {events} where stream_id = any(?) and tenant_id = ?", cancellation, streamIds.ToArray(), session.TenantId);
        return found.SingleOrDefault();
    }

    /// <summary>
    /// Wait until the campaign list, the send reports and the cancellation audit have applied every event up to
    /// <paramref name="sequence"/> (returns at once when they are built inline). A projection worker must be
    /// running somewhere (the async daemon in any process on this database).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative, other than
    /// <see cref="Timeout.InfiniteTimeSpan"/>, which waits until they catch up or <paramref name="cancellation"/> is cancelled.</exception>
    /// <exception cref="TimeoutException">They did not catch up within <paramref name="timeout"/>.</exception>
    public static async Task WaitForReadModelsAsync(this IDocumentStore store, long sequence, TimeSpan timeout,
        CancellationToken cancellation = default)
    {
        if (timeout != Timeout.InfiniteTimeSpan) ArgumentOutOfRangeException.ThrowIfLessThan(timeout, TimeSpan.Zero);
        // Only the read models the daemon builds are waited for: inline ones are current once the command committed, even
        // in a store whose other projections are async.
        var waitedFor = store.Options is StoreOptions { Projections: var projections }
            ? ReadModels.Where(name => projections.All.Any(p => p.Name == name && p.Lifecycle == ProjectionLifecycle.Async)).ToList()
            : [.. ReadModels];
        if (sequence <= 0 || waitedFor.Count == 0) return;
        var deadline = timeout == Timeout.InfiniteTimeSpan ? DateTime.MaxValue : DateTime.UtcNow + timeout;
        while (true)
        {
            var progress = await store.Advanced.AllProjectionProgress(token: cancellation);
            var shards = progress.ToDictionary(s => s.ShardName, s => s.Sequence);
            var behind = waitedFor.Where(name => !shards.Any(s => s.Key.StartsWith(name + ":", StringComparison.Ordinal) && s.Value >= sequence)).ToList();
            if (behind.Count == 0) return;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException(string.Create(CultureInfo.InvariantCulture,
                    $"The read models {string.Join(", ", behind)} had not reached event {sequence} after {timeout.TotalSeconds:0.#} s. Is a projection worker running?"));
            await Task.Delay(TimeSpan.FromMilliseconds(20), cancellation);
        }
    }
}
