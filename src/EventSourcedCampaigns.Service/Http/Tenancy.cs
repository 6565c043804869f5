namespace EventSourcedCampaigns.Service.Http;

/// <summary>Every campaign request names its tenant (header X-Tenant-Id, or a "tenant_id" claim); none is refused.</summary>
public static class Tenancy
{
    public const string Header = "X-Tenant-Id";
    public const string Claim = "tenant_id";
    private const string Key = "campaigns.tenant";

    public static string Tenant(this HttpContext context) => (string)context.Items[Key]!;

    /// <summary>Refuses the request with 400 when it names no tenant.</summary>
    public static RouteGroupBuilder RequireTenant(this RouteGroupBuilder group) => group.AddEndpointFilter(async (context, next) =>
    {
        var http = context.HttpContext;
        var tenant = http.User.FindFirst(Claim)?.Value ?? http.Request.Headers[Header].FirstOrDefault();
        if (string.IsNullOrWhiteSpace(tenant) || tenant.Length > 100)
            return Problems.BadRequest("missing_tenant", $"Name the tenant in the {Header} header.");
        http.Items[Key] = tenant.Trim();
        return await next(context);
    });
}
