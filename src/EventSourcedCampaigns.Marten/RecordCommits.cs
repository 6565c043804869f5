using Marten;

namespace EventSourcedCampaigns.Marten;

/// <summary>What the commit of a batch's record appended besides the record.</summary>
public static class RecordCommits
{
    private static readonly string Claimed = CampaignEvents.StoredName(typeof(BatchClaimed));

    private static readonly string[] Records =
        [.. new[] { typeof(BatchDelivered), typeof(BatchFailed), typeof(BatchReleased) }.Select(CampaignEvents.StoredName)];

    /// <summary>
    /// The batches claimed in the transaction that recorded batch <paramref name="batchNumber"/> of the campaign: a record
    /// continues its lane with the next batch in the same transaction. The events of one transaction share its server
    /// timestamp, and the stream's row lock keeps every other transaction's events out between them.
    /// </summary>
    public static async Task<IReadOnlyList<int>> BatchesClaimedWithRecordOfAsync(this IQuerySession session, Guid campaignId, int batchNumber,
        CancellationToken cancellation = default)
    {
        var events = $"{session.DocumentStore.Options.Events.DatabaseSchemaName}.mt_events";
        return await session.AdvancedSql.QueryAsync<int>(
            $"select (c.data ->> 'BatchNumber')::int from {events} r join {events} c on c.tenant_id = r.tenant_id and c.stream_id = r.stream_id " +
            "and c.version > r.version and c.timestamp = r.timestamp and c.type = ? " +
            "where r.tenant_id = ? and r.stream_id = ? and r.type = any(?) and (r.data ->> 'BatchNumber')::int = ?",
            cancellation, Claimed, session.TenantId, campaignId, Records, batchNumber);
    }
}
