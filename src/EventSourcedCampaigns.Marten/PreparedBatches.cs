using EventSourcedCampaigns.Ports;
using Marten;
using Npgsql;

namespace EventSourcedCampaigns.Marten;

/// <summary>
/// A prepared batch of recipients, stored when scheduling resolves the audience so that dispatch never resolves
/// it again. Deleted when the campaign finishes (sent or cancelled): recipients' addresses are not kept longer
/// than the send needs them.
/// </summary>
public sealed record CampaignBatch(string Id, Guid CampaignId, int BatchNumber, string Variant, Recipient[] Recipients)
{
    /// <summary>
    /// How many recipients the batch has: stored in a column of its own, as <see cref="Variant"/> is, so that a claim reads
    /// a batch's shape without PostgreSQL decompressing its recipients (about 2 ms of server CPU for a batch of 1,000).
    /// </summary>
    public int RecipientCount => Recipients.Length;

    /// <summary>The document id of a campaign's batch.</summary>
    public static string IdFor(Guid campaignId, int batchNumber) => $"{campaignId:N}/{batchNumber}";

    /// <summary>
    /// Whether <paramref name="recipient"/> was erased after the batch was prepared (<see cref="RecipientOutcomes.EraseRecipientAsync"/>):
    /// it keeps its place, so the batch keeps its size, with no id, address or name, is never handed to the provider and
    /// counts as failed (<see cref="RecipientOutcomes.ErasedReason"/>). Scheduling refuses an audience's recipient without an id.
    /// </summary>
    public static bool IsErased(Recipient recipient) => string.IsNullOrEmpty(recipient.Id);

    /// <summary>
    /// What attempts of the batch's dispatch that then failed got to the provider (<see cref="PreparedBatches.SaveDispatchProgressAsync"/>):
    /// written before the step waits to try the rest again, so that the step run again after its node stopped or died
    /// meanwhile hands only the rest over. Null while no attempt got part of the batch through.
    /// </summary>
    public DispatchProgress? Progress { get; init; }

    /// <summary>
    /// On the last batch of a page of the audience that is not its last page: where the audience goes on. A page step run
    /// again after its commit went through unseen (the connection dropped during COMMIT, so the step it queued for the next
    /// page never ran) resumes scheduling from it. Null on the other batches.
    /// </summary>
    public AudienceCursor? NextPage { get; init; }
}

/// <summary>
/// Where a campaign's audience goes on after the page that began at <see cref="PageStart"/> recipients: the
/// <see cref="AudiencePage.Continuation"/> the audience source gave for the next page.
/// </summary>
public sealed record AudienceCursor(long PageStart, string Continuation);

/// <summary>
/// The places in <see cref="CampaignBatch.Recipients"/> of the recipients the provider took (<see cref="Accepted"/>) or
/// refused (<see cref="Refused"/>) on attempts that then failed. Places, not ids: an erase leaves them naming nobody, and a
/// place erased since counts as erased.
/// </summary>
public sealed record DispatchProgress(int[] Accepted, PlaceRefusal[] Refused);

/// <summary>The recipient at <see cref="Place"/> in a batch was refused by the provider, for <see cref="Reason"/>.</summary>
public sealed record PlaceRefusal(int Place, string Reason);

/// <summary>
/// A claimed batch whose dispatch is waiting (for rate-limit permits, or for the provider's Retry-After), alive at
/// <see cref="At"/>: the reconciler does not take it for a batch lost with its node. Id: the batch's
/// <see cref="CampaignBatch.IdFor"/>. Deleted with the prepared batches.
/// </summary>
public sealed record DispatchHeartbeat(string Id, Guid CampaignId, DateTimeOffset At);

/// <summary>A prepared batch as a claim sees it: its number, variant and number of recipients.</summary>
public sealed record BatchShape(int BatchNumber, string Variant, int Recipients);

/// <summary>What a dispatch step reads before it hands a batch to the provider (<see cref="PreparedBatches.LoadForDispatchAsync"/>).</summary>
/// <param name="Batch">The batch with its recipients; null once deleted (its campaign has finished).</param>
/// <param name="Campaign">The campaign's write model; null when the tenant has no such campaign.</param>
/// <param name="Next">The shape of the next batch asked for; null when there is none.</param>
/// <param name="Upcoming">The shapes of the batches asked for that exist, in batch order (<see cref="SendGate.PassWithBatchAsync{T}(IDocumentStore, string, Guid, int, IReadOnlyList{int}, Func{BatchToDispatch, bool, T}, CancellationToken)"/>); null when not asked.</param>
public sealed record BatchToDispatch(CampaignBatch? Batch, CampaignState? Campaign, BatchShape? Next, IReadOnlyList<BatchShape>? Upcoming = null);

/// <summary>Queries over prepared batches.</summary>
public static class PreparedBatches
{
    /// <summary>
    /// A batch, its campaign's write model, and the shape of batch <paramref name="nextNumber"/> (the next of its lane,
    /// which a record claims): one statement, one round trip. Read without a lock: the send gate re-reads the campaign
    /// under its lock before the provider call.
    /// </summary>
    public static async Task<BatchToDispatch> LoadForDispatchAsync(this IQuerySession session, Guid campaignId, int batchNumber, int nextNumber,
        CancellationToken cancellation = default)
    {
        var (batches, states) = (session.DocumentStore.Options.Schema.For<CampaignBatch>(), session.DocumentStore.Options.Schema.For<CampaignState>());
        await using var command = new NpgsqlCommand(
            $"select (select data from {batches} where tenant_id = $1 and id = $2), (select data from {states} where tenant_id = $1 and id = $3), " +
            $"(select {ShapeJson} from {batches} where tenant_id = $1 and id = $4)")
        {
            Parameters =
            {
                new() { Value = session.TenantId }, new() { Value = CampaignBatch.IdFor(campaignId, batchNumber) }, new() { Value = campaignId },
                new() { Value = CampaignBatch.IdFor(campaignId, nextNumber) },
            },
        };
        await using var reader = await session.ExecuteReaderAsync(command, cancellation);
        await reader.ReadAsync(cancellation);
        var serializer = session.DocumentStore.Options.Serializer();
        T? Read<T>(int column) where T : class => reader.IsDBNull(column) ? null : serializer.FromJson<T>(reader, column);
        return new BatchToDispatch(Read<CampaignBatch>(0), Read<CampaignState>(1), Read<BatchShape>(2));
    }

    // From the id and the batch's own columns (StoreOptionsExtensions): data->... would decompress the whole document, recipients
    // and all. A batch stored before those columns existed has them null, and its document says.
    internal const string ShapeJson =
        "jsonb_build_object('BatchNumber', split_part(id, '/', 2)::int, " +
        $"'Variant', coalesce({VariantColumn}, data->>'Variant'), 'Recipients', coalesce({RecipientCountColumn}, jsonb_array_length(data->'Recipients')))";

    /// <summary>The columns of <see cref="CampaignBatch.Variant"/> and <see cref="CampaignBatch.RecipientCount"/>.</summary>
    internal const string VariantColumn = "variant", RecipientCountColumn = "recipient_count";

    /// <summary>
    /// Store what attempts of a batch's dispatch got to the provider (<see cref="CampaignBatch.Progress"/>), in a statement
    /// of its own, replacing what was stored. Nothing happens to a batch deleted meanwhile (its campaign finished).
    /// </summary>
    public static async Task SaveDispatchProgressAsync(this IQuerySession session, string batchId, DispatchProgress progress,
        CancellationToken cancellation = default)
    {
        var (table, json) = (session.DocumentStore.Options.Schema.For<CampaignBatch>(), session.DocumentStore.Options.Serializer().ToJson(progress));
        await using var connection = session.Database.CreateConnection();
        await connection.OpenAsync(cancellation);
        // In place, as an erase writes its recipients: a whole document stored back could undo an erase committed meanwhile.
        await using var command = new NpgsqlCommand($"update {table} set data = jsonb_set(data, '{{Progress}}', $1::jsonb) where tenant_id = $2 and id = $3", connection)
        {
            Parameters = { new() { Value = json }, new() { Value = session.TenantId }, new() { Value = batchId } },
        };
        await command.ExecuteNonQueryAsync(cancellation);
    }

    /// <summary>
    /// What a claim needs of prepared batches (number, variant, size), read in the database: a claim runs under the
    /// stream's row lock, and loading the documents would ship and deserialize every recipient while the other lanes wait.
    /// </summary>
    public static async Task<IReadOnlyList<BatchShape>> LoadBatchShapesAsync(this IQuerySession session, Guid campaignId, int[] numbers,
        CancellationToken cancellation = default)
    {
        var table = session.DocumentStore.Options.Schema.For<CampaignBatch>();
        return await session.AdvancedSql.QueryAsync<BatchShape>(
            $"select {ShapeJson} from {table} where tenant_id = ? and id = ANY(?)",
            cancellation, session.TenantId, numbers.Select(n => CampaignBatch.IdFor(campaignId, n)).ToArray());
    }
}
