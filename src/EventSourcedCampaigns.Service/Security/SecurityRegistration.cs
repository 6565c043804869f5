using System.Globalization;
using System.Net;
using System.Threading.RateLimiting;
using EventSourcedCampaigns.Service.Http;
using Marten;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace EventSourcedCampaigns.Service.Security;

/// <summary>Authentication (bearer tokens, API keys), scope policies, 401/403 as problem details, the per-tenant rate limit.</summary>
public static class SecurityRegistration
{
    private const string EitherScheme = "BearerOrApiKey";
    public const string TenantRateLimit = "per-tenant";

    public static WebApplicationBuilder AddCampaignSecurity(this WebApplicationBuilder builder, AuthSettings auth)
    {
        var services = builder.Services;
        services.AddSingleton<ApiKeyStore>();
        services.ConfigureMarten(opts => opts.Schema.For<ApiKey>().Index(k => k.TenantId));
        // The dashboard's open sessions: looked up by id on every cookie request, the lapsed ones deleted by expiry.
        services.AddSingleton<DashboardSessionStore>();
        services.ConfigureMarten(opts => opts.Schema.For<DashboardSessionRecord>().Index(s => s.ExpiresAt));
        // The dashboard's session cookies are sealed with keys every node shares (docs/dashboard.md).
        services.ConfigureMarten(opts => opts.Schema.For<DataProtectionKeyDocument>());
        MartenXmlRepository.AddSharedDataProtection(services);

        // One scheme per request: an API key, else a bearer token, else the dashboard's session cookie (when the request
        // carries no Authorization header at all).
        var cookieName = DashboardSession.CookieNameIn(builder.Environment);
        services.AddAuthentication(EitherScheme)
            .AddPolicyScheme(EitherScheme, "Bearer token, API key or dashboard session", o => o.ForwardDefaultSelector = http =>
                ApiKeyAuthenticationHandler.Presented(http.Request) is not null ? ApiKeyAuthenticationHandler.SchemeName
                : DashboardSession.Presented(http.Request, cookieName) ? DashboardSession.SchemeName
                : JwtBearerDefaults.AuthenticationScheme)
            .AddJwtBearer(o => ConfigureBearer(o, auth, builder.Environment))
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null)
            .AddDashboardCookie(builder.Environment)
            .AddIdentityProviderSignIn(auth, builder.Environment);

        services.AddAuthorizationBuilder().SetFallbackPolicy(null).SetDefaultPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build());
        foreach (var scope in Scopes.All)
            services.AddAuthorizationBuilder().AddPolicy(scope, p => p.RequireAuthenticatedUser().RequireAssertion(c => CampaignIdentity.HasScope(c.User, scope)));
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, ProblemAuthorizationResults>();

        // Two limits (the middleware runs after authentication, before authorization's 401/403): the API's requests per
        // tenant, and requests without valid credentials per client address, so that guessing keys or tokens is throttled
        // before it reaches a 401. An authenticated caller never counts against an address, an unauthenticated one never
        // against a tenant.
        services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.AddPolicy(TenantRateLimit, http => http.User.Identity?.IsAuthenticated != true
                ? RateLimitPartition.GetNoLimiter("")
                : RateLimitPartition.GetFixedWindowLimiter(CampaignIdentity.TenantOf(http.User) ?? "anonymous",
                    _ => new FixedWindowRateLimiterOptions { PermitLimit = auth.RequestsPerMinutePerTenant, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 }));
            o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(http => UnauthenticatedAttempt(http, cookieName)
                ? RateLimitPartition.GetFixedWindowLimiter(ClientAddress.Of(http),
                    _ => new FixedWindowRateLimiterOptions { PermitLimit = auth.UnauthenticatedRequestsPerMinutePerAddress, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 })
                : RateLimitPartition.GetNoLimiter(""));
            o.OnRejected = async (context, cancellation) =>
            {
                if (context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter))
                    context.HttpContext.Response.Headers.RetryAfter = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                context.HttpContext.Response.Headers.CacheControl = "no-store";
                await Problems.Problem(StatusCodes.Status429TooManyRequests, "rate_limited", context.HttpContext.User.Identity?.IsAuthenticated == true
                        ? string.Create(CultureInfo.InvariantCulture, $"This tenant made more than {auth.RequestsPerMinutePerTenant:N0} requests in a minute; retry later.")
                        : string.Create(CultureInfo.InvariantCulture,
                            $"More than {auth.UnauthenticatedRequestsPerMinutePerAddress:N0} requests without valid credentials came from your address in a minute; retry later."))
                    .ExecuteAsync(context.HttpContext);
            };
        });
        return builder;
    }

    /// <summary>
    /// Whether a request counts against its address's limit of requests without valid credentials: it is not authenticated,
    /// and it either presents credentials (an Authorization or X-Api-Key header, the session cookie) that did not
    /// authenticate, or asks for an endpoint that needs them, or signs in with the identity provider (<c>/auth/oidc/...</c>:
    /// each makes a request to the provider). Anonymous requests for the dashboard's files, /auth/session,
    /// the health checks, /ops/projections and the OpenAPI document do not count: a load balancer's probes and a browser
    /// opening the sign-in page are not guesses.
    /// </summary>
    internal static bool UnauthenticatedAttempt(HttpContext http, string cookieName)
    {
        if (http.User.Identity?.IsAuthenticated == true) return false;
        var request = http.Request;
        return request.Headers.Authorization.Any(h => !string.IsNullOrEmpty(h))
               || request.Path.StartsWithSegments("/auth/oidc") // a sign-in with the identity provider, or its callback
               || request.Headers.ContainsKey(ApiKeyAuthenticationHandler.Header)
               || request.Cookies.ContainsKey(cookieName)
               || http.GetEndpoint()?.Metadata.GetMetadata<IAuthorizeData>() is not null;
    }

    /// <summary>
    /// Takes the client's address from <c>X-Forwarded-For</c> when the request comes from one of
    /// <see cref="AuthSettings.TrustedProxies"/> (the last address the proxy appended); nothing when none is configured.
    /// </summary>
    public static IApplicationBuilder UseTrustedProxies(this IApplicationBuilder app, AuthSettings auth)
    {
        if (auth.TrustedProxies.Length == 0) return app;
        var options = new ForwardedHeadersOptions { ForwardedHeaders = ForwardedHeaders.XForwardedFor, ForwardLimit = 1 };
        options.KnownProxies.Clear();
        options.KnownIPNetworks.Clear();
        foreach (var proxy in auth.TrustedProxies)
        {
            if (IPAddress.TryParse(proxy, out var address)) options.KnownProxies.Add(address);
            else options.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(proxy));
        }
        return app.UseForwardedHeaders(options);
    }

    private static void ConfigureBearer(JwtBearerOptions o, AuthSettings auth, IHostEnvironment environment)
    {
        o.MapInboundClaims = false; // keep "sub", "tenant_id" and "scope" as they are in the token
        o.Events = new JwtBearerEvents
        {
            // The token handler keeps the last of two equal names ({"tenant_id": "a", "tenant_id": "b"} acts for b); which one
            // another reader of the same token keeps is not ours to know, so such a token proves nothing (RFC 7519, 4).
            OnTokenValidated = context =>
            {
                if (context.SecurityToken is JsonWebToken token && CampaignIdentity.RepeatedClaim(token.EncodedPayload) is { } name)
                    context.Fail($"The token gives the claim '{name}' twice.");
                return Task.CompletedTask;
            },
        };
        var keys = auth.SigningKeys.Select((k, i) => (SecurityKey)SigningKeys.FromBase64(k, $"Campaigns:Auth:SigningKeys:{i}")).ToList();
        var issuers = new List<string> { auth.Issuer };
        // Development tokens are refused in Production whatever the settings say: their key is not even loaded.
        if (auth.DevelopmentTokens && !environment.IsProduction())
        {
            keys.Add(SigningKeys.Development(auth));
            issuers.Add(AuthSettings.DevelopmentIssuer);
        }
        if (auth.Authority is { Length: > 0 } authority)
        {
            o.Authority = authority;
            // http:// only to this machine (AuthSettings), and then its back channel too.
            (o.RequireHttpsMetadata, o.BackchannelHttpHandler) = (IdentityProviderSignIn.RequiresHttps(auth), IdentityProviderSignIn.BackchannelFor(auth));
            o.Audience = auth.Audience;
            o.TokenValidationParameters.ValidAudience = auth.Audience;
            return;
        }
        o.TokenValidationParameters = new TokenValidationParameters
        {
            ValidIssuers = issuers,
            ValidAudience = auth.Audience,
            IssuerSigningKeys = keys,
            ValidateIssuerSigningKey = true,
            ClockSkew = TimeSpan.FromMinutes(1),
            NameClaimType = CampaignIdentity.SubjectClaim,
        };
    }
}

/// <summary>401 and 403 as problem details with a code, like every other refusal of the API.</summary>
internal sealed class ProblemAuthorizationResults : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    /// <summary>The 401 of a request without valid credentials.</summary>
    public static Task ChallengeAsync(HttpContext context)
    {
        // RFC 6750: a bearer token that was sent and refused (expired, forged, for another audience) is named as such.
        var sentBearer = context.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase);
        context.Response.Headers.WWWAuthenticate = sentBearer ? "Bearer error=\"invalid_token\", ApiKey" : "Bearer, ApiKey";
        return Problems.Problem(StatusCodes.Status401Unauthorized, "unauthenticated", ApiKeyAuthenticationHandler.PresentsTwo(context.Request)
            ? "Send one credential: the request has an X-Api-Key header beside an Authorization header, or two X-Api-Key headers."
            : "Sign in: send a bearer token (Authorization: Bearer ...) or an API key (Authorization: ApiKey esc_...), or sign in to the dashboard (/app).").ExecuteAsync(context);
    }

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult result)
    {
        if (result.Challenged)
        {
            await ChallengeAsync(context);
            return;
        }
        if (result.Forbidden)
        {
            var needed = policy.Requirements.OfType<Microsoft.AspNetCore.Authorization.Infrastructure.AssertionRequirement>().Any()
                ? string.Join(", ", context.GetEndpoint()?.Metadata.GetOrderedMetadata<IAuthorizeData>().Select(a => a.Policy).OfType<string>() ?? [])
                : "";
            await Problems.Problem(StatusCodes.Status403Forbidden, "insufficient_scope",
                $"Your credentials do not allow this{(needed.Length > 0 ? $": it needs the scope {needed}" : "")}.").ExecuteAsync(context);
            return;
        }
        await _default.HandleAsync(next, context, policy, result);
    }
}
