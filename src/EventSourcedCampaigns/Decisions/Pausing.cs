namespace EventSourcedCampaigns.Decisions;

/// <summary>Put a scheduled campaign on hold.</summary>
public sealed record PauseSchedule(Guid CampaignId, Actor PausedBy) : CampaignCommand(CampaignId);

/// <summary>Schedule a paused campaign again.</summary>
public sealed record ResumeSchedule(Guid CampaignId, Actor ResumedBy) : CampaignCommand(CampaignId);

/// <summary>Withdraw the schedule: back to Draft. Not a cancellation; nothing is recorded as cancelled.</summary>
public sealed record RevertToDraft(Guid CampaignId, Actor RevertedBy) : CampaignCommand(CampaignId);

internal static class Pausing
{
    public static Decision Decide(PauseSchedule c, CampaignState state, DateTimeOffset now) => state.Phase switch
    {
        _ when Validate.Actor(c.PausedBy) is { } bad => Decision.Reject(bad.Code, bad.Message),
        CampaignPhase.ReadyToSend => Decision.Accept(new SchedulePaused(c.CampaignId, c.PausedBy, now)),
        CampaignPhase.Paused => Decision.NoChange,
        _ => Decision.Reject(RejectionCode.NotPausable,
            $"Only a scheduled campaign that hasn't started sending can be paused; this one is {state.Status.ToDisplay()}."),
    };

    public static Decision Decide(ResumeSchedule c, CampaignState state, DateTimeOffset now) => state.Phase switch
    {
        _ when Validate.Actor(c.ResumedBy) is { } bad => Decision.Reject(bad.Code, bad.Message),
        CampaignPhase.Paused => Decision.Accept(new ScheduleResumed(c.CampaignId, c.ResumedBy, now)),
        CampaignPhase.ReadyToSend => Decision.NoChange,
        _ => Decision.Reject(RejectionCode.NotResumable, $"Only a paused campaign can be resumed; this one is {state.Status.ToDisplay()}."),
    };

    public static Decision Decide(RevertToDraft c, CampaignState state, DateTimeOffset now) => state.Phase switch
    {
        _ when Validate.Actor(c.RevertedBy) is { } bad => Decision.Reject(bad.Code, bad.Message),
        CampaignPhase.Scheduling or CampaignPhase.ReadyToSend or CampaignPhase.Paused =>
            Decision.Accept(new ScheduleReverted(c.CampaignId, c.RevertedBy, now)),
        CampaignPhase.Draft => Decision.NoChange,
        _ => Decision.Reject(RejectionCode.NotRevertible,
            $"Only a campaign that hasn't started sending can go back to draft; this one is {state.Status.ToDisplay()}."),
    };
}
