using System.Net.Http.Headers;
using System.Security.Cryptography;
using EventSourcedCampaigns.Service.Security;
using Microsoft.AspNetCore.Hosting;
using Microsoft.IdentityModel.Tokens;

namespace EventSourcedCampaigns.Service.Tests;

/// <summary>
/// How the tests sign in: the service under test trusts one signing key made for this test run (as an operator
/// configures Campaigns:Auth:SigningKeys), and the tests mint bearer tokens with it.
/// </summary>
public static class TestAuth
{
    public static readonly string SigningKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>The settings that make a service trust <see cref="SigningKey"/> (and no development token).</summary>
    public static IReadOnlyDictionary<string, string> Settings { get; } = new Dictionary<string, string>
    {
        ["Campaigns:Auth:SigningKeys:0"] = SigningKey,
        ["Campaigns:Auth:DevelopmentTokens"] = "false",
    };

    public static IWebHostBuilder TrustTestTokens(this IWebHostBuilder web)
    {
        foreach (var (key, value) in Settings) web.UseSetting(key, value);
        return web;
    }

    /// <summary>A token of <paramref name="tenant"/> for <paramref name="actor"/>, with every scope unless told otherwise.</summary>
    public static string Token(string tenant, string actor = "ana@shop.example", params string[] scopes) =>
        SigningKeys.Issue(new SymmetricSecurityKey(Convert.FromBase64String(SigningKey)), new AuthSettings().Issuer, new AuthSettings().Audience,
            tenant, actor, scopes.Length > 0 ? scopes : Scopes.All, TimeSpan.FromHours(1));

    /// <summary>A validly signed token with exactly these claims (all scopes): for credentials that name their tenant or subject badly.</summary>
    public static string TokenWithClaims(params (string Type, string Value)[] claims) =>
        new Microsoft.IdentityModel.JsonWebTokens.JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = new AuthSettings().Issuer,
            Audience = new AuthSettings().Audience,
            Expires = DateTime.UtcNow.AddHours(1),
            Subject = new System.Security.Claims.ClaimsIdentity(
                [.. claims.Select(c => new System.Security.Claims.Claim(c.Type, c.Value)), new(CampaignIdentity.ScopeClaim, string.Join(' ', Scopes.All))]),
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Convert.FromBase64String(SigningKey)), SecurityAlgorithms.HmacSha256),
        });

    /// <summary>
    /// A token whose payload is <paramref name="claimsJson"/> as written (issuer, audience and expiry added before it), signed
    /// with <see cref="SigningKey"/>: for payloads no token library writes, such as a claim name given twice.
    /// </summary>
    public static string TokenWithPayload(string claimsJson, DateTimeOffset? expires = null)
    {
        var settings = new AuthSettings();
        var payload = $$"""{"iss":"{{settings.Issuer}}","aud":"{{settings.Audience}}","exp":{{(expires ?? DateTimeOffset.UtcNow.AddHours(1)).ToUnixTimeSeconds()}},{{claimsJson}}}""";
        var unsigned = $"{Base64Url("""{"alg":"HS256","typ":"JWT"}""")}.{Base64Url(payload)}";
        var signature = HMACSHA256.HashData(Convert.FromBase64String(SigningKey), System.Text.Encoding.ASCII.GetBytes(unsigned));
        return $"{unsigned}.{System.Buffers.Text.Base64Url.EncodeToString(signature)}";
    }

    private static string Base64Url(string json) => System.Buffers.Text.Base64Url.EncodeToString(System.Text.Encoding.UTF8.GetBytes(json));

    /// <summary>Sign <paramref name="client"/> in as <paramref name="actor"/> of <paramref name="tenant"/>.</summary>
    public static HttpClient SignedIn(this HttpClient client, string tenant, string actor = "ana@shop.example", params string[] scopes)
    {
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token(tenant, actor, scopes));
        return client;
    }
}
