using System.Text;
using Marten;

namespace EventSourcedCampaigns.Marten;

/// <summary>
/// The linearization point between a provider call and a cancel. Every append to a campaign (a cancel included) holds
/// the stream's row lock (<c>FOR UPDATE</c>) until it commits; the gate reads the campaign under a share lock of that
/// row and starts the provider call before letting go. So a cancel commits either before the gate's read (the batch
/// is released, never sent) or after the provider call began (it finishes and counts as delivered after the request):
/// no provider call starts after a cancel has committed. The same read says whether the batch's outcome row is written
/// (<see cref="RecipientOutcomes"/>): the provider already answered for it, or it was released, so it is never handed
/// over again (a dispatch step run again after its node died between that row and the step's commit).
/// </summary>
public static class SendGate
{
    /// <summary>
    /// Read the campaign under the share lock, and whether batch <paramref name="batchNumber"/> has its outcome row, in one
    /// statement; call <paramref name="start"/> with them (the campaign null when the tenant has no such campaign) and
    /// release the lock once <paramref name="start"/> returns. <paramref name="start"/> must only begin work (return the
    /// provider call's task without awaiting it), and must not begin it when the outcome is recorded.
    /// </summary>
    public static async Task<T> PassAsync<T>(this IDocumentStore store, string tenantId, Guid campaignId, int batchNumber,
        Func<CampaignState?, bool, T> start, CancellationToken cancellation = default)
    {
        await using var session = store.LightweightSession(tenantId);
        await session.BeginTransactionAsync(cancellation);
        var streams = $"{store.Options.Events.DatabaseSchemaName}.mt_streams";
        var states = store.Options.Schema.For<CampaignState>();
        var recorded = RecipientOutcomes.IsRecordedSql(session, "s.tenant_id", "s.id");
        var (json, isRecorded) = (await session.AdvancedSql.QueryAsync<string, bool>(
            $"select row(d.data::text), row({recorded}) from {streams} s join {states} d on d.id = s.id and d.tenant_id = s.tenant_id " +
            "where s.id = ? and s.tenant_id = ? for share of s, d", cancellation, batchNumber, campaignId, tenantId)).SingleOrDefault();
        var campaign = json is null ? null : store.Options.Serializer().FromJson<CampaignState>(new MemoryStream(Encoding.UTF8.GetBytes(json)));
        // Both rows are locked: after waiting for a cancel's commit, PostgreSQL re-reads only the rows it locks, and
        // the campaign's state must be the one the cancel wrote. Disposing the session ends the transaction (nothing was written) and so releases the share lock.
        // The outcome row is read in the statement's snapshot: one written under the stream lock (a batch's record) comes with
        // the write model that no longer has the batch in flight, which that re-read sees.
        return start(campaign, isRecorded);
    }
}
