using System.Security.Claims;

namespace EventSourcedCampaigns.Service.Security;

/// <summary>
/// Who is calling, from the authenticated principal only: the tenant from its validated "tenant_id" claim (a token
/// claim, or the API key's tenant), the actor from its subject. Nothing the caller merely says (a header) counts.
/// </summary>
public static class CampaignIdentity
{
    public const string TenantClaim = "tenant_id";
    public const string SubjectClaim = "sub";
    public const string ScopeClaim = "scope";
    /// <summary>Set on principals authenticated with an API key.</summary>
    public const string ApiKeyClaim = "api_key_id";

    /// <summary>The tenant the principal belongs to, or null when its credentials name none.</summary>
    public static string? TenantOf(ClaimsPrincipal user) => user.FindFirst(TenantClaim)?.Value is { Length: > 0 } tenant ? tenant : null;

    /// <summary>The actor the audit records: a user by its subject, an API key by its name.</summary>
    public static Actor? ActorOf(ClaimsPrincipal user) =>
        user.FindFirst(SubjectClaim)?.Value is not { Length: > 0 } subject ? null
        : new Actor(subject, user.HasClaim(c => c.Type == ApiKeyClaim) ? RequestChannel.ApiKey : RequestChannel.User);

    /// <summary>Whether the principal was granted <paramref name="scope"/>.</summary>
    public static bool HasScope(ClaimsPrincipal user, string scope) =>
        user.FindAll(ScopeClaim).Concat(user.FindAll("scp"))
            .SelectMany(c => c.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Contains(scope, StringComparer.Ordinal);
}
