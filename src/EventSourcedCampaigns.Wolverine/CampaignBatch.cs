using EventSourcedCampaigns.Ports;

namespace EventSourcedCampaigns.Wolverine;

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
