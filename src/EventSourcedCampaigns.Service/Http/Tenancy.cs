using EventSourcedCampaigns.Service.Security;

namespace EventSourcedCampaigns.Service.Http;

/// <summary>
/// Every campaign request acts for the tenant of its credentials (the token's "tenant_id" claim, or the API key's
/// tenant) and for the actor they name. A header claiming a tenant or an actor is ignored.
/// </summary>
public static class Tenancy
{
    private const string TenantKey = "campaigns.tenant";
    private const string ActorKey = "campaigns.actor";

    public static string Tenant(this HttpContext context) => (string)context.Items[TenantKey]!;

    public static Actor Actor(this HttpContext context) => (Actor)context.Items[ActorKey]!;

    /// <summary>Refuses with 403 an authenticated caller whose credentials name no tenant or no subject.</summary>
    public static RouteGroupBuilder RequireTenant(this RouteGroupBuilder group) => group.WithMetadata(new TenantScopedMetadata()).AddEndpointFilter(async (context, next) =>
    {
        var http = context.HttpContext;
        var tenant = CampaignIdentity.TenantOf(http.User);
        var actor = CampaignIdentity.ActorOf(http.User);
        if (tenant is null || actor is null)
            return Problems.Problem(StatusCodes.Status403Forbidden, "missing_identity",
                $"Your credentials must name one tenant (tenant_id claim, at most {CampaignIdentity.MaxTenantLength} characters) and one " +
                $"subject (sub claim, at most {CampaignIdentity.MaxSubjectLength}), without control characters.");
        http.Items[TenantKey] = tenant;
        http.Items[ActorKey] = actor;
        return await next(context);
    });
}
