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
        // The bearer handler fetches the discovery document over HTTPS only.
        if (Authority is { Length: > 0 } authority
            && !(Uri.TryCreate(authority, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttps))
            problems.Add($"{prefix}{nameof(Authority)} is '{authority}'; use the identity provider's https:// issuer address.");
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
