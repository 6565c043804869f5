using System.Text;
using Marten;
using Npgsql;

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

    /// <summary>
    /// <see cref="PassAsync{T}"/> that also reads batch <paramref name="batchNumber"/> with its recipients and the shape of
    /// batch <paramref name="nextNumber"/> in the same round trip, for a dispatch step's first pass: one round trip instead
    /// of two, and the recipients are not held in memory while the step waits for the lock.
    /// </summary>
    public static Task<T> PassWithBatchAsync<T>(this IDocumentStore store, string tenantId, Guid campaignId, int batchNumber, int nextNumber,
        Func<BatchToDispatch, bool, T> start, CancellationToken cancellation = default) =>
        store.PassWithBatchAsync(tenantId, campaignId, batchNumber, [nextNumber], start, cancellation);

    /// <summary>
    /// <see cref="PassAsync{T}"/> that also reads batch <paramref name="batchNumber"/> with its recipients and the shapes of
    /// the batches <paramref name="upcoming"/> (those a record may claim next) in the same round trip, for a dispatch step's
    /// first pass: one round trip instead of two, and the recipients are not held in memory while the step waits for the lock.
    /// <see cref="BatchToDispatch.Next"/> is the shape of the first of <paramref name="upcoming"/>.
    /// </summary>
    public static async Task<T> PassWithBatchAsync<T>(this IDocumentStore store, string tenantId, Guid campaignId, int batchNumber,
        IReadOnlyList<int> upcoming, Func<BatchToDispatch, bool, T> start, CancellationToken cancellation = default)
    {
        await using var session = store.LightweightSession(tenantId);
        await session.BeginTransactionAsync(cancellation);
        var (streams, states, batches) = ($"{store.Options.Events.DatabaseSchemaName}.mt_streams", store.Options.Schema.For<CampaignState>(),
            store.Options.Schema.For<CampaignBatch>());
        // Two statements: a row lock that waited for a writer makes PostgreSQL evaluate the locking statement's output again
        // for the row's new version, and the batch (1,000 recipients to decompress) would be read twice. The second runs
        // once the locks are held; prepared batches do not change while a campaign sends.
        await using var batch = new NpgsqlBatch(session.Connection)
        {
            BatchCommands =
            {
                new($"select d.data, {RecipientOutcomes.IsRecordedSql(session, "s.tenant_id", "s.id", "$3")} from {streams} s " +
                    $"join {states} d on d.id = s.id and d.tenant_id = s.tenant_id where s.tenant_id = $1 and s.id = $2 for share of s, d")
                {
                    Parameters = { new() { Value = tenantId }, new() { Value = campaignId }, new() { Value = batchNumber } },
                },
                new($"select (select data from {batches} where tenant_id = $1 and id = $2), " +
                    $"(select jsonb_agg({PreparedBatches.ShapeJson}) from {batches} where tenant_id = $1 and id = any($3))")
                {
                    Parameters =
                    {
                        new() { Value = tenantId }, new() { Value = CampaignBatch.IdFor(campaignId, batchNumber) },
                        new() { Value = upcoming.Select(n => CampaignBatch.IdFor(campaignId, n)).ToArray() },
                    },
                },
            },
        };
        var serializer = store.Options.Serializer();
        await using var reader = await batch.ExecuteReaderAsync(cancellation);
        TRead? Read<TRead>(int column) where TRead : class => reader.IsDBNull(column) ? null : serializer.FromJson<TRead>(reader, column);
        var (campaign, recorded) = await reader.ReadAsync(cancellation) ? (Read<CampaignState>(0), reader.GetBoolean(1)) : (null, false);
        await reader.NextResultAsync(cancellation);
        await reader.ReadAsync(cancellation);
        var shapes = Read<BatchShape[]>(1)?.OrderBy(b => b.BatchNumber).ToArray(); // null: none of them exists
        var read = new BatchToDispatch(Read<CampaignBatch>(0), campaign, shapes?.FirstOrDefault(b => upcoming.Count > 0 && b.BatchNumber == upcoming[0]), shapes);
        // As in PassAsync: the share lock is held until the session is disposed, after start returns.
        return start(read, recorded);
    }
}
