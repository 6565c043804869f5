namespace EventSourcedCampaigns.Service.Security;

/// <summary>
/// How callers authenticate (section Campaigns:Auth). Bearer tokens come from an identity provider
/// (<see cref="Authority"/>, validated through its discovery document) or are signed with shared
/// <see cref="SigningKeys"/>; machine clients use API keys (created with the service's <c>api-keys</c> command).
/// </summary>
public sealed class AuthSettings
{
    /// <summary>An OpenID Connect issuer (e.g. https://login.example.com/realms/shop); its keys are fetched from discovery.</summary>
    public string? Authority { get; set; }

    /// <summary>The audience tokens must be issued for.</summary>
    public string Audience { get; set; } = "campaigns-api";

    /// <summary>
    /// The dashboard's client id at the identity provider of <see cref="Authority"/>: with it, the sign-in page offers
    /// "Sign in with your organisation's account" (OpenID Connect, authorization code with PKCE, docs/dashboard.md). Without
    /// it, marketers sign in with a token they paste.
    /// </summary>
    public string? DashboardClientId { get; set; }

    /// <summary>The dashboard client's secret, when the identity provider registered it as a confidential client (PKCE either way).</summary>
    public string? DashboardClientSecret { get; set; }

    /// <summary>
    /// The scopes the dashboard's sign-in asks for besides <c>openid</c>: those under which the identity provider issues an
    /// access token for <see cref="Audience"/> with the API's scopes (Keycloak's or Okta's client scopes, Entra's
    /// <c>api://.../campaigns.read</c>). None given: the API's own scope names. (Not a default list: configuration would add to it.)
    /// </summary>
    public string[] DashboardScopes { get; set; } = [];

    /// <summary>What the dashboard's sign-in asks for besides <c>openid</c>.</summary>
    public IReadOnlyList<string> DashboardScopesAskedFor => DashboardScopes.Length > 0 ? DashboardScopes : Security.Scopes.All;

    /// <summary>Issuer of tokens signed with <see cref="SigningKeys"/>.</summary>
    public string Issuer { get; set; } = "campaigns";

    /// <summary>Base64 HMAC-SHA256 keys (at least 32 bytes) that sign tokens when there is no <see cref="Authority"/>.</summary>
    public string[] SigningKeys { get; set; } = [];

    /// <summary>
    /// Accept development tokens (<c>bash eng/serve.sh token</c>), signed with a key generated per installation in
    /// <see cref="DevelopmentKeyFile"/>. Never in the Production environment, whatever this says.
    /// </summary>
    public bool DevelopmentTokens { get; set; } = true;

    /// <summary>
    /// Offer the dashboard's development sign-in (pick a tenant, a name and scopes; docs/dashboard.md). Only in the
    /// Development environment, whatever this says.
    /// </summary>
    public bool DevelopmentSignIn { get; set; } = true;

    /// <summary>Where the development signing key lives (created on first use, readable by its owner only).</summary>
    public string DevelopmentKeyFile { get; set; } = Path.Combine(
        Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config", "eventsourcedcampaigns", "dev-signing-key");

    /// <summary><see cref="Authority"/> when it is usable: https://, or http:// to this machine.</summary>
    public Uri? AuthorityUri =>
        Uri.TryCreate(Authority, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback))
            ? uri : null;

    /// <summary>Whether the dashboard offers the identity provider's sign-in (<see cref="DashboardClientId"/> and <see cref="Authority"/>).</summary>
    public bool IdentityProviderSignIn => !string.IsNullOrWhiteSpace(DashboardClientId) && AuthorityUri is not null;

    /// <summary>Issuer of development tokens.</summary>
    public const string DevelopmentIssuer = "campaigns-development";

    /// <summary>Requests per minute one tenant may make to the API (all its callers together).</summary>
    public int RequestsPerMinutePerTenant { get; set; } = 1_200;

    /// <summary>
    /// Requests per minute one client address may make without valid credentials: a failed sign-in, an unknown or revoked
    /// API key, a forged or expired token, a signed-out session cookie, or no credentials for the API. Throttles guessing;
    /// authenticated callers count against <see cref="RequestsPerMinutePerTenant"/> only. 10 a second by default: keys and
    /// tokens cannot be guessed at that rate, and a client checking every endpoint's 401 still gets them.
    /// </summary>
    public int UnauthenticatedRequestsPerMinutePerAddress { get; set; } = 600;

    /// <summary>
    /// Addresses (<c>10.0.0.5</c>) or networks (<c>10.0.0.0/8</c>) of the reverse proxies or load balancers in front of the
    /// service, whose <c>X-Forwarded-For</c> names the client. Without them every client behind a proxy shares the proxy's
    /// address, and so one limit of requests without valid credentials; a header from anyone else is ignored (a client
    /// could otherwise pick a fresh address for every guess).
    /// </summary>
    public string[] TrustedProxies { get; set; } = [];

    /// <summary>
    /// What the service could not run with, each naming its setting under <paramref name="prefix"/>: checked at start,
    /// since the bearer handler and the rate limiter read these only at the first request, where they would fail it with a 500.
    /// </summary>
    public IReadOnlyList<string> Problems(string prefix)
    {
        List<string> problems = [];
        if (RequestsPerMinutePerTenant < 1) problems.Add($"{prefix}{nameof(RequestsPerMinutePerTenant)} must be at least 1.");
        if (UnauthenticatedRequestsPerMinutePerAddress < 1)
            problems.Add($"{prefix}{nameof(UnauthenticatedRequestsPerMinutePerAddress)} must be at least 1.");
        if (string.IsNullOrWhiteSpace(Audience)) problems.Add($"{prefix}{nameof(Audience)} must not be empty.");
        foreach (var proxy in TrustedProxies)
            if (!(System.Net.IPAddress.TryParse(proxy, out _) || System.Net.IPNetwork.TryParse(proxy, out _)))
                problems.Add($"{prefix}{nameof(TrustedProxies)} has '{proxy}'; give an IP address (10.0.0.5) or a network (10.0.0.0/8).");
        // The discovery document and the keys come over HTTPS, or from an identity provider on this very machine (a developer's
        // Keycloak on http://localhost:8080): plain HTTP never leaves it there.
        if (Authority is { Length: > 0 } authority && AuthorityUri is null)
            problems.Add($"{prefix}{nameof(Authority)} is '{authority}'; use the identity provider's https:// issuer address (http:// only on this machine: localhost, 127.0.0.1).");
        if (DashboardClientId is { Length: > 0 } && string.IsNullOrWhiteSpace(Authority))
            problems.Add($"{prefix}{nameof(DashboardClientId)} needs {prefix}{nameof(Authority)}: the identity provider the dashboard signs in with.");
        for (var i = 0; i < SigningKeys.Length; i++)
        {
            try
            {
                Security.SigningKeys.FromBase64(SigningKeys[i], $"{prefix}{nameof(SigningKeys)}:{i}");
            }
            catch (InvalidOperationException e)
            {
                problems.Add(e.Message);
            }
        }
        return problems;
    }
}
