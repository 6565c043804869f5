using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace EventSourcedCampaigns.Dashboard.Tests;

/// <summary>
/// An OpenID Connect provider on a loopback port, standing in for the organisation's (Entra ID, Okta, Keycloak), which
/// cannot run here: discovery, keys, the authorization endpoint (the marketer already signed in there, so it answers at
/// once) and the token endpoint of the authorization code flow with PKCE. It checks what a provider checks (the client,
/// its redirect URI, the code's verifier) and issues RS256 tokens: an ID token for the dashboard's client, and an access
/// token for the API's audience with the claims the API reads (tenant_id, sub, scope).
/// </summary>
public sealed class TestIdentityProvider : IAsyncDisposable
{
    public const string ClientId = "campaigns-dashboard";
    private readonly WebApplication _app;
    private readonly RsaSecurityKey _key = new(RSA.Create(2048)) { KeyId = "test-key" };
    private readonly ConcurrentDictionary<string, Grant> _grants = new();

    private sealed record Grant(string RedirectUri, string Nonce, string Challenge, string Scope);

    /// <summary>The issuer: give it to the service as Campaigns:Auth:Authority.</summary>
    public string Issuer { get; }

    /// <summary>Who is signed in at the provider, and what the access token grants.</summary>
    public string Tenant { get; set; } = "shop-idp";
    public string Subject { get; set; } = "maria@shop.example";
    public string Audience { get; set; } = "campaigns-api";

    /// <summary>The client the ID token is issued for (another client's token must not sign anyone in).</summary>
    public string IdTokenAudience { get; set; } = ClientId;

    /// <summary>How long the access token lasts from now (negative: already expired).</summary>
    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Access tokens issued: each sign-in that came back with a code and exchanged it.</summary>
    public int TokensIssued => _tokensIssued;
    private int _tokensIssued;

    /// <summary>The marketer refuses (or the provider does) at the next sign-in: error=access_denied.</summary>
    public bool DenyNext { get; set; }

    private TestIdentityProvider(WebApplication app, string issuer) => (_app, Issuer) = (app, issuer);

    public static async Task<TestIdentityProvider> StartAsync()
    {
        var issuer = $"http://127.0.0.1:{DashboardHost.FreePort()}";
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(issuer);
        builder.Logging.ClearProviders();
        var provider = new TestIdentityProvider(builder.Build(), issuer);
        provider.Map();
        await provider._app.StartAsync();
        return provider;
    }

    private void Map()
    {
        _app.MapGet("/.well-known/openid-configuration", () => Results.Json(new Dictionary<string, object>
        {
            ["issuer"] = Issuer, ["authorization_endpoint"] = $"{Issuer}/authorize", ["token_endpoint"] = $"{Issuer}/token",
            ["jwks_uri"] = $"{Issuer}/jwks", ["response_types_supported"] = new[] { "code" }, ["subject_types_supported"] = new[] { "public" },
            ["id_token_signing_alg_values_supported"] = new[] { "RS256" }, ["code_challenge_methods_supported"] = new[] { "S256" },
            ["response_modes_supported"] = new[] { "query", "form_post" },
        }));
        _app.MapGet("/jwks", () =>
        {
            var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(_key);
            return Results.Json(new { keys = new[] { new { kty = jwk.Kty, kid = jwk.Kid, use = "sig", alg = "RS256", n = jwk.N, e = jwk.E } } });
        });
        _app.MapGet("/authorize", (HttpRequest request) =>
        {
            var q = request.Query;
            string redirect = q["redirect_uri"].ToString(), state = q["state"].ToString();
            if (q["client_id"] != ClientId || !redirect.EndsWith("/auth/oidc/callback", StringComparison.Ordinal) || q["response_type"] != "code"
                || q["code_challenge_method"] != "S256" || string.IsNullOrEmpty(q["code_challenge"]))
                return Results.BadRequest("unknown client, redirect URI, or a request without PKCE");
            var answer = new Dictionary<string, string> { ["state"] = state };
            if (DenyNext)
            {
                DenyNext = false;
                answer["error"] = "access_denied";
            }
            else
            {
                var code = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
                _grants[code] = new Grant(redirect, q["nonce"].ToString(), q["code_challenge"].ToString(), q["scope"].ToString());
                answer["code"] = code;
            }
            if (q["response_mode"] != "form_post")
                return Results.Redirect($"{redirect}?{string.Join('&', answer.Select(a => $"{a.Key}={Uri.EscapeDataString(a.Value)}"))}");
            var fields = string.Concat(answer.Select(a => $"<input type=\"hidden\" name=\"{a.Key}\" value=\"{WebUtility.HtmlEncode(a.Value)}\">"));
            return Results.Content($"<!doctype html><form method=\"post\" action=\"{WebUtility.HtmlEncode(redirect)}\">{fields}</form><script>document.forms[0].submit()</script>",
                "text/html");
        });
        _app.MapPost("/token", async (HttpRequest request) =>
        {
            var form = await request.ReadFormAsync();
            if (form["grant_type"] != "authorization_code" || !_grants.TryRemove(form["code"].ToString(), out var grant)
                || form["redirect_uri"] != grant.RedirectUri || form["client_id"] != ClientId
                || Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(form["code_verifier"].ToString()))) != grant.Challenge)
                return Results.Json(new { error = "invalid_grant" }, statusCode: 400);
            Interlocked.Increment(ref _tokensIssued);
            var now = DateTime.UtcNow;
            var scopes = grant.Scope.Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(s => s != "openid");
            return Results.Json(new Dictionary<string, object>
            {
                ["token_type"] = "Bearer", ["expires_in"] = 3600,
                ["id_token"] = Sign(IdTokenAudience, now.AddHours(1), new() { ["sub"] = Subject, ["nonce"] = grant.Nonce }),
                ["access_token"] = Sign(Audience, now + AccessTokenLifetime, new() { ["sub"] = Subject, ["tenant_id"] = Tenant, ["scope"] = string.Join(' ', scopes) }),
            });
        });
    }

    private string Sign(string audience, DateTime expires, Dictionary<string, object> claims) => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
    {
        Issuer = Issuer, Audience = audience, IssuedAt = expires.AddHours(-1), NotBefore = expires.AddHours(-1), Expires = expires, Claims = claims,
        SigningCredentials = new SigningCredentials(_key, SecurityAlgorithms.RsaSha256),
    });

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
