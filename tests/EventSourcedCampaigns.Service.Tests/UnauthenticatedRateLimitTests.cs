using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using EventSourcedCampaigns.IntegrationTests.Infrastructure;
using EventSourcedCampaigns.Service.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourcedCampaigns.Service.Tests;

/// <summary>
/// Requests without valid credentials are limited per client address, so guessing API keys or tokens is throttled;
/// authenticated callers keep only their tenant's limit.
/// </summary>
[Collection("in-process host")]
public sealed class the_limit_of_requests_without_valid_credentials
{
    private const int Limit = 5;
    /// <summary>The test server has no network peer: this header gives each request the address it comes from.</summary>
    private const string PeerHeader = "X-Test-Peer";

    private static WebApplicationFactory<Program> Start(params (string Key, string Value)[] settings)
    {
        var values = new Dictionary<string, string?> { ["Campaigns:Auth:UnauthenticatedRequestsPerMinutePerAddress"] = Limit.ToString() };
        foreach (var (key, value) in settings) values[key] = value;
        return SecuredService.Start(TestDatabase.UniqueSchema("ratea"), values, "Production")
            .WithWebHostBuilder(web => web.ConfigureServices(s => s.AddSingleton<IStartupFilter, PeerFromHeader>()));
    }

    private sealed class PeerFromHeader : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((http, nextMiddleware) =>
            {
                if (http.Request.Headers[PeerHeader].FirstOrDefault() is { } peer) http.Connection.RemoteIpAddress = IPAddress.Parse(peer);
                return nextMiddleware(http);
            });
            next(app);
        };
    }

    private static Task<HttpResponseMessage> SendAsync(WebApplicationFactory<Program> service, string peer, string method, string url,
        AuthenticationHeaderValue? authorization = null, string? forwardedFor = null)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), url);
        request.Headers.Add(PeerHeader, peer);
        request.Headers.Authorization = authorization;
        if (forwardedFor is not null) request.Headers.Add("X-Forwarded-For", forwardedFor);
        return service.CreateClient(new WebApplicationFactoryClientOptions { HandleCookies = false, AllowAutoRedirect = false }).SendAsync(request);
    }

    private static AuthenticationHeaderValue Guess(int i) => new("ApiKey", $"esc_{i:x16}.not-the-secret");

    private static async Task AssertLimitedAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("rate_limited", body.RootElement.GetProperty("code").GetString());
        Assert.Contains("without valid credentials", body.RootElement.GetProperty("detail").GetString());
        var retryAfter = int.Parse(Assert.Single(response.Headers.GetValues("Retry-After")));
        Assert.InRange(retryAfter, 1, 60);
    }

    [Fact]
    public async Task guessing_keys_from_one_address_gets_429_with_retry_after_while_other_addresses_and_valid_callers_go_on()
    {
        await using var service = Start();
        const string guesser = "203.0.113.7";
        for (var i = 0; i < Limit; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(service, guesser, "GET", "/api/campaigns", Guess(i))).StatusCode);

        await AssertLimitedAsync(await SendAsync(service, guesser, "GET", "/api/campaigns", Guess(Limit)));
        // A failed dashboard sign-in, a forged token, no credentials at all for the API, a signed-out cookie: all throttled now.
        await AssertLimitedAsync(await SendAsync(service, guesser, "POST", "/auth/token-sign-in", Guess(Limit + 1)));
        await AssertLimitedAsync(await SendAsync(service, guesser, "GET", "/api/campaigns", new AuthenticationHeaderValue("Bearer", "forged")));
        await AssertLimitedAsync(await SendAsync(service, guesser, "GET", "/api/campaigns"));

        // Another address is not slowed; neither are valid credentials from the guessing address, nor the pages, probes and
        // session check a browser or a load balancer asks for without credentials.
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(service, "203.0.113.8", "GET", "/api/campaigns", Guess(0))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(service, guesser, "GET", "/api/campaigns",
            new AuthenticationHeaderValue("Bearer", TestAuth.Token("shop-a")))).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(service, guesser, "POST", "/auth/token-sign-in",
            new AuthenticationHeaderValue("Bearer", TestAuth.Token("shop-a")))).StatusCode);
        foreach (var url in new[] { "/health/live", "/auth/session", "/app/", "/ops/projections" })
            Assert.Equal(HttpStatusCode.OK, (await SendAsync(service, guesser, "GET", url)).StatusCode);
    }

    [Fact]
    public async Task the_identity_providers_sign_in_and_callback_count_as_requests_without_credentials()
    {
        // Found by a review: the callback is answered by authentication, before the limiter, and each one makes a request to
        // the provider (a replayed state with made-up codes could have the client throttled there).
        // A provider that cannot be reached: the sign-in goes back to the sign-in page, saying it did not complete.
        await using var service = Start(("Campaigns:Auth:Authority", "https://127.0.0.1:1/realms/shop"), ("Campaigns:Auth:DashboardClientId", "campaigns-dashboard"));
        const string caller = "203.0.113.9";
        for (var i = 0; i < Limit; i++)
        {
            var answer = await SendAsync(service, caller, "GET", i % 2 == 0 ? "/auth/oidc/sign-in" : "/auth/oidc/callback?code=x&state=y");
            Assert.Equal((HttpStatusCode.Redirect, DashboardSession.IdentityProviderFailed), (answer.StatusCode, answer.Headers.Location?.OriginalString));
        }

        await AssertLimitedAsync(await SendAsync(service, caller, "GET", "/auth/oidc/callback?code=x&state=y"));
        await AssertLimitedAsync(await SendAsync(service, caller, "GET", "/auth/oidc/sign-in"));
    }

    [Fact]
    public async Task by_default_a_client_that_checks_every_operation_refuses_it_gets_its_401s()
    {
        var defaultLimit = new AuthSettings().UnauthenticatedRequestsPerMinutePerAddress;
        await using var service = Start(("Campaigns:Auth:UnauthenticatedRequestsPerMinutePerAddress", defaultLimit.ToString()));
        // A scanner's round: each of the API's operations, with no credentials and with a wrong key, several times over.
        string[] operations = ["GET /api/campaigns", "POST /api/campaigns", "GET /api/audit/cancellations", "GET /api/audit/cancellations.csv",
            "GET /api/campaigns/3f2b7c1e-8f43-4a57-9d55-0d1d2f0c9a10/report", "POST /api/campaigns/3f2b7c1e-8f43-4a57-9d55-0d1d2f0c9a10/cancel"];
        for (var round = 0; round < 20; round++)
            foreach (var operation in operations)
            {
                var (method, url) = (operation.Split(' ')[0], operation.Split(' ')[1]);
                Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(service, "203.0.113.20", method, url)).StatusCode);
                Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(service, "203.0.113.20", method, url, Guess(round))).StatusCode);
            }
    }

    [Fact]
    public async Task an_ipv6_client_is_counted_by_its_64_network()
    {
        await using var service = Start();
        // Each guess from a fresh address of the same /64, as a client holding the whole network could.
        for (var i = 0; i < Limit; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(service, $"2001:db8:1:2::{i + 1:x}", "GET", "/api/campaigns", Guess(i))).StatusCode);
        await AssertLimitedAsync(await SendAsync(service, "2001:db8:1:2:ffff::9", "GET", "/api/campaigns", Guess(Limit)));
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(service, "2001:db8:1:3::1", "GET", "/api/campaigns", Guess(0))).StatusCode);
    }

    [Fact]
    public async Task behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit_and_anyone_elses_forwarded_header_is_ignored()
    {
        const string proxy = "10.0.0.5";
        await using var service = Start(("Campaigns:Auth:TrustedProxies:0", proxy));
        for (var i = 0; i < Limit; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(service, proxy, "GET", "/api/campaigns", Guess(i), "198.51.100.1")).StatusCode);
        await AssertLimitedAsync(await SendAsync(service, proxy, "GET", "/api/campaigns", Guess(Limit), "198.51.100.1"));
        // Another client behind the same proxy is not slowed.
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(service, proxy, "GET", "/api/campaigns", Guess(0), "198.51.100.2")).StatusCode);

        // A client that is not the proxy cannot pick a fresh address per guess by sending the header itself.
        for (var i = 0; i < Limit; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(service, "192.0.2.9", "GET", "/api/campaigns", Guess(i), $"198.51.100.{10 + i}")).StatusCode);
        await AssertLimitedAsync(await SendAsync(service, "192.0.2.9", "GET", "/api/campaigns", Guess(Limit), "198.51.100.99"));
    }
}
