using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Claims;
using System.Text.Json;
using EventSourcedCampaigns.IntegrationTests.Infrastructure;
using EventSourcedCampaigns.Service.Security;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace EventSourcedCampaigns.Service.Tests;

/// <summary>
/// The dashboard's cookie session ends on the server: a copy of the cookie taken before signing out opens nothing
/// afterwards, on this node or another node of the same database.
/// </summary>
[Collection("in-process host")]
public sealed class the_dashboard_session
{
    /// <summary>A client that sends only the cookies it is told to, as an attacker replaying a copied cookie does.</summary>
    private static HttpClient Bare(WebApplicationFactory<Program> node) =>
        node.CreateClient(new WebApplicationFactoryClientOptions { HandleCookies = false });

    /// <summary>Signs in with <paramref name="scheme"/> credentials: the session cookie as a Cookie header value (name=value).</summary>
    private static async Task<string> SignInAsync(WebApplicationFactory<Program> node, string scheme, string credentials)
    {
        using var signIn = new HttpRequestMessage(HttpMethod.Post, "/auth/token-sign-in");
        signIn.Headers.Authorization = new AuthenticationHeaderValue(scheme, credentials);
        var response = await Bare(node).SendAsync(signIn);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        return Assert.Single(response.Headers.GetValues("Set-Cookie"), c => c.StartsWith(DashboardSession.DevelopmentCookieName + "=", StringComparison.Ordinal))
            .Split(';')[0];
    }

    private static Task<HttpResponseMessage> SendAsync(WebApplicationFactory<Program> node, HttpMethod method, string url, string cookie, string? csrf = null)
    {
        var request = new HttpRequestMessage(method, url);
        request.Headers.Add("Cookie", cookie);
        if (csrf is not null) request.Headers.Add(DashboardSession.CsrfHeader, csrf);
        return Bare(node).SendAsync(request);
    }

    private static async Task<JsonElement> SessionAsync(WebApplicationFactory<Program> node, string cookie) =>
        await (await SendAsync(node, HttpMethod.Get, "/auth/session", cookie)).Content.ReadFromJsonAsync<JsonElement>();

    private static async Task SignOutAsync(WebApplicationFactory<Program> node, string cookie)
    {
        var csrf = (await SessionAsync(node, cookie)).GetProperty("csrfToken").GetString();
        var signOut = await SendAsync(node, HttpMethod.Post, "/auth/sign-out", cookie, csrf);
        Assert.Equal(HttpStatusCode.NoContent, signOut.StatusCode);
        // The browser is told to forget the cookie.
        Assert.Contains(signOut.Headers.GetValues("Set-Cookie"), c => c.StartsWith(DashboardSession.DevelopmentCookieName + "=;", StringComparison.Ordinal));
    }

    private static async Task AssertRefusedAsync(WebApplicationFactory<Program> node, string cookie)
    {
        var refused = await SendAsync(node, HttpMethod.Get, "/api/campaigns", cookie);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Contains("\"unauthenticated\"", await refused.Content.ReadAsStringAsync());
        Assert.False((await SessionAsync(node, cookie)).GetProperty("signedIn").GetBoolean());
    }

    [Fact]
    public async Task a_token_expired_within_the_clock_skew_opens_no_session_and_says_why()
    {
        // Found by an audit: it answered 204 with a cookie whose session was already over, and the dashboard went back to
        // its sign-in page without a word.
        await using var node = SecuredService.Start(TestDatabase.UniqueSchema("sess"));
        using var signIn = new HttpRequestMessage(HttpMethod.Post, "/auth/token-sign-in");
        signIn.Headers.Authorization = new AuthenticationHeaderValue("Bearer", TestAuth.TokenWithPayload(
            "\"sub\":\"ana@shop.example\",\"tenant_id\":\"shop-a\",\"scope\":\"" + string.Join(' ', Scopes.All) + "\"", DateTimeOffset.UtcNow.AddSeconds(-30)));
        var response = await Bare(node).SendAsync(signIn);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("\"token_expired\"", await response.Content.ReadAsStringAsync());
        Assert.False(response.Headers.Contains("Set-Cookie"));
    }

    [Theory]
    [InlineData("Bearer")]
    [InlineData("ApiKey")]
    public async Task a_copy_of_the_cookie_taken_before_signing_out_opens_nothing_afterwards(string scheme)
    {
        await using var node = SecuredService.Start(TestDatabase.UniqueSchema("sess"));
        var credentials = scheme == "Bearer" ? TestAuth.Token("shop-a")
            : (await node.Services.GetRequiredService<ApiKeyStore>().CreateAsync("shop-a", "kiosk", Scopes.All)).Secret;
        var cookie = await SignInAsync(node, scheme, credentials);
        var copy = cookie; // taken by someone else before the marketer signs out
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(node, HttpMethod.Get, "/api/campaigns", copy)).StatusCode);

        await SignOutAsync(node, cookie);

        await AssertRefusedAsync(node, copy);
        Assert.Equal(0, await node.Services.GetRequiredService<DashboardSessionStore>().OpenCountAsync());
    }

    [Fact]
    public async Task signing_out_on_one_node_ends_the_session_on_every_node_of_the_database()
    {
        var schema = TestDatabase.UniqueSchema("sess2n");
        await using var first = SecuredService.Start(schema);
        var cookie = await SignInAsync(first, "Bearer", TestAuth.Token("shop-a"));
        // The second node: the API only, no daemon, on the same database and schema (the key ring is shared there too).
        await using var second = SecuredService.Start(schema, new Dictionary<string, string?>
        {
            ["Campaigns:Roles"] = "Api",
            ["Campaigns:DaemonMode"] = "Disabled",
        });
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(second, HttpMethod.Get, "/api/campaigns", cookie)).StatusCode);
        Assert.True((await SessionAsync(second, cookie)).GetProperty("signedIn").GetBoolean());

        await SignOutAsync(first, cookie);

        await AssertRefusedAsync(second, cookie);
        await AssertRefusedAsync(first, cookie);
    }

    [Fact]
    public async Task signing_out_ends_only_that_session()
    {
        await using var node = SecuredService.Start(TestDatabase.UniqueSchema("sess"));
        var laptop = await SignInAsync(node, "Bearer", TestAuth.Token("shop-a"));
        var phone = await SignInAsync(node, "Bearer", TestAuth.Token("shop-a"));

        await SignOutAsync(node, laptop);

        await AssertRefusedAsync(node, laptop);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(node, HttpMethod.Get, "/api/campaigns", phone)).StatusCode);
    }

    [Fact]
    public async Task a_sealed_cookie_that_names_no_open_session_opens_nothing()
    {
        // A cookie sealed with the service's own keys (as one issued before sessions were recorded, or one whose record
        // lapsed) carries a valid tenant, subject and scopes: without an open session behind it, it is refused all the same.
        await using var node = SecuredService.Start(TestDatabase.UniqueSchema("sess"));
        _ = await Bare(node).GetAsync("/health/live"); // starts the host
        var format = node.Services.GetRequiredService<IOptionsMonitor<CookieAuthenticationOptions>>().Get(DashboardSession.SchemeName).TicketDataFormat;
        string Sealed(params Claim[] extra) => DashboardSession.DevelopmentCookieName + "=" + format.Protect(new AuthenticationTicket(new ClaimsPrincipal(
            new ClaimsIdentity([
                new Claim(CampaignIdentity.SubjectClaim, "ana@shop.example"),
                new Claim(CampaignIdentity.TenantClaim, "shop-a"),
                new Claim(CampaignIdentity.ScopeClaim, string.Join(' ', Scopes.All)),
                .. extra,
            ], DashboardSession.SchemeName, CampaignIdentity.SubjectClaim, null)), DashboardSession.SchemeName));

        await AssertRefusedAsync(node, Sealed());
        await AssertRefusedAsync(node, Sealed(new Claim(DashboardSessionStore.SessionClaim, "0123456789abcdef0123456789abcdef")));
        // The same cookie naming an open session of another subject is refused too.
        var open = await node.Services.GetRequiredService<DashboardSessionStore>().OpenAsync("shop-a", "someone-else", null, null);
        await AssertRefusedAsync(node, Sealed(new Claim(DashboardSessionStore.SessionClaim, open)));
    }
}
