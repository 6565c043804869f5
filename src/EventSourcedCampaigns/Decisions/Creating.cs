namespace EventSourcedCampaigns.Decisions;

/// <summary>Create a draft campaign (a clone passes where it came from).</summary>
public sealed record CreateCampaign(
    Guid CampaignId, string Name, Channel Channel, Variant[] Variants, Actor CreatedBy, CloneOrigin? ClonedFrom = null)
    : CampaignCommand(CampaignId);

internal static class Creating
{
    public static Decision Decide(CreateCampaign c, CampaignState? state, DateTimeOffset now)
    {
        if (state is not null)
            return Decision.Reject(RejectionCode.CampaignAlreadyExists, "A campaign with this id already exists.");
        if (c.CampaignId == Guid.Empty)
            return Decision.Reject(RejectionCode.InvalidCampaignId, "A campaign id is required.");
        return Validate.AsDecision(Validate.Name(c.Name), Validate.Variants(c.Channel, c.Variants), Validate.Actor(c.CreatedBy),
                   Enum.IsDefined(c.Channel) ? null : new(RejectionCode.InvalidChannel, "Choose email, SMS or push as the channel."))
               ?? Decision.Accept(new CampaignCreated(c.CampaignId, c.Name.Trim(), c.Channel, [.. c.Variants.Select(v => v.WithoutEmptySubject())], c.ClonedFrom, c.CreatedBy, now));
    }
}
