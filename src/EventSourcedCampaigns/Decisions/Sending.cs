using static System.FormattableString;

namespace EventSourcedCampaigns.Decisions;

/// <summary>
/// The send time arrived (system). Does nothing if the campaign was paused, reverted or cancelled meanwhile.
/// <paramref name="MaxLateness"/>: the latest a send may start after it was due (null: any time). The start is due at
/// the send time, or when the campaign became ready to send if that was later (a long preparation, a resume after
/// the send time); a start later than that by more than <paramref name="MaxLateness"/> (the service was down, say)
/// pauses the campaign instead (<see cref="SendHeldAsLate"/>).
/// </summary>
public sealed record StartSend(Guid CampaignId, TimeSpan? MaxLateness = null) : CampaignCommand(CampaignId);

/// <summary>Claim a prepared batch before handing it to the provider: the linearization point against cancel.</summary>
public sealed record ClaimBatch(Guid CampaignId, int BatchNumber, string Variant, int Recipients) : CampaignCommand(CampaignId);

/// <summary>
/// The provider accepted a claimed batch: how many messages were delivered and how many failed. <paramref name="NotSent"/>:
/// how many were never handed to the provider, because the campaign was cancelled while they waited to be tried again
/// after an earlier attempt got the others through (only while Cancelling; they count as not sent, as a released batch's).
/// </summary>
public sealed record RecordBatchDelivery(Guid CampaignId, int BatchNumber, int Delivered, int Failed, int NotSent = 0) : CampaignCommand(CampaignId);

/// <summary>The provider permanently refused a claimed batch.</summary>
public sealed record RecordBatchFailure(Guid CampaignId, int BatchNumber, string Error) : CampaignCommand(CampaignId);

/// <summary>
/// A claimed batch whose provider call never started, released because the campaign was cancelled (system):
/// its recipients are counted as not sent.
/// </summary>
public sealed record ReleaseBatch(Guid CampaignId, int BatchNumber) : CampaignCommand(CampaignId);

internal static class SendingRules
{
    public static Decision Decide(StartSend c, CampaignState state, DateTimeOffset now) => state.Phase switch
    {
        _ when c.MaxLateness < TimeSpan.Zero =>
            Decision.Reject(RejectionCode.InvalidLateness, "The longest a send may start late can't be negative."),
        CampaignPhase.ReadyToSend p when now < p.Schedule.SendAt =>
            Decision.Reject(RejectionCode.SendTimeNotReached, Invariant($"The campaign is scheduled to send at {p.Schedule.SendAt:O}.")),
        CampaignPhase.ReadyToSend p when Lateness(p, state, now) is var late && late > c.MaxLateness =>
            Decision.Accept(new SendHeldAsLate(c.CampaignId, p.Schedule.SendAt, late, c.MaxLateness.Value, now)),
        CampaignPhase.ReadyToSend p => Decision.Accept(new SendStarted(c.CampaignId, p.Plan.Recipients, p.Plan.Batches, now)),
        CampaignPhase.Scheduling => Decision.Reject(RejectionCode.SchedulingNotComplete,
            "The audience is still being prepared; the send starts when scheduling completes."),
        _ => Decision.NoChange,
    };

    /// <summary>
    /// How late a start at <paramref name="now"/> is: counted from the send time, or from when the campaign became
    /// ready to send if that was later (nothing but the send's start moves a ready campaign, so that is its last change).
    /// </summary>
    private static TimeSpan Lateness(CampaignPhase.ReadyToSend ready, CampaignState state, DateTimeOffset now) =>
        now - (state.LastChangedAt > ready.Schedule.SendAt ? state.LastChangedAt : ready.Schedule.SendAt);

    public static Decision Decide(ClaimBatch c, CampaignState state, DateTimeOffset now)
    {
        switch (state.Phase)
        {
            case CampaignPhase.Cancelling or CampaignPhase.Cancelled or CampaignPhase.CancelledDuringSend:
                return Decision.Reject(RejectionCode.ClaimLostToCancel,
                    Invariant($"The campaign was cancelled; batch {c.BatchNumber} will not be sent."));
            case not CampaignPhase.Sending:
                return Decision.Reject(RejectionCode.NotSending, $"The campaign is not sending; it is {state.Status.ToDisplay()}.");
        }
        var (plan, progress, batchSize) = ((CampaignPhase.Sending)state.Phase) is var p ? (p.Plan, p.Progress, p.Schedule.BatchSize) : default;
        if (OutOfRange(c.BatchNumber, plan) is { } outOfRange) return outOfRange;
        if (progress.Recorded.Contains(c.BatchNumber))
            return Decision.Reject(RejectionCode.BatchAlreadyRecorded, Invariant($"Batch {c.BatchNumber} was already sent and recorded."));
        if (progress.InFlight.ContainsKey(c.BatchNumber)) return Decision.NoChange;
        if (state.Variants.All(v => v.Key != c.Variant))
            return Decision.Reject(RejectionCode.UnknownVariant, $"The campaign has no variant '{c.Variant}'.");
        if (c.Recipients < 1 || c.Recipients > batchSize || c.Recipients > progress.NotSent(plan))
            return Decision.Reject(RejectionCode.InvalidCount,
                Invariant($"Batch {c.BatchNumber} must hold between 1 and {Math.Min(batchSize, progress.NotSent(plan)):N0} recipients, not {c.Recipients:N0}."));
        return Decision.Accept(new BatchClaimed(c.CampaignId, c.BatchNumber, c.Variant, c.Recipients, now));
    }

    public static Decision Decide(RecordBatchDelivery c, CampaignState state, DateTimeOffset now) =>
        c.Delivered < 0 || c.Failed < 0 || c.NotSent < 0
            ? Decision.Reject(RejectionCode.InvalidCount, "Delivered, failed and not-sent counts can't be negative.")
            // Part of a batch is left unsent only when a cancel released the rest of it, as a whole batch is released.
            : c.NotSent > 0 && state.Phase is CampaignPhase.Sending
                ? NotCancelled(c.BatchNumber)
                : Record(c.CampaignId, c.BatchNumber, state, now, batch =>
                    c.Delivered + (long)c.Failed + c.NotSent == batch.Recipients
                        ? new BatchDelivered(c.CampaignId, c.BatchNumber, batch.Variant, c.Delivered, c.Failed,
                            state.Phase is CampaignPhase.Cancelling, now, c.NotSent)
                        : null);

    public static Decision Decide(RecordBatchFailure c, CampaignState state, DateTimeOffset now) =>
        Record(c.CampaignId, c.BatchNumber, state, now, batch =>
            new BatchFailed(c.CampaignId, c.BatchNumber, batch.Variant, batch.Recipients,
                string.IsNullOrWhiteSpace(c.Error) ? "unknown provider error" : StorableText.Of(c.Error), state.Phase is CampaignPhase.Cancelling, now));

    public static Decision Decide(ReleaseBatch c, CampaignState state, DateTimeOffset now) =>
        state.Phase is CampaignPhase.Sending
            ? NotCancelled(c.BatchNumber)
            : Record(c.CampaignId, c.BatchNumber, state, now, batch =>
                new BatchReleased(c.CampaignId, c.BatchNumber, batch.Variant, batch.Recipients, now));

    private static Decision NotCancelled(int batchNumber) => Decision.Reject(RejectionCode.NotCancelling,
        Invariant($"The campaign was not cancelled, so batch {batchNumber} must be sent, not released."));

    /// <summary>Record an in-flight batch's outcome, then whatever that completes: the send, or a pending cancel.</summary>
    private static Decision Record(Guid campaignId, int batchNumber, CampaignState state, DateTimeOffset now, Func<InFlightBatch, ICampaignEvent?> outcome)
    {
        var (plan, progress) = state.Phase switch
        {
            CampaignPhase.Sending p => (p.Plan, p.Progress),
            CampaignPhase.Cancelling p => (p.Plan, p.Progress),
            CampaignPhase.Sent p => (p.Plan, p.Progress),
            CampaignPhase.CancelledDuringSend p => (p.Plan, p.Progress),
            _ => (null!, null!),
        };
        if (progress is null)
            return Decision.Reject(RejectionCode.NotSending, $"The campaign is not sending; it is {state.Status.ToDisplay()}.");
        if (OutOfRange(batchNumber, plan) is { } outOfRange) return outOfRange;
        if (progress.Recorded.Contains(batchNumber)) return Decision.NoChange; // at-least-once delivery: count once
        if (!progress.InFlight.TryGetValue(batchNumber, out var batch))
            return Decision.Reject(RejectionCode.BatchNotClaimed, Invariant($"Batch {batchNumber} was never claimed, so it can't have been sent."));
        if (outcome(batch) is not { } recorded)
            return Decision.Reject(RejectionCode.InvalidCount, Invariant($"Delivered, failed and not sent must add up to the batch's {batch.Recipients:N0} recipients."));

        var after = CampaignState.Evolve(state, recorded)!;
        return after.Phase switch
        {
            CampaignPhase.Sending s when s.Progress.Recorded.Count == s.Plan.Batches =>
                Decision.Accept(recorded, new SendCompleted(campaignId, s.Progress.Delivered, s.Progress.Failed, now)),
            CampaignPhase.Cancelling s when s.Progress.InFlight.IsEmpty => Decision.Accept(recorded, CancellingRules.Stopped(campaignId, s, now)),
            _ => Decision.Accept(recorded),
        };
    }

    private static Decision? OutOfRange(int batchNumber, SendPlan plan) =>
        batchNumber < 1 || batchNumber > plan.Batches
            ? Decision.Reject(RejectionCode.BatchOutOfRange, Invariant($"Batch {batchNumber} doesn't exist; the campaign has batches 1 to {plan.Batches:N0}."))
            : null;
}
