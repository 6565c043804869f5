using static System.FormattableString;

namespace EventSourcedCampaigns.Decisions;

/// <summary>Schedule a draft: the audience is prepared into batches of <paramref name="BatchSize"/>, then it sends at <paramref name="SendAt"/>.</summary>
public sealed record ScheduleCampaign(Guid CampaignId, DateTimeOffset SendAt, Audience Audience, int BatchSize, Actor ScheduledBy)
    : CampaignCommand(CampaignId);

/// <summary>Audience preparation reports progress (system).</summary>
public sealed record RecordSchedulingProgress(Guid CampaignId, long RecipientsPrepared, long RecipientsTotal, int BatchesPrepared)
    : CampaignCommand(CampaignId);

/// <summary>Audience preparation finished (system).</summary>
public sealed record CompleteScheduling(Guid CampaignId, long Recipients, int Batches, VariantShare[] Variants)
    : CampaignCommand(CampaignId);

/// <summary>
/// The audience could not be resolved (system): the campaign goes back to Draft with the reason.
/// <paramref name="ScheduledAt"/> names the schedule attempt (<see cref="Schedule.ScheduledAt"/>), so a late
/// failure of an earlier schedule that was reverted meanwhile changes nothing.
/// </summary>
public sealed record FailScheduling(Guid CampaignId, DateTimeOffset ScheduledAt, string Reason) : CampaignCommand(CampaignId);

internal static class SchedulingRules
{
    /// <summary>Longest failure reason kept; longer ones are cut.</summary>
    public const int MaxFailureReasonLength = 1_000;

    public static Decision Decide(ScheduleCampaign c, CampaignState state, DateTimeOffset now)
    {
        // The schedule in effect asked for again (a client's retry after a lost answer): nothing to record.
        if (state.Phase is CampaignPhase.Scheduling { Schedule: var preparing } && IsRepeatOf(c, preparing)
            || state.Phase is CampaignPhase.ReadyToSend { Schedule: var ready } && IsRepeatOf(c, ready))
            return Validate.AsDecision(Validate.Actor(c.ScheduledBy)) ?? Decision.NoChange;
        if (state.Phase is not CampaignPhase.Draft)
            return Decision.Reject(RejectionCode.NotSchedulable,
                $"Only a draft can be scheduled; this campaign is {state.Status.ToDisplay()}.");
        return Validate.AsDecision(Validate.Actor(c.ScheduledBy), Audience(c.Audience, remainder: state.ClonedFrom is { RemainderOnly: true }),
                   c.BatchSize is < 1 or > CampaignLimits.MaxBatchSize
                       ? new(RejectionCode.InvalidBatchSize, Invariant($"The batch size must be between 1 and {CampaignLimits.MaxBatchSize:N0}."))
                       : null,
                   c.SendAt <= now ? new(RejectionCode.SendTimeNotInFuture, "The send time must be in the future.") : null)
               ?? Decision.Accept(new Scheduled(c.CampaignId, c.SendAt, c.Audience, c.BatchSize, c.ScheduledBy, now));
    }

    private static bool IsRepeatOf(ScheduleCampaign c, Schedule schedule) =>
        c.SendAt == schedule.SendAt && c.BatchSize == schedule.BatchSize && c.Audience is { } audience
        // No exclusions may be given as null (the rules read it as none), in either schedule.
        && (audience.Included ?? []).SequenceEqual(schedule.Audience.Included ?? [])
        && (audience.Excluded ?? []).SequenceEqual(schedule.Audience.Excluded ?? []);

    public static Decision Decide(RecordSchedulingProgress c, CampaignState state, DateTimeOffset now)
    {
        if (state.Phase is not CampaignPhase.Scheduling p)
            return NotScheduling(state);
        if (c.RecipientsPrepared < 0 || c.RecipientsTotal < c.RecipientsPrepared || c.BatchesPrepared < 0)
            return Decision.Reject(RejectionCode.InvalidCount, "Prepared counts must be between zero and the total.");
        if (c.RecipientsPrepared < p.Prepared || c.BatchesPrepared < p.BatchesPrepared)
            return Decision.Reject(RejectionCode.InvalidCount, "Scheduling progress can't go backwards.");
        if (c.RecipientsPrepared == p.Prepared && c.RecipientsTotal == p.Total && c.BatchesPrepared == p.BatchesPrepared)
            return Decision.NoChange;
        return Decision.Accept(new SchedulingProgressed(c.CampaignId, c.RecipientsPrepared, c.RecipientsTotal, c.BatchesPrepared, now));
    }

    public static Decision Decide(CompleteScheduling c, CampaignState state, DateTimeOffset now)
    {
        if (state.Phase is CampaignPhase.ReadyToSend ready && ready.Plan.Recipients == c.Recipients && ready.Plan.Batches == c.Batches)
            return Decision.NoChange;
        if (state.Phase is not CampaignPhase.Scheduling p)
            return NotScheduling(state);
        if (c.Recipients < 1)
            return Decision.Reject(RejectionCode.InvalidAudience, "The audience has no recipients once exclusions are applied.");
        var fewestBatches = c.Recipients / p.Schedule.BatchSize + (c.Recipients % p.Schedule.BatchSize == 0 ? 0 : 1); // no overflow near long.MaxValue
        if (c.Batches < fewestBatches || c.Batches > c.Recipients)
            return Decision.Reject(RejectionCode.InvalidCount,
                Invariant($"{c.Recipients:N0} recipients in batches of {p.Schedule.BatchSize:N0} need between {fewestBatches:N0} and {c.Recipients:N0} batches, not {c.Batches:N0}."));
        var keys = state.Variants.Select(v => v.Key).ToHashSet();
        if (c.Variants is null || c.Variants.Any(s => s is null || !keys.Contains(s.Variant)) || c.Variants.Select(s => s.Variant).Distinct().Count() != c.Variants.Length)
            return Decision.Reject(RejectionCode.UnknownVariant, "The recipients were split over variants this campaign doesn't have.");
        if (c.Variants.Any(s => s.Recipients < 0) || c.Variants.Sum(s => (decimal)s.Recipients) != c.Recipients) // decimal: shares can't overflow
            return Decision.Reject(RejectionCode.InvalidCount, "The variants' recipients must add up to the total.");
        return Decision.Accept(new SchedulingCompleted(c.CampaignId, c.Recipients, c.Batches, c.Variants, now));
    }

    public static Decision Decide(FailScheduling c, CampaignState state, DateTimeOffset now)
    {
        if (state.Phase is not CampaignPhase.Scheduling p)
            return NotScheduling(state);
        if (p.Schedule.ScheduledAt != c.ScheduledAt)
            return Decision.NoChange; // a stale report about an earlier schedule attempt
        // The resolver's words are kept, in a form the event can be stored with.
        var reason = StorableText.Of(StorableText.Of(c.Reason ?? "").Trim(), MaxFailureReasonLength);
        if (reason.Length == 0) reason = "unknown error";
        return Decision.Accept(new SchedulingFailed(c.CampaignId, reason, now));
    }

    /// <summary>
    /// The lists are checked as given; a clone for the remainder may name none, for it goes to the recipients its source
    /// did not reach whatever lists it names.
    /// </summary>
    private static Rejection? Audience(Audience? audience, bool remainder)
    {
        static Rejection Bad(string why) => new(RejectionCode.InvalidAudience, why);
        if (audience?.Included is not { } included || (included.Length == 0 && !remainder)) return Bad("Choose at least one list or segment to send to.");
        var excluded = audience.Excluded ?? [];
        if (included.Concat(excluded).Any(string.IsNullOrWhiteSpace)) return Bad("A list or segment id is empty.");
        if (included.Length + excluded.Length > CampaignLimits.MaxLists) return Bad(Invariant($"A campaign can name at most {CampaignLimits.MaxLists} lists and segments."));
        if (included.Concat(excluded).Any(id => CampaignLimits.LengthOf(id) > CampaignLimits.MaxListIdLength))
            return Bad(Invariant($"A list or segment id is longer than {CampaignLimits.MaxListIdLength} characters."));
        if (included.Concat(excluded).Any(Validate.HasNul)) return Bad("A list or segment id contains a NUL character.");
        if (included.Intersect(excluded).Any()) return Bad("A list or segment can't be both included and excluded.");
        return null;
    }

    private static Decision NotScheduling(CampaignState state) =>
        Decision.Reject(RejectionCode.NotScheduling, $"The campaign is not being scheduled; it is {state.Status.ToDisplay()}.");
}
