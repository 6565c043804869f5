namespace EventSourcedCampaigns.Decisions;

/// <summary>Change name and content. Allowed in Draft and Paused only.</summary>
public sealed record EditCampaign(Guid CampaignId, string Name, Variant[] Variants, Actor EditedBy) : CampaignCommand(CampaignId);

internal static class Editing
{
    public static Decision Decide(EditCampaign c, CampaignState state, DateTimeOffset now) => state.Phase switch
    {
        CampaignPhase.Draft or CampaignPhase.Paused =>
            Validate.AsDecision(Validate.Name(c.Name), Validate.Variants(c.Variants), Validate.Actor(c.EditedBy))
            ?? Decision.Accept(new CampaignEdited(c.CampaignId, c.Name.Trim(), c.Variants, c.EditedBy, now)),
        CampaignPhase.Sent => Decision.Reject(RejectionCode.NotEditable, "A sent campaign can't be edited. Clone it to make changes."),
        _ => Decision.Reject(RejectionCode.NotEditable,
            $"A campaign can only be edited as a draft or while paused; this one is {state.Status.ToDisplay()}."),
    };
}
