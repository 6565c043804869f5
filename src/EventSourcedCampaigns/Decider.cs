using EventSourcedCampaigns.Decisions;
using static System.FormattableString;

namespace EventSourcedCampaigns;

/// <summary>
/// The campaign decider: <c>Decide(command, state, now)</c> returns the events to append or a typed
/// rejection; <see cref="CampaignState.Evolve"/> folds them. Pure: no I/O, time is an input.
/// </summary>
public static class Decider
{
    /// <summary>Decide what a command does to a campaign (null state: the campaign does not exist).</summary>
    public static Decision Decide(CampaignCommand command, CampaignState? state, DateTimeOffset now)
    {
        if (command is CreateCampaign create) return Creating.Decide(create, state, now);
        if (state is null)
            return Decision.Reject(RejectionCode.CampaignNotFound, "This campaign doesn't exist.");
        if (now < state.LastChangedAt)
            return Decision.Reject(RejectionCode.TimeWentBackwards,
                Invariant($"The request is dated {now:O}, before the campaign's last change at {state.LastChangedAt:O}."));

        return command switch
        {
            EditCampaign c => Editing.Decide(c, state, now),
            ScheduleCampaign c => SchedulingRules.Decide(c, state, now),
            RecordSchedulingProgress c => SchedulingRules.Decide(c, state, now),
            CompleteScheduling c => SchedulingRules.Decide(c, state, now),
            FailScheduling c => SchedulingRules.Decide(c, state, now),
            PauseSchedule c => Pausing.Decide(c, state, now),
            ResumeSchedule c => Pausing.Decide(c, state, now),
            RevertToDraft c => Pausing.Decide(c, state, now),
            StartSend c => SendingRules.Decide(c, state, now),
            ClaimBatch c => SendingRules.Decide(c, state, now),
            RecordBatchDelivery c => SendingRules.Decide(c, state, now),
            RecordBatchFailure c => SendingRules.Decide(c, state, now),
            ReleaseBatch c => SendingRules.Decide(c, state, now),
            CancelCampaign c => CancellingRules.Decide(c, state, now),
            CloneCampaign c => Cloning.Decide(c, state, now),
            _ => throw new ArgumentOutOfRangeException(nameof(command), command.GetType().Name, "Unknown campaign command."),
        };
    }

    /// <summary>
    /// What a store appends for a decision: its events, plus for a cancel the audit record of the attempt when the
    /// events are not one already (<see cref="CancellingRules.AuditOf"/>: <see cref="CancelRepeated"/> for a repeat,
    /// <see cref="CancelRejected"/> for any refusal; neither changes state). Other refusals append nothing. A
    /// <see cref="CancelRejected"/> of an unknown campaign has no campaign stream: the store keeps it in the tenant's
    /// audit stream.
    /// </summary>
    public static IReadOnlyList<ICampaignEvent> EventsToAppend(Decision decision, CampaignCommand command, CampaignState? state, DateTimeOffset now) =>
        command is CancelCampaign cancel && CancellingRules.AuditOf(cancel, state, decision, now) is { } audit
            ? [.. decision.Events, audit]
            : decision.Events;

    /// <summary>Decide, then fold the events: the state after the command (for tests and in-memory use).</summary>
    public static (Decision Decision, CampaignState? State) Run(CampaignCommand command, CampaignState? state, DateTimeOffset now)
    {
        var decision = Decide(command, state, now);
        return (decision, decision.Events.Aggregate(state, CampaignState.Evolve));
    }
}
