using Marten;

namespace EventSourcedCampaigns.Marten;

/// <summary>The campaign's stream row lock, taken in a session's transaction.</summary>
public static class StreamLock
{
    /// <summary>
    /// Take the campaign's stream row lock (<c>for update</c>) now, in the session's transaction, as the commands that load
    /// their campaign with <c>FetchForExclusiveWriting</c> do when they load it: for a handler that loads its campaign
    /// without the lock and appends to it later. Appending without it deadlocked with such a command in PostgreSQL (each
    /// waited for the other's new event or stream row) until PostgreSQL undid one, a second later. Returns the stream's
    /// version, null when the tenant has no such stream; an append expecting another version then fails as a lost race.
    /// </summary>
    public static async Task<long?> LockCampaignStreamAsync(this IDocumentSession session, Guid campaignId, CancellationToken cancellation = default)
    {
        await session.BeginTransactionAsync(cancellation);
        var versions = await session.AdvancedSql.QueryAsync<long>(
            $"select version from {session.DocumentStore.Options.Events.DatabaseSchemaName}.mt_streams where id = ? and tenant_id = ? for update",
            cancellation, campaignId, session.TenantId);
        return versions.Count == 0 ? null : versions[0];
    }
}
