using System.Security.Claims;
using EventSourcedCampaigns.Service.Http;
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
    public static AuthenticationBuilder AddIdentityProviderSignIn(this AuthenticationBuilder authentication, AuthSettings auth)
    {
        if (!auth.IdentityProviderSignIn) return authentication;
        return authentication.AddOpenIdConnect(DashboardSession.IdentityProviderScheme, "Your organisation's account", o =>
        {
            o.Authority = auth.Authority;
            o.RequireHttpsMetadata = auth.AuthorityUri?.Scheme != Uri.UriSchemeHttp; // http:// only to this machine (AuthSettings)
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
            o.Events = new OpenIdConnectEvents
            {
                OnTokenValidated = OpenSessionAsync,
                // Refused or cancelled at the provider, an account without a tenant, a token the API would not take: back to
                // the sign-in page, which says so; the reason goes to the log, not into an address.
                OnRemoteFailure = context =>
                {
                    context.HttpContext.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(IdentityProviderSignIn))
                        .LogWarning("A dashboard sign-in with the identity provider did not complete: {Reason}", context.Failure?.Message);
                    context.Response.Redirect(DashboardSession.IdentityProviderFailed);
                    context.HandleResponse();
                    return Task.CompletedTask;
                },
            };
        });
    }

    /// <summary>The ID token checked out (by the handler): the session opens from the access token, as the API would read it.</summary>
    private static async Task OpenSessionAsync(Microsoft.AspNetCore.Authentication.OpenIdConnect.TokenValidatedContext context)
    {
        var http = context.HttpContext;
        if (context.TokenEndpointResponse?.AccessToken is not { Length: > 0 } accessToken || await AsTheApiReadsAsync(http, accessToken) is not { } user)
        {
            context.Fail("The identity provider's access token is not one the API accepts: check that it is issued for the audience " +
                         "Campaigns:Auth:Audience with the claims tenant_id, sub and scope.");
            return;
        }
        var (session, properties, refusal) = await DashboardSession.OpenAsync(http, user);
        if (refusal is not null)
        {
            context.Fail(refusal.Detail);
            return;
        }
        properties!.RedirectUri = context.Properties?.RedirectUri ?? "/app/";
        (context.Principal, context.Properties) = (session, properties);
    }

    /// <summary>
    /// <paramref name="token"/> validated as the API's bearer scheme validates one (<see cref="JwtBearerHandler"/>: its
    /// parameters, the provider's keys and issuer, its token handlers, and a claim given twice refused); null when it would
    /// not authenticate an API request.
    /// </summary>
    private static async Task<ClaimsPrincipal?> AsTheApiReadsAsync(HttpContext http, string token)
    {
        var bearer = http.RequestServices.GetRequiredService<IOptionsMonitor<JwtBearerOptions>>().Get(JwtBearerDefaults.AuthenticationScheme);
        var parameters = bearer.TokenValidationParameters.Clone();
        if (bearer.ConfigurationManager is { } provider)
        {
            var configuration = await provider.GetConfigurationAsync(http.RequestAborted);
            parameters.ValidIssuers = [.. parameters.ValidIssuers ?? [], configuration.Issuer];
            parameters.IssuerSigningKeys = [.. parameters.IssuerSigningKeys ?? [], .. configuration.SigningKeys];
        }
        foreach (var handler in bearer.TokenHandlers)
        {
            var result = await handler.ValidateTokenAsync(token, parameters);
            if (!result.IsValid) continue;
            if (result.SecurityToken is JsonWebToken jwt && CampaignIdentity.RepeatedClaim(jwt.EncodedPayload) is not null) return null;
            return new ClaimsPrincipal(result.ClaimsIdentity);
        }
        return null;
    }
}
