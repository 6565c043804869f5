using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace EventSourcedCampaigns.Service.Security;

/// <summary>
/// The dashboard's sign-in with the organisation's identity provider (docs/dashboard.md): OpenID Connect, authorization
/// code with PKCE, against <see cref="AuthSettings.Authority"/> as <see cref="AuthSettings.DashboardClientId"/>. The
/// provider's access token is validated exactly as the API validates a bearer token (issuer, audience, keys, claims), and
/// the session opens with its tenant, subject and scopes, until it expires, as a pasted token's does: whoever signs in here
/// can do in the dashboard what the same token could do over the API, no more.
/// </summary>
public static class IdentityProviderSignIn
{
    public static AuthenticationBuilder AddIdentityProviderSignIn(this AuthenticationBuilder authentication, AuthSettings auth, IHostEnvironment environment)
    {
        if (!auth.IdentityProviderSignIn) return authentication;
        // Outside Development the flow's own cookies are __Host- ones too, as the session's: a sibling host of the domain could
        // otherwise plant its own correlation and nonce and sign the marketer in as its own account (login CSRF).
        var cookiePrefix = environment.IsDevelopment() ? "" : "__Host-";
        return authentication.AddOpenIdConnect(DashboardSession.IdentityProviderScheme, "Your organisation's account", o =>
        {
            o.Authority = auth.Authority;
            (o.RequireHttpsMetadata, o.BackchannelHttpHandler) = (RequiresHttps(auth), BackchannelFor(auth));
            o.ClientId = auth.DashboardClientId;
            o.ClientSecret = string.IsNullOrWhiteSpace(auth.DashboardClientSecret) ? null : auth.DashboardClientSecret;
            o.ResponseType = OpenIdConnectResponseType.Code;
            o.UsePkce = true;
            o.CallbackPath = DashboardSession.IdentityProviderCallback;
            o.SignInScheme = DashboardSession.SchemeName;
            o.MapInboundClaims = false;
            o.SaveTokens = false; // the session keeps the claims, not the tokens
            o.GetClaimsFromUserInfoEndpoint = false;
            o.Scope.Clear();
            o.Scope.Add(OpenIdConnectScope.OpenId);
            foreach (var scope in auth.DashboardScopesAskedFor) o.Scope.Add(scope);
            (o.CorrelationCookie.Name, o.CorrelationCookie.Path) = ($"{cookiePrefix}campaigns.correlation.", "/");
            (o.NonceCookie.Name, o.NonceCookie.Path) = ($"{cookiePrefix}campaigns.nonce.", "/");
            o.Events = new OpenIdConnectEvents
            {
                OnTokenValidated = TakeTheAccessTokenAsync,
                // After the handler's last check of the provider's answer (nonce, hashes): only now is a session recorded.
                OnTicketReceived = OpenSessionAsync,
                // Refused or cancelled at the provider, an account without a tenant, a token the API would not take: back to
                // the sign-in page, which says so; the reason goes to the log, not into an address.
                OnRemoteFailure = context =>
                {
                    Failed(context.HttpContext, context.Failure);
                    context.HandleResponse();
                    return Task.CompletedTask;
                },
                // The provider's front-channel sign-out would drop the cookie and leave the session open (and a page of any
                // site could call it): the dashboard signs out with its own button, which ends the session everywhere.
                OnRemoteSignOut = context => { context.SkipHandler(); return Task.CompletedTask; },
                OnSignedOutCallbackRedirect = context => { context.SkipHandler(); return Task.CompletedTask; },
            };
        });
    }

    /// <summary>Whether the provider's documents and back channel must be HTTPS: an identity provider on this machine may answer over plain HTTP (AuthSettings).</summary>
    internal static bool RequiresHttps(AuthSettings auth) => auth.AuthorityUri?.Scheme != Uri.UriSchemeHttp;

    /// <summary>
    /// The back channel to a provider on plain HTTP: to this machine only. An address of its discovery document on another
    /// host (a token endpoint, the keys) is refused instead of sent the code and the client's secret in clear.
    /// </summary>
    internal static HttpMessageHandler? BackchannelFor(AuthSettings auth) => RequiresHttps(auth) ? null : new HttpsOrThisMachine(new SocketsHttpHandler());

    private sealed class HttpsOrThisMachine(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            request.RequestUri is { } uri && (uri.Scheme == Uri.UriSchemeHttps || uri.IsLoopback)
                ? base.SendAsync(request, cancellationToken)
                : throw new HttpRequestException($"The identity provider's address {request.RequestUri} is neither https:// nor on this machine: not asked.");
    }

    private static void Failed(HttpContext http, Exception? failure)
    {
        http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(IdentityProviderSignIn))
            .LogWarning(failure, "A dashboard sign-in with the identity provider did not complete: {Reason}", failure?.Message);
        http.Response.Redirect(DashboardSession.IdentityProviderFailed);
    }

    /// <summary>The ID token checked out (by the handler): the user is who the access token says, as the API would read it.</summary>
    private static async Task TakeTheAccessTokenAsync(Microsoft.AspNetCore.Authentication.OpenIdConnect.TokenValidatedContext context)
    {
        if (context.TokenEndpointResponse?.AccessToken is { Length: > 0 } accessToken && await AsTheApiReadsAsync(context.HttpContext, accessToken) is { } user)
            context.Principal = user;
        else
            context.Fail("The identity provider's access token is not one the API accepts: check that it is issued for the audience " +
                         "Campaigns:Auth:Audience with the claims tenant_id, sub and scope.");
    }

    /// <summary>The session of the access token's user (as <c>POST /auth/token-sign-in</c> opens one), or back to the sign-in page.</summary>
    private static async Task OpenSessionAsync(TicketReceivedContext context)
    {
        var (session, properties, refusal) = await DashboardSession.OpenAsync(context.HttpContext, context.Principal!);
        if (refusal is not null)
        {
            // Failing this event would not stop the sign-in (the handler signs in unless it is handled or skipped).
            Failed(context.HttpContext, new AuthenticationFailureException(refusal.Detail));
            context.HandleResponse();
            return;
        }
        (context.Principal, context.Properties) = (session, properties);
    }

    /// <summary>
    /// <paramref name="token"/> validated as the API's bearer scheme validates one (<see cref="JwtBearerHandler"/>: its
    /// parameters, the provider's configuration with its refresh when a key is not found, its token handlers, and a claim
    /// given twice refused); null when it would not authenticate an API request.
    /// </summary>
    private static async Task<ClaimsPrincipal?> AsTheApiReadsAsync(HttpContext http, string token)
    {
        var bearer = http.RequestServices.GetRequiredService<IOptionsMonitor<JwtBearerOptions>>().Get(JwtBearerDefaults.AuthenticationScheme);
        var parameters = bearer.TokenValidationParameters.Clone();
        if (bearer.ConfigurationManager is BaseConfigurationManager manager) parameters.ConfigurationManager = manager;
        else if (bearer.ConfigurationManager is { } provider)
        {
            var configuration = await provider.GetConfigurationAsync(http.RequestAborted);
            parameters.ValidIssuers = [.. parameters.ValidIssuers ?? [], configuration.Issuer];
            parameters.IssuerSigningKeys = [.. parameters.IssuerSigningKeys ?? [], .. configuration.SigningKeys];
        }
        foreach (var handler in bearer.TokenHandlers)
        {
            var result = await handler.ValidateTokenAsync(token, parameters);
            if (!result.IsValid)
            {
                // The provider rotated its keys: the next sign-in reads them again, as the API's next request does.
                if (bearer.RefreshOnIssuerKeyNotFound && result.Exception is SecurityTokenSignatureKeyNotFoundException) bearer.ConfigurationManager?.RequestRefresh();
                continue;
            }
            if (result.SecurityToken is JsonWebToken jwt && CampaignIdentity.RepeatedClaim(jwt.EncodedPayload) is not null) return null;
            return new ClaimsPrincipal(result.ClaimsIdentity);
        }
        return null;
    }
}
