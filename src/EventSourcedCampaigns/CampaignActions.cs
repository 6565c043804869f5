namespace EventSourcedCampaigns;

/// <summary>What a marketer can do with a campaign now (the buttons in the Campaigns tab).</summary>
[Flags]
public enum CampaignActions
{
    None = 0,
    Edit = 1,
    Schedule = 2,
    Pause = 4,
    Resume = 8,
    RevertToDraft = 16,
    Cancel = 32,
    Clone = 64,
}

/// <summary>The actions each status allows; mirrors the decider's rules (a test keeps the two in step).</summary>
public static class AvailableActions
{
    /// <summary>The actions a campaign in this status accepts.</summary>
    public static CampaignActions For(CampaignStatus status) => status switch
    {
        CampaignStatus.Draft => CampaignActions.Edit | CampaignActions.Schedule,
        CampaignStatus.Scheduling => CampaignActions.Cancel | CampaignActions.RevertToDraft,
        CampaignStatus.Scheduled => CampaignActions.Cancel | CampaignActions.Pause | CampaignActions.RevertToDraft,
        CampaignStatus.Paused => CampaignActions.Cancel | CampaignActions.Resume | CampaignActions.Edit | CampaignActions.RevertToDraft,
        CampaignStatus.Sending => CampaignActions.Cancel,
        CampaignStatus.Sent or CampaignStatus.Cancelled or CampaignStatus.CancelledDuringSend => CampaignActions.Clone,
        _ => CampaignActions.None, // Cancelling: the cancel is under way, nothing else applies
    };
}
