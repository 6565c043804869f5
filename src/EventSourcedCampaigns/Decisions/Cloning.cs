namespace EventSourcedCampaigns.Decisions;

/// <summary>
/// Clone a finished campaign into a new draft (a cancelled campaign can't be resent; it is cloned).
/// <paramref name="RemainderOnly"/> makes the clone send only to the recipients the source never sent to: a campaign
/// cancelled before it sent reached nobody, so its remainder is its whole audience; a fully sent one has none.
/// </summary>
public sealed record CloneCampaign(Guid CampaignId, Guid CloneId, bool RemainderOnly, Actor ClonedBy) : CampaignCommand(CampaignId);

/// <summary>The rules of cloning.</summary>
public static class Cloning
{
    internal static Decision Decide(CloneCampaign c, CampaignState state, DateTimeOffset now)
    {
        if (Validate.Actor(c.ClonedBy) is { } bad) return Decision.Reject(bad.Code, bad.Message);
        if (!state.IsFinished)
            return Decision.Reject(RejectionCode.NotCloneable,
                $"Only a sent or cancelled campaign can be cloned; this one is {state.Status.ToDisplay()}.");
        if (c.CloneId == Guid.Empty || c.CloneId == c.CampaignId)
            return Decision.Reject(RejectionCode.NotCloneable, "The clone needs a new campaign id.");
        if (c.RemainderOnly && state.Phase is CampaignPhase.Sent)
            return Decision.Reject(RejectionCode.NotCloneable,
                "This campaign was fully sent: no recipient was left unsent, so there is no remainder (recipients that failed are not part of " +
                "one: a refused address is not retried blindly). Clone the whole campaign instead.");
        if (c.RemainderOnly && state.RemainderClone is { } earlier)
            return Decision.Reject(RejectionCode.NotCloneable,
                $"This campaign's remainder was already cloned, into campaign {earlier}: a second clone would send to the same recipients again. " +
                "Send that clone, or clone its own remainder if it was cancelled too.");
        return Decision.Accept(new CampaignCloned(c.CampaignId, c.CloneId, c.RemainderOnly, c.ClonedBy, now));
    }

    /// <summary>The command that creates the clone's draft, to run alongside <see cref="CloneCampaign"/>.</summary>
    public static CreateCampaign DraftFrom(CampaignState source, CloneCampaign c) => new(
        c.CloneId, CloneName(source.Name, c.RemainderOnly), source.Channel, source.Variants, c.ClonedBy, OriginOf(source, c.RemainderOnly));

    /// <summary>
    /// Where the clone's audience comes from. A campaign cancelled before it sent reached nobody, so its remainder is
    /// everyone it was to reach: for an ordinary campaign, its lists (an ordinary clone, scheduled with them); for a clone
    /// for the remainder, the remainder of its own source, which it never sent to (its lists were never used, and its own
    /// recipient outcomes hold only what it had prepared when cancelled while Scheduling).
    /// </summary>
    private static CloneOrigin OriginOf(CampaignState source, bool remainderOnly) => source switch
    {
        { Phase: CampaignPhase.Cancelled, ClonedFrom: { RemainderOnly: true } first } when remainderOnly => first,
        { Phase: CampaignPhase.Cancelled } => new CloneOrigin(source.Id, RemainderOnly: false),
        _ => new CloneOrigin(source.Id, remainderOnly),
    };

    /// <summary>The new draft's events, to start the clone's stream alongside the source's <see cref="CampaignCloned"/>.</summary>
    public static IReadOnlyList<ICampaignEvent> DraftEvents(CampaignState source, CloneCampaign c, DateTimeOffset now) =>
        Decider.Decide(DraftFrom(source, c), null, now).EventsOrThrow();

    /// <summary>
    /// "Spring sale (copy)", or "Spring sale (remainder)" when the marketer asked for the remainder, so the two tell
    /// apart in the Campaigns list. A long source name is cut to make room: the suffix always shows.
    /// </summary>
    private static string CloneName(string sourceName, bool remainderOnly)
    {
        var suffix = remainderOnly ? " (remainder)" : " (copy)";
        var keep = Validate.EndOfFirst(sourceName, CampaignLimits.MaxNameLength - suffix.Length);
        return sourceName[..keep].TrimEnd() + suffix; // a cut after a space leaves none before the suffix
    }
}
