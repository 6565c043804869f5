using System.Globalization;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using EventSourcedCampaigns.Service.Http;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;

namespace EventSourcedCampaigns.Service.Security;

/// <summary>Body of POST /auth/dev-sign-in: who to be, outside Production only.</summary>
public sealed record DevSignInBody(string? Tenant, string? Name, string[]? Scopes);

/// <summary>What the dashboard learns about its session (GET /auth/session).</summary>
public sealed record DashboardSessionInfo(bool SignedIn, string? Tenant, string? Actor, IReadOnlyList<string> Scopes, string? CsrfToken,
    bool DevelopmentSignIn, string SignInHint, bool IdentityProviderSignIn);

/// <summary>Why no dashboard session was opened for a user: the answer of <c>POST /auth/token-sign-in</c>, the reason of a failed identity-provider sign-in.</summary>
public sealed record SessionRefusal(int Status, string Code, string Detail);

/// <summary>
/// The dashboard's cookie session (docs/dashboard.md). The cookie carries the same claims a bearer token does
/// (tenant_id, sub, scope) plus a per-session anti-forgery token and the id of its session record
/// (<see cref="DashboardSessionStore"/>: signing out ends the session on every node); it is HttpOnly, SameSite=Strict and,
/// outside Development, Secure with the <c>__Host-</c> prefix, and every
/// cookie-authenticated request that changes something must also send that token in <see cref="CsrfHeader"/>, which a
/// page of another site cannot read. In development a sign-in page picks the tenant, name and scopes; in Production the
/// operator's identity provider is the only way in (no development sign-in, whatever the settings say).
/// </summary>
public static class DashboardSession
{
    public const string SchemeName = CookieAuthenticationDefaults.AuthenticationScheme;
    /// <summary>
    /// The cookie's name outside Development. A browser keeps a <c>__Host-</c> cookie only if it is Secure, set over HTTPS,
    /// with Path=/ and no Domain, so no other host of the domain (a sibling subdomain, a plain-HTTP page) can set or
    /// overwrite it.
    /// </summary>
    public const string CookieName = "__Host-campaigns.session";
    /// <summary>The cookie's name in Development, where it may travel over plain HTTP (a browser refuses <c>__Host-</c> there).</summary>
    public const string DevelopmentCookieName = "campaigns.session";
    public const string CsrfHeader = "X-CSRF-Token";
    /// <summary>The identity provider's sign-in (OpenID Connect, authorization code with PKCE), when it is configured.</summary>
    public const string IdentityProviderScheme = "oidc";
    /// <summary>Where the identity provider sends the marketer back (register it with the provider as the dashboard's redirect URI).</summary>
    public const string IdentityProviderCallback = "/auth/oidc/callback";
    /// <summary>Where the dashboard goes after a sign-in with the identity provider that did not complete (refused, cancelled, no tenant).</summary>
    public const string IdentityProviderFailed = "/app/?sign-in=failed#/sign-in";
    public const string CsrfClaim = "csrf";
    /// <summary>A bearer token's expiry (seconds since 1970), as validated.</summary>
    private const string ExpiryClaim = "exp";
    /// <summary>How long a session lasts without a request (it slides), at most.</summary>
    public static readonly TimeSpan SessionLifetime = TimeSpan.FromHours(8);

    /// <summary>
    /// Whether this host offers the development sign-in: in the Development environment only. It asks for no secret (any
    /// tenant, any name), so a Staging or QA host reachable by others must not offer it either.
    /// </summary>
    public static bool DevelopmentSignInEnabled(AuthSettings auth, IHostEnvironment environment) =>
        auth.DevelopmentSignIn && environment.IsDevelopment();

    /// <summary>The session cookie's name in <paramref name="environment"/>.</summary>
    public static string CookieNameIn(IHostEnvironment environment) => environment.IsDevelopment() ? DevelopmentCookieName : CookieName;

    /// <summary>
    /// The cookie scheme: HttpOnly, SameSite=Strict, Secure and <c>__Host-</c> outside Development, 8 hours sliding (see
    /// <see cref="SessionOf"/>), checked against its open session on every request; 401/403 instead of redirects.
    /// </summary>
    public static AuthenticationBuilder AddDashboardCookie(this AuthenticationBuilder auth, IHostEnvironment environment) =>
        auth.AddCookie(SchemeName, o =>
        {
            o.Cookie.Name = CookieNameIn(environment);
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Strict;
            // Behind a proxy that ends TLS every request looks like plain HTTP here: the cookie would then lack Secure, and a
            // browser would send it over http:// too. Only a Development host on plain HTTP gets a cookie without it.
            o.Cookie.SecurePolicy = environment.IsDevelopment() ? CookieSecurePolicy.SameAsRequest : CookieSecurePolicy.Always;
            o.Cookie.Path = "/"; // and no Domain: both required by __Host-
            o.ExpireTimeSpan = SessionLifetime;
            o.SlidingExpiration = true;
            // The cookie is only a pointer to a session kept in the database: signing out (on any node) ends it, and a session
            // opened with an API key lasts only as long as the key. Either way a copy of the cookie stops working at its next request.
            o.Events.OnValidatePrincipal = async c =>
            {
                if (c.Principal is { } user
                    && await c.HttpContext.RequestServices.GetRequiredService<DashboardSessionStore>().IsOpenAsync(user, c.HttpContext.RequestAborted))
                    return;
                c.RejectPrincipal();
                await c.HttpContext.SignOutAsync(SchemeName);
            };
            o.Events.OnRedirectToLogin = c => { c.Response.StatusCode = StatusCodes.Status401Unauthorized; return Task.CompletedTask; };
            o.Events.OnRedirectToAccessDenied = c => { c.Response.StatusCode = StatusCodes.Status403Forbidden; return Task.CompletedTask; };
        });

    /// <summary>Whether the request sends a token or an API key (a non-empty Authorization or X-Api-Key header), valid or not.</summary>
    private static bool SentCredentials(HttpRequest request) =>
        request.Headers.Authorization.Any(h => !string.IsNullOrWhiteSpace(h)) || request.Headers[ApiKeyAuthenticationHandler.Header].Any(h => !string.IsNullOrWhiteSpace(h));

    /// <summary>Whether the request presents the session cookie (named <paramref name="cookieName"/>) and no other credentials.</summary>
    public static bool Presented(HttpRequest request, string cookieName) =>
        request.Cookies.ContainsKey(cookieName) && !request.Headers.Authorization.Any(h => !string.IsNullOrEmpty(h));

    /// <summary>
    /// Refuses (403) a cookie-authenticated request that may change something (not GET, HEAD, OPTIONS or TRACE) unless it
    /// carries the session's anti-forgery token in <see cref="CsrfHeader"/>. Runs after authentication.
    /// </summary>
    public static IApplicationBuilder UseDashboardCsrfProtection(this IApplicationBuilder app) => app.Use(async (http, next) =>
    {
        if (http.User.Identity is { IsAuthenticated: true, AuthenticationType: SchemeName }
            && !(HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method)
                 || HttpMethods.IsOptions(http.Request.Method) || HttpMethods.IsTrace(http.Request.Method))
            && !CsrfMatches(http))
        {
            await Problems.Problem(StatusCodes.Status403Forbidden, ProblemCodes.CsrfTokenMissing,
                $"A request of the dashboard session that changes something must carry the session's {CsrfHeader} header.").ExecuteAsync(http);
            return;
        }
        await next(http);
    });

    private static bool CsrfMatches(HttpContext http) =>
        http.User.FindFirst(CsrfClaim)?.Value is { Length: > 0 } expected
        && http.Request.Headers[CsrfHeader].FirstOrDefault() is { Length: > 0 } sent
        && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(sent));

    /// <summary>
    /// How long a session opened with <paramref name="user"/>'s credentials lasts. A bearer token's session ends when the
    /// token expires (or after <see cref="SessionLifetime"/>, if sooner) and is never renewed: sliding renewal would keep
    /// an expired token's access alive. An API key's session slides, since revoking the key ends it.
    /// </summary>
    public static AuthenticationProperties SessionOf(ClaimsPrincipal user, DateTimeOffset now)
    {
        if (ApiKeyOf(user) is not null) return new AuthenticationProperties();
        var ends = now + SessionLifetime;
        if (long.TryParse(user.FindFirst(ExpiryClaim)?.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            && seconds < ends.ToUnixTimeSeconds())
            ends = DateTimeOffset.FromUnixTimeSeconds(seconds);
        return new AuthenticationProperties { ExpiresUtc = ends, AllowRefresh = false };
    }

    /// <summary>
    /// Opens the session of <paramref name="user"/>, a caller the API accepts (a validated token or an API key): the same
    /// tenant, subject and scopes, plus the session's id (<see cref="DashboardSessionStore"/>) and anti-forgery token, lasting
    /// as <see cref="SessionOf"/> says. Or why not: no tenant or subject, a token already expired.
    /// </summary>
    public static async Task<(ClaimsPrincipal? Session, AuthenticationProperties? Properties, SessionRefusal? Refusal)> OpenAsync(HttpContext http, ClaimsPrincipal user)
    {
        if (CampaignIdentity.TenantOf(user) is not { } tenant || CampaignIdentity.ActorOf(user) is not { } actor)
            return (null, null, new(StatusCodes.Status403Forbidden, "missing_identity", "The token must name a tenant (tenant_id) and a subject (sub)."));
        var scopes = Scopes.All.Where(s => CampaignIdentity.HasScope(user, s)).ToList();
        var key = ApiKeyOf(user);
        var now = http.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
        var properties = SessionOf(user, now);
        // A token past its expiry but within the validation's clock skew authenticates this request, and would open a
        // session that is over before the dashboard's next request: refused now, with the reason.
        if (properties.ExpiresUtc <= now)
            return (null, null, new(StatusCodes.Status401Unauthorized, "token_expired",
                "The token has expired. Get a new one from your identity provider and sign in again."));
        var sessionId = await http.RequestServices.GetRequiredService<DashboardSessionStore>()
            .OpenAsync(tenant, actor.Id, key, properties.ExpiresUtc, http.RequestAborted);
        var claims = new List<Claim>
        {
            new(DashboardSessionStore.SessionClaim, sessionId),
            new(CampaignIdentity.SubjectClaim, actor.Id),
            new(CampaignIdentity.TenantClaim, tenant),
            new(CampaignIdentity.ScopeClaim, string.Join(' ', scopes)),
            new(CsrfClaim, Convert.ToHexString(RandomNumberGenerator.GetBytes(32))),
        };
        // An API key keeps its channel in the audit.
        if (key is not null) claims.Add(new Claim(CampaignIdentity.ApiKeyClaim, key));
        return (new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName, CampaignIdentity.SubjectClaim, null)), properties, null);
    }

    /// <summary>
    /// The API key <paramref name="user"/> authenticated with, if it did: an <c>api_key_id</c> claim in a token proves no key
    /// (a session opened with it would slide past the token's expiry, audited as the key's).
    /// </summary>
    private static string? ApiKeyOf(ClaimsPrincipal user) =>
        CampaignIdentity.ByApiKey(user) ? user.FindFirst(CampaignIdentity.ApiKeyClaim)?.Value : null;

    /// <summary>GET /auth/session, POST /auth/dev-sign-in (development only), POST /auth/token-sign-in, GET /auth/oidc/sign-in, POST /auth/sign-out.</summary>
    public static IEndpointRouteBuilder MapDashboardSession(this IEndpointRouteBuilder app, AuthSettings auth, IHostEnvironment environment)
    {
        var development = DevelopmentSignInEnabled(auth, environment);
        var identityProvider = auth.IdentityProviderSignIn;
        var hint = development
            ? "Development sign-in: pick a tenant, your name and scopes. In Production you sign in through your organisation's identity provider."
            : identityProvider
                ? "Sign in with your organisation's account, or with a token from its identity provider (or an API key). The development sign-in is not available here."
                : "Sign in with a token from your organisation's identity provider (or an API key). The development sign-in is not available here.";

        app.MapGet("/auth/session", (HttpContext http) =>
        {
            var user = http.User;
            var signedIn = user.Identity?.IsAuthenticated == true;
            var scopes = Scopes.All.Where(s => CampaignIdentity.HasScope(user, s)).ToList();
            http.Response.Headers.CacheControl = "no-store";
            return Results.Ok(new DashboardSessionInfo(signedIn, CampaignIdentity.TenantOf(user), CampaignIdentity.ActorOf(user)?.Id,
                signedIn ? scopes : [], signedIn ? user.FindFirst(CsrfClaim)?.Value : null, development, hint, identityProvider));
        }).WithName("GetDashboardSession").ExcludeFromDescription();

        app.MapPost("/auth/dev-sign-in", async (DevSignInBody body, HttpContext http) =>
        {
            if (!development)
                return Problems.Problem(StatusCodes.Status404NotFound, "dev_sign_in_disabled", hint);
            var tenant = body.Tenant?.Trim() ?? "";
            var name = body.Name?.Trim() ?? "";
            var scopes = (body.Scopes ?? []).Distinct().ToList();
            if (!CampaignIdentity.IsUsable(tenant, CampaignIdentity.MaxTenantLength) || !CampaignIdentity.IsUsable(name, CampaignIdentity.MaxSubjectLength))
                return Problems.BadRequest("invalid_sign_in",
                    $"Give a tenant (1 to {CampaignIdentity.MaxTenantLength} characters) and your name (1 to {CampaignIdentity.MaxSubjectLength}), without control characters.");
            if (scopes.Count == 0 || scopes.Except(Scopes.All).Any())
                return Problems.BadRequest("invalid_sign_in", $"Pick one or more scopes of {string.Join(", ", Scopes.All)}.");
            var sessionId = await http.RequestServices.GetRequiredService<DashboardSessionStore>().OpenAsync(tenant, name, null, null, http.RequestAborted);
            var identity = new ClaimsIdentity([
                new Claim(DashboardSessionStore.SessionClaim, sessionId),
                new Claim(CampaignIdentity.SubjectClaim, name),
                new Claim(CampaignIdentity.TenantClaim, tenant),
                new Claim(CampaignIdentity.ScopeClaim, string.Join(' ', scopes)),
                new Claim(CsrfClaim, Convert.ToHexString(RandomNumberGenerator.GetBytes(32))),
            ], SchemeName, CampaignIdentity.SubjectClaim, null);
            await http.SignInAsync(SchemeName, new ClaimsPrincipal(identity));
            return Results.NoContent();
        }).WithName("DevelopmentSignIn").ExcludeFromDescription();

        // Signing in with a token the identity provider issued (or an API key): the request authenticates as the API
        // does, and the session carries the same tenant, subject and scopes. This works in Production too.
        app.MapPost("/auth/token-sign-in", async (HttpContext http) =>
        {
            var user = http.User;
            if (user.Identity is not { IsAuthenticated: true } || user.Identity.AuthenticationType == SchemeName)
                // A credential that was sent and did not validate is not a missing one: say which, so nobody hunts for a header.
                return Problems.Problem(StatusCodes.Status401Unauthorized, "unauthenticated", SentCredentials(http.Request)
                    ? "The token or API key is not valid: it is expired, was revoked, or was not issued for this service. Get a new one and sign in again."
                    : "Send the token to sign in with in the Authorization header (Bearer ... or ApiKey ...).");
            var (session, properties, refusal) = await OpenAsync(http, user);
            if (refusal is not null) return Problems.Problem(refusal.Status, refusal.Code, refusal.Detail);
            await http.SignInAsync(SchemeName, session!, properties);
            return Results.NoContent();
        }).WithName("TokenSignIn").ExcludeFromDescription();

        // The identity provider's sign-in: off to the provider, back at IdentityProviderCallback, where the session opens as
        // a token's does (IdentityProviderSignIn). A link, not a form: it changes nothing here before the provider answers.
        app.MapGet("/auth/oidc/sign-in", async (HttpContext http) =>
        {
            if (!identityProvider)
                return Problems.Problem(StatusCodes.Status404NotFound, "identity_provider_sign_in_disabled",
                    "This service has no identity provider sign-in (Campaigns:Auth:Authority and DashboardClientId): sign in with a token.");
            try
            {
                await http.ChallengeAsync(IdentityProviderScheme, new AuthenticationProperties { RedirectUri = "/app/" });
            }
            catch (Exception e) when (e is InvalidOperationException or HttpRequestException)
            {
                // The provider's discovery document could not be read (the provider is down, or its address is wrong): the
                // sign-in page says the sign-in did not complete, instead of an error page.
                http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(DashboardSession))
                    .LogWarning(e, "The identity provider could not be reached for a dashboard sign-in");
                http.Response.Redirect(IdentityProviderFailed);
            }
            return Results.Empty;
        }).WithName("IdentityProviderSignIn").ExcludeFromDescription();

        // Ends the session on every node (a copy of the cookie no longer opens it), then deletes the browser's cookie.
        app.MapPost("/auth/sign-out", async (HttpContext http) =>
        {
            if (http.User.Identity?.AuthenticationType == SchemeName && http.User.FindFirst(DashboardSessionStore.SessionClaim)?.Value is { } sessionId)
                await http.RequestServices.GetRequiredService<DashboardSessionStore>().EndAsync(sessionId, CancellationToken.None);
            await http.SignOutAsync(SchemeName);
            return Results.NoContent();
        }).WithName("SignOut").ExcludeFromDescription();
        return app;
    }
}
