namespace EventSourcedCampaigns;

/// <summary>A request to change one campaign. Each command's rules live in the file of its use case under Decisions/.</summary>
public abstract record CampaignCommand(Guid CampaignId);
