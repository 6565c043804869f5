using static System.FormattableString;

namespace EventSourcedCampaigns.Decisions;

/// <summary>Change name and content. Allowed in Draft and Paused only.</summary>
public sealed record EditCampaign(Guid CampaignId, string Name, Variant[] Variants, Actor EditedBy) : CampaignCommand(CampaignId);

internal static class Editing
{
    public static Decision Decide(EditCampaign c, CampaignState state, DateTimeOffset now) => state.Phase switch
    {
        CampaignPhase.Draft => Edit(c, state, now),
        CampaignPhase.Paused => KeepsTheSplit(c.Variants, state.Variants) ?? Edit(c, state, now),
        CampaignPhase.Sent => Decision.Reject(RejectionCode.NotEditable, "A sent campaign can't be edited. Clone it to make changes."),
        _ => Decision.Reject(RejectionCode.NotEditable,
            $"A campaign can only be edited as a draft or while paused; this one is {state.Status.ToDisplay()}."),
    };

    // The channel is the campaign's (an edit keeps it): it decides whether a variant needs a subject. An edit that
    // changes nothing (a client's retry after a lost answer) records nothing.
    private static Decision Edit(EditCampaign c, CampaignState state, DateTimeOffset now) =>
        Validate.AsDecision(Validate.Name(c.Name), Validate.Variants(state.Channel, c.Variants), Validate.Actor(c.EditedBy))
        ?? (c.Name.Trim() == state.Name && Stored(c.Variants).SequenceEqual(Stored(state.Variants))
            ? Decision.NoChange
            : Decision.Accept(new CampaignEdited(c.CampaignId, c.Name.Trim(), Stored(c.Variants), c.EditedBy, now)));

    /// <summary>An SMS has no subject, given as null or as "" (the dashboard's empty field): the same either way.</summary>
    private static Variant[] Stored(Variant[] variants) => [.. variants.Select(v => v.WithoutEmptySubject())];

    /// <summary>A paused campaign's audience is already split into batches per variant: content may change, the split may not.</summary>
    private static Decision? KeepsTheSplit(Variant[]? edited, Variant[] planned) =>
        edited is not null && edited.Length == planned.Length
        && edited.All(e => e is not null && planned.Any(p => p.Key == e.Key && p.SplitPercent == e.SplitPercent))
            ? null
            : Decision.Reject(RejectionCode.InvalidVariants,
                $"The audience is already split across variants {string.Join(", ", planned.Select(p => Invariant($"{p.Key} ({p.SplitPercent}%)")))}: " +
                "edit their subject and content, or revert to draft to change the variants.");
}
