using EventSourcedCampaigns.Ports;
using Marten;

namespace EventSourcedCampaigns.Marten;

/// <summary>
/// A prepared batch of recipients, stored when scheduling resolves the audience so that dispatch never resolves
/// it again. Deleted when the campaign finishes (sent or cancelled): recipients' addresses are not kept longer
/// than the send needs them.
/// </summary>
public sealed record CampaignBatch(string Id, Guid CampaignId, int BatchNumber, string Variant, Recipient[] Recipients)
{
    /// <summary>The document id of a campaign's batch.</summary>
    public static string IdFor(Guid campaignId, int batchNumber) => $"{campaignId:N}/{batchNumber}";
}

/// <summary>
/// A claimed batch whose dispatch is waiting (for rate-limit permits, or for the provider's Retry-After), alive at
/// <see cref="At"/>: the reconciler does not take it for a batch lost with its node. Id: the batch's
/// <see cref="CampaignBatch.IdFor"/>. Deleted with the prepared batches.
/// </summary>
public sealed record DispatchHeartbeat(string Id, Guid CampaignId, DateTimeOffset At);

/// <summary>A prepared batch as a claim sees it: its number, variant and number of recipients.</summary>
public sealed record BatchShape(int BatchNumber, string Variant, int Recipients);

/// <summary>Queries over prepared batches.</summary>
public static class PreparedBatches
{
    /// <summary>
    /// What a claim needs of prepared batches (number, variant, size), read in the database: a claim runs under the
    /// stream's row lock, and loading the documents would ship and deserialize every recipient while the other lanes wait.
    /// </summary>
    public static async Task<IReadOnlyList<BatchShape>> LoadBatchShapesAsync(this IQuerySession session, Guid campaignId, int[] numbers,
        CancellationToken cancellation = default)
    {
        var table = session.DocumentStore.Options.Schema.For<CampaignBatch>();
        return await session.AdvancedSql.QueryAsync<BatchShape>(
            $"select jsonb_build_object('BatchNumber', data->'BatchNumber', 'Variant', data->'Variant', 'Recipients', jsonb_array_length(data->'Recipients')) " +
            $"from {table} where tenant_id = ? and id = ANY(?)",
            cancellation, session.TenantId, numbers.Select(n => CampaignBatch.IdFor(campaignId, n)).ToArray());
    }
}
