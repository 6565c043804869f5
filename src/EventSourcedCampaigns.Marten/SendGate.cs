using System.Text;
using Marten;

namespace EventSourcedCampaigns.Marten;

/// <summary>
/// The linearization point between a provider call and a cancel. Every append to a campaign (a cancel included) holds
/// the stream's row lock (<c>FOR UPDATE</c>) until it commits; the gate reads the campaign under a share lock of that
/// row and starts the provider call before letting go. So a cancel commits either before the gate's read (the batch
/// is released, never sent) or after the provider call began (it finishes and counts as delivered after the request):
/// no provider call starts after a cancel has committed.
/// </summary>
public static class SendGate
{
    /// <summary>
    /// Read the campaign under the share lock, call <paramref name="start"/> with it (null when the tenant has no
    /// such campaign) and release the lock once <paramref name="start"/> returns. <paramref name="start"/> must only
    /// begin work (return the provider call's task without awaiting it).
    /// </summary>
    public static async Task<T> PassAsync<T>(this IDocumentStore store, string tenantId, Guid campaignId,
        Func<CampaignState?, T> start, CancellationToken cancellation = default)
    {
        await using var session = store.LightweightSession(tenantId);
        await session.BeginTransactionAsync(cancellation);
        var streams = $"{store.Options.Events.DatabaseSchemaName}.mt_streams";
        var states = store.Options.Schema.For<CampaignState>();
        var json = (await session.AdvancedSql.QueryAsync<string>(
            $"select d.data::text from {streams} s join {states} d on d.id = s.id and d.tenant_id = s.tenant_id " +
            "where s.id = ? and s.tenant_id = ? for share of s, d", cancellation, campaignId, tenantId)).SingleOrDefault();
        var campaign = json is null ? null : store.Options.Serializer().FromJson<CampaignState>(new MemoryStream(Encoding.UTF8.GetBytes(json)));
        // Both rows are locked: after waiting for a cancel's commit, PostgreSQL re-reads only the rows it locks, and
        // the campaign's state must be the one the cancel wrote. Disposing the session ends the transaction (nothing was written) and so releases the share lock.
        return start(campaign);
    }
}
