namespace EventSourcedCampaigns.Service.Security;

/// <summary>
/// What a caller may do, as scopes in its token's "scope" claim (space-separated) or on its API key. Each is also
/// the name of the authorization policy that requires it.
/// </summary>
public static class Scopes
{
    /// <summary>The Campaigns list, reports, event histories, who received a campaign.</summary>
    public const string CampaignsRead = "campaigns:read";
    /// <summary>Create, edit, schedule, pause, resume, revert, clone.</summary>
    public const string CampaignsWrite = "campaigns:write";
    /// <summary>Cancel (kept apart from write: the one action auditors ask about).</summary>
    public const string CampaignsCancel = "campaigns:cancel";
    /// <summary>The cancellation audit, its export and its verification.</summary>
    public const string AuditRead = "audit:read";

    /// <summary>Every scope, for validation and for tokens that may do everything.</summary>
    public static IReadOnlyList<string> All { get; } = [CampaignsRead, CampaignsWrite, CampaignsCancel, AuditRead];
}
