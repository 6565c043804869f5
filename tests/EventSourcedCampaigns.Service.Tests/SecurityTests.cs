using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using EventSourcedCampaigns.IntegrationTests.Infrastructure;
using EventSourcedCampaigns.Service.Operations;
using EventSourcedCampaigns.Service.Security;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.Tokens;
using static EventSourcedCampaigns.Service.Tests.CampaignApi;

namespace EventSourcedCampaigns.Service.Tests;

/// <summary>Who may do what over HTTP: identity from the credentials only, scopes, API keys, hardening of input.</summary>
[Collection("in-process host")]
public sealed class the_api_security(SecuredService service) : IClassFixture<SecuredService>
{
    private static readonly object Variants = new[] { new { key = "A", subject = "Hello", content = "Spring sale", splitPercent = 100 } };

    private static async Task<(HttpStatusCode Status, string? Code)> Problem(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var body = JsonDocument.Parse(text);
        return (response.StatusCode, body.RootElement.TryGetProperty("code", out var code) ? code.GetString() : null);
    }

    private async Task<Guid> ScheduledCampaignAsync(HttpClient client)
    {
        var api = new CampaignApi(client);
        var id = (await api.CreateAsync("Security " + Guid.NewGuid().ToString("N")[..8])).CampaignId;
        await api.ScheduleAsync(id, DateTimeOffset.UtcNow.AddHours(2), "everyone", 500);
        // The audience is prepared in the background: wait for it, so that counting events afterwards sees only the test's own.
        for (var deadline = DateTime.UtcNow.AddSeconds(60); ; await Task.Delay(50))
        {
            var events = await client.GetFromJsonAsync<JsonElement>($"/api/campaigns/{id}/events");
            if (events.EnumerateArray().Any(e => e.GetProperty("type").GetString() == "campaign_scheduling_completed")) return id;
            Assert.True(DateTime.UtcNow < deadline, $"Campaign {id} was never Scheduled.");
        }
    }

    [Theory]
    [InlineData("/app/")]
    [InlineData("/app/app.js")]
    [InlineData("/api/campaigns")]
    [InlineData("/api/nowhere")]
    public async Task every_response_tells_the_browser_to_run_only_what_the_service_served(string path)
    {
        // The dashboard's own script and styles, the API's JSON and its refusals alike: an injected script, a frame on
        // another site or a body sniffed as HTML is refused by the browser.
        var response = await service.Anonymous().GetAsync(path);

        Assert.Equal(ResponseHardening.ContentSecurityPolicy, response.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Contains("script-src 'self';", ResponseHardening.ContentSecurityPolicy);
        Assert.Contains("frame-ancestors 'none'", ResponseHardening.ContentSecurityPolicy);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
        Assert.Equal("no-referrer", response.Headers.GetValues("Referrer-Policy").Single());
    }

    public static TheoryData<string, string> Endpoints => new()
    {
        { "GET", "/api/campaigns" },
        { "GET", "/api/campaigns/3f2b7c1e-8f43-4a57-9d55-0d1d2f0c9a10/report" },
        { "GET", "/api/campaigns/3f2b7c1e-8f43-4a57-9d55-0d1d2f0c9a10/events" },
        { "GET", "/api/audit/cancellations" },
        { "POST", "/api/campaigns" },
        { "POST", "/api/campaigns/3f2b7c1e-8f43-4a57-9d55-0d1d2f0c9a10/schedule" },
        { "POST", "/api/campaigns/3f2b7c1e-8f43-4a57-9d55-0d1d2f0c9a10/pause" },
        { "POST", "/api/campaigns/3f2b7c1e-8f43-4a57-9d55-0d1d2f0c9a10/resume" },
        { "POST", "/api/campaigns/3f2b7c1e-8f43-4a57-9d55-0d1d2f0c9a10/revert" },
        { "POST", "/api/campaigns/3f2b7c1e-8f43-4a57-9d55-0d1d2f0c9a10/cancel" },
        { "POST", "/api/campaigns/3f2b7c1e-8f43-4a57-9d55-0d1d2f0c9a10/clone" },
        { "GET", "/api/campaigns/3f2b7c1e-8f43-4a57-9d55-0d1d2f0c9a10/recipients" },
        { "GET", "/api/campaigns/3f2b7c1e-8f43-4a57-9d55-0d1d2f0c9a10/recipients/c0000000001" },
        { "GET", "/api/campaigns/3f2b7c1e-8f43-4a57-9d55-0d1d2f0c9a10/recipients.csv" },
        { "DELETE", "/api/recipients/c0000000001" },
        { "GET", "/api/audit/verification" },
        { "GET", "/api/audit/cancellations.csv" },
        // No endpoint there: credentials first, then a 404 (below).
        { "GET", "/api/nowhere" },
        { "POST", "/api/campaigns/3f2b7c1e-8f43-4a57-9d55-0d1d2f0c9a10/launch" },
        // A method the path does not take: credentials first, then a 405 (found by an audit: the Allow header told the routes).
        { "PUT", "/api/campaigns" },
        { "DELETE", "/api/campaigns/3f2b7c1e-8f43-4a57-9d55-0d1d2f0c9a10/report" },
    };

    [Theory]
    [InlineData("GET", "/api/nowhere")]
    [InlineData("POST", "/api/campaigns/3f2b7c1e-8f43-4a57-9d55-0d1d2f0c9a10/launch")]
    public async Task a_path_the_api_does_not_have_is_404_once_the_caller_has_credentials(string method, string url)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), url) { Content = method == "POST" ? JsonContent.Create(new { }) : null };
        Assert.Equal((HttpStatusCode.NotFound, "not_found"), await Problem(await service.Client("shop-a").SendAsync(request)));
    }

    [Theory, MemberData(nameof(Endpoints))]
    public async Task every_endpoint_refuses_a_caller_without_credentials_or_with_a_forged_token(string method, string url)
    {
        var anonymous = service.Anonymous();
        anonymous.DefaultRequestHeaders.Add("X-Tenant-Id", "shop-a"); // the old way of saying who you are counts for nothing
        anonymous.DefaultRequestHeaders.Add("X-Actor-Id", "ana@shop.example");
        var request = new HttpRequestMessage(new HttpMethod(method), url) { Content = method == "POST" ? JsonContent.Create(new { }) : null };
        var anonymousAnswer = await anonymous.SendAsync(request);
        Assert.Equal("Bearer, ApiKey", anonymousAnswer.Headers.WwwAuthenticate.ToString());
        Assert.Equal((HttpStatusCode.Unauthorized, "unauthenticated"), await Problem(anonymousAnswer));

        var forged = service.Anonymous();
        var token = TestAuth.Token("shop-a");
        forged.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token[..^4] + (token[^4..] == "AAAA" ? "BBBB" : "AAAA"));
        var again = new HttpRequestMessage(new HttpMethod(method), url) { Content = method == "POST" ? JsonContent.Create(new { }) : null };
        var refused = await forged.SendAsync(again);
        // RFC 6750: the refused token is named as such; without one, the schemes are offered.
        Assert.Equal("Bearer error=\"invalid_token\", ApiKey", refused.Headers.WwwAuthenticate.ToString());
        Assert.Equal((HttpStatusCode.Unauthorized, "unauthenticated"), await Problem(refused));
    }

    [Fact]
    public async Task a_token_without_the_scope_gets_403_and_changes_nothing()
    {
        var id = await ScheduledCampaignAsync(service.Client("shop-a"));
        var readOnly = service.Client("shop-a", "viewer@shop.example", Scopes.CampaignsRead);
        var before = await service.EventCountAsync();

        var cancel = await readOnly.PostAsJsonAsync($"/api/campaigns/{id}/cancel", new { reasonCode = "Other" });
        Assert.Equal((HttpStatusCode.Forbidden, "insufficient_scope"), await Problem(cancel));
        Assert.Equal((HttpStatusCode.Forbidden, "insufficient_scope"), await Problem(await readOnly.PostAsJsonAsync("/api/campaigns", new { name = "x", channel = "Email", variants = Variants })));
        Assert.Equal((HttpStatusCode.Forbidden, "insufficient_scope"), await Problem(await readOnly.GetAsync("/api/audit/cancellations")));
        Assert.Equal((HttpStatusCode.Forbidden, "insufficient_scope"), await Problem(await readOnly.GetAsync("/api/audit/verification")));
        Assert.Equal((HttpStatusCode.Forbidden, "insufficient_scope"), await Problem(await readOnly.DeleteAsync("/api/recipients/c0000000001")));
        Assert.Equal(HttpStatusCode.OK, (await readOnly.GetAsync($"/api/campaigns/{id}/events")).StatusCode);

        var writer = service.Client("shop-a", "writer@shop.example", Scopes.CampaignsWrite, Scopes.CampaignsRead);
        Assert.Equal((HttpStatusCode.Forbidden, "insufficient_scope"), await Problem(await writer.PostAsJsonAsync($"/api/campaigns/{id}/cancel", new { reasonCode = "Other" })));
        Assert.Equal(before, await service.EventCountAsync());
    }

    [Fact]
    public async Task another_tenants_token_sees_404_and_changes_nothing_even_with_a_forged_tenant_header()
    {
        var id = await ScheduledCampaignAsync(service.Client("shop-a"));
        var shopB = service.Client("shop-b", "mallory@shop-b.example");
        shopB.DefaultRequestHeaders.Add("X-Tenant-Id", "shop-a");
        var before = await service.EventCountAsync("shop-a");
        var beforeB = await service.EventCountAsync("shop-b");

        Assert.Equal((HttpStatusCode.NotFound, "CampaignNotFound"), await Problem(await shopB.GetAsync($"/api/campaigns/{id}/report")));
        Assert.Equal((HttpStatusCode.NotFound, "CampaignNotFound"), await Problem(await shopB.GetAsync($"/api/campaigns/{id}/events")));
        Assert.Equal((HttpStatusCode.NotFound, "CampaignNotFound"),
            await Problem(await shopB.PostAsJsonAsync($"/api/campaigns/{id}/cancel", new { reasonCode = "Other", reason = "sabotage" })));
        Assert.Equal((HttpStatusCode.NotFound, "CampaignNotFound"), await Problem(await shopB.PostAsJsonAsync($"/api/campaigns/{id}/pause", new { })));
        var list = await shopB.GetFromJsonAsync<JsonElement>("/api/campaigns?pageSize=500");
        Assert.DoesNotContain(list.GetProperty("items").EnumerateArray(), i => i.GetProperty("id").GetGuid() == id);
        // Nothing in shop-a; the refused cancel is kept in shop-b's own audit (a cancel of a campaign it does not have), by design.
        Assert.Equal(before, await service.EventCountAsync("shop-a"));
        Assert.Equal(beforeB + 1, await service.EventCountAsync("shop-b"));
        var events = await service.Client("shop-a").GetFromJsonAsync<JsonElement>($"/api/campaigns/{id}/events");
        Assert.DoesNotContain(events.EnumerateArray(), e => e.GetProperty("type").GetString()!.StartsWith("campaign_cancel"));
        for (var deadline = DateTime.UtcNow.AddSeconds(60); ; await Task.Delay(100)) // the audit read model follows the events
        {
            var auditB = await shopB.GetFromJsonAsync<JsonElement>("/api/audit/cancellations?pageSize=500");
            if (auditB.GetProperty("items").EnumerateArray().Any(e => e.GetProperty("outcome").GetString() == "RefusedUnknownCampaign"
                    && e.GetProperty("actorId").GetString() == "mallory@shop-b.example" && e.GetProperty("campaignId").GetGuid() == id)) break;
            Assert.True(DateTime.UtcNow < deadline, "B's refused cancel never reached B's audit.");
        }
    }

    [Fact]
    public async Task the_audit_records_the_authenticated_actor_and_keeps_each_tenants_cancels_apart()
    {
        var shopA = service.Client("shop-a", "ana@shop-a.example");
        var shopB = service.Client("shop-b", "bob@shop-b.example");
        shopA.DefaultRequestHeaders.Add("X-Actor-Id", "someone-else@shop-a.example"); // ignored
        var a = await ScheduledCampaignAsync(shopA);
        var b = await ScheduledCampaignAsync(shopB);
        var cancelA = await AcceptedAsync(await shopA.PostAsJsonAsync($"/api/campaigns/{a}/cancel", new { reasonCode = "WrongAudience" }), HttpStatusCode.OK, "cancel in A");
        var cancelB = await AcceptedAsync(await shopB.PostAsJsonAsync($"/api/campaigns/{b}/cancel", new { reasonCode = "ContentError" }), HttpStatusCode.OK, "cancel in B");

        var auditA = await shopA.GetFromJsonAsync<JsonElement>($"/api/audit/cancellations?pageSize=500&afterSequence={Math.Max(cancelA.Sequence, cancelB.Sequence)}");
        var auditB = await shopB.GetFromJsonAsync<JsonElement>("/api/audit/cancellations?pageSize=500");
        var entriesA = auditA.GetProperty("items").EnumerateArray().ToList();
        var entriesB = auditB.GetProperty("items").EnumerateArray().ToList();
        var mine = Assert.Single(entriesA, e => e.GetProperty("campaignId").GetGuid() == a);
        Assert.Equal("ana@shop-a.example", mine.GetProperty("actorId").GetString());
        Assert.Equal("User", mine.GetProperty("channel").GetString());
        Assert.DoesNotContain(entriesA, e => e.GetProperty("campaignId").GetGuid() == b);
        Assert.Single(entriesB, e => e.GetProperty("campaignId").GetGuid() == b);
        Assert.DoesNotContain(entriesB, e => e.GetProperty("campaignId").GetGuid() == a);
        Assert.All(entriesA, e => Assert.Equal("shop-a", e.GetProperty("tenantId").GetString()));
        Assert.All(entriesB, e => Assert.Equal("shop-b", e.GetProperty("tenantId").GetString()));
    }

    [Fact]
    public async Task a_token_that_names_an_api_key_is_still_a_users_token()
    {
        // Found by a review: a token carrying an api_key_id claim was audited as a machine client's, and its dashboard session
        // slid past the token's expiry as a key's does.
        var id = await ScheduledCampaignAsync(service.Client("shop-a"));
        var client = service.Anonymous();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestAuth.TokenWithClaims(
            (CampaignIdentity.SubjectClaim, "eve@shop-a.example"), (CampaignIdentity.TenantClaim, "shop-a"), (CampaignIdentity.ApiKeyClaim, "0123456789abcdef")));

        await AcceptedAsync(await client.PostAsJsonAsync($"/api/campaigns/{id}/cancel", new { reasonCode = "Other" }), HttpStatusCode.OK, "cancel");

        var events = await client.GetFromJsonAsync<JsonElement>($"/api/campaigns/{id}/events");
        var requested = events.EnumerateArray().Single(e => e.GetProperty("type").GetString() == "campaign_cancel_requested").GetProperty("data");
        Assert.Equal("User", requested.GetProperty("requestedBy").GetProperty("channel").GetString());
    }

    [Fact]
    public async Task an_api_key_acts_for_its_tenant_with_its_scopes_and_stops_working_once_revoked()
    {
        var keys = service.Factory.Services.GetRequiredService<ApiKeyStore>();
        var (key, secret) = await keys.CreateAsync("shop-a", "crm-sync", [Scopes.CampaignsRead, Scopes.CampaignsCancel]);
        Assert.DoesNotContain(secret.Split('.')[1], key.SecretHash); // only a hash is stored
        var id = await ScheduledCampaignAsync(service.Client("shop-a"));

        var machine = service.Anonymous();
        machine.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("ApiKey", secret);
        Assert.Equal((HttpStatusCode.Forbidden, "insufficient_scope"),
            await Problem(await machine.PostAsJsonAsync("/api/campaigns", new { name = "x", channel = "Email", variants = Variants })));
        var cancel = await AcceptedAsync(await machine.PostAsJsonAsync($"/api/campaigns/{id}/cancel", new { reasonCode = "Other" }), HttpStatusCode.OK, "cancel with a key");
        var events = await machine.GetFromJsonAsync<JsonElement>($"/api/campaigns/{id}/events");
        var requested = events.EnumerateArray().Single(e => e.GetProperty("type").GetString() == "campaign_cancel_requested").GetProperty("data");
        Assert.Equal("apikey:crm-sync", requested.GetProperty("requestedBy").GetProperty("id").GetString());
        Assert.Equal("ApiKey", requested.GetProperty("requestedBy").GetProperty("channel").GetString());
        Assert.True(cancel.Events > 0);

        var other = service.Anonymous();
        other.DefaultRequestHeaders.Add(ApiKeyAuthenticationHandler.Header, secret);
        Assert.Equal(HttpStatusCode.OK, (await other.GetAsync("/api/campaigns")).StatusCode);

        Assert.True(await keys.RevokeAsync(key.Id));
        Assert.Equal((HttpStatusCode.Unauthorized, "unauthenticated"), await Problem(await machine.GetAsync("/api/campaigns")));
        var wrong = service.Anonymous();
        wrong.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("ApiKey", $"esc_{key.Id}.not-the-secret");
        Assert.Equal((HttpStatusCode.Unauthorized, "unauthenticated"), await Problem(await wrong.GetAsync("/api/campaigns")));
    }

    public static TheoryData<string, string[], string> UnusableIdentities => new()
    {
        { "a NUL in the tenant", ["a\0b"], "ana@shop.example" },
        { "a blank tenant", ["  "], "ana@shop.example" },
        { "two tenants", ["shop-a", "shop-b"], "ana@shop.example" },
        { "a tenant over 100 characters", [new string('t', 101)], "ana@shop.example" },
        { "a subject over 320 characters", ["shop-a"], new string('s', 321) },
        { "a control character in the subject", ["shop-a"], "ana\u001b@shop.example" },
        // Found by an audit: these read as another id in the audit's CSV and the logs, which do not isolate them.
        { "a right-to-left override in the subject", ["shop-a"], "ana@shop.example\u202E" },
        { "a direction isolate in the tenant", ["shop-a\u2067"], "ana@shop.example" },
        // Found by a later audit: invisible, so ana\u200B@shop.example was recorded as an id that looks like ana@shop.example.
        { "a zero-width space in the subject", ["shop-a"], "ana\u200B@shop.example" },
        { "a soft hyphen in the subject", ["shop-a"], "ana\u00AD@shop.example" },
        { "a direction mark in the tenant", ["shop-a\u200E"], "ana@shop.example" },
        { "a line separator in the subject", ["shop-a"], "ana\u2028@shop.example" },
        { "a tag character in the subject", ["shop-a"], "ana@shop.example\U000E0041" },
        // " shop-a " was a tenant of its own, empty, beside shop-a.
        { "a tenant with spaces around it", [" shop-a "], "ana@shop.example" },
    };

    [Theory]
    [InlineData(""" "sub":"ana@shop.example","tenant_id":{"id":"shop-a"},"scope":"campaigns:read campaigns:write" """)]
    [InlineData(""" "sub":"ana@shop.example","tenant_id":42,"scope":"campaigns:read campaigns:write" """)]
    [InlineData(""" "sub":"ana@shop.example","tenant_id":true,"scope":"campaigns:read campaigns:write" """)]
    public async Task a_tenant_or_subject_that_is_not_a_string_names_nobody(string claims)
    {
        // Found by an audit: {"id":"shop-a"} acted as the tenant of that JSON text, and 42 as the tenant "42".
        var client = service.Anonymous();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestAuth.TokenWithPayload(claims.Trim()));
        var before = await service.EventCountAsync();

        Assert.Equal((HttpStatusCode.Forbidden, "missing_identity"), await Problem(await client.GetAsync("/api/campaigns")));
        Assert.Equal((HttpStatusCode.Forbidden, "missing_identity"),
            await Problem(await client.PostAsJsonAsync("/api/campaigns", new { name = "x", channel = "Email", variants = Variants })));
        Assert.Equal(before, await service.EventCountAsync());
    }

    [Theory]
    [InlineData("shop\u200B-a", "crm-sync")]
    [InlineData("shop-a", "crm\u202Esync")]
    public async Task no_api_key_is_made_for_a_tenant_or_name_the_api_would_refuse(string tenant, string name)
    {
        var keys = service.Factory.Services.GetRequiredService<ApiKeyStore>();
        await Assert.ThrowsAsync<ArgumentException>(() => keys.CreateAsync(tenant, name, [Scopes.CampaignsRead]));
        Assert.DoesNotContain(await keys.ListAsync(null), k => k.TenantId == tenant && k.Name == name);
    }

    [Fact]
    public async Task a_request_with_two_credentials_is_refused_whichever_of_them_is_valid()
    {
        // Found by an audit: X-Api-Key was used and the Authorization header ignored, so a forged or another tenant's token
        // beside a valid key was served as the key's tenant.
        var keys = service.Factory.Services.GetRequiredService<ApiKeyStore>();
        var (_, secret) = await keys.CreateAsync("shop-a", "two-credentials-" + Guid.NewGuid().ToString("N")[..8], [Scopes.CampaignsRead, Scopes.CampaignsWrite]);
        var before = await service.EventCountAsync();
        (string Name, string Value)[][] pairs =
        [
            [("Authorization", "Bearer not.a.token"), ("X-Api-Key", secret)],
            [("Authorization", "Bearer " + TestAuth.Token("shop-b", "ana@shop.example", Scopes.CampaignsRead, Scopes.CampaignsWrite)), ("X-Api-Key", secret)],
            [("Authorization", "ApiKey " + secret), ("X-Api-Key", secret)],
            [("X-Api-Key", secret), ("X-Api-Key", secret)],
        ];
        foreach (var headers in pairs)
        {
            foreach (var request in new[] { new HttpRequestMessage(HttpMethod.Get, "/api/campaigns"),
                         new HttpRequestMessage(HttpMethod.Post, "/api/campaigns") { Content = JsonContent.Create(new { name = "x", channel = "Email", variants = Variants }) } })
            {
                foreach (var (name, value) in headers) request.Headers.TryAddWithoutValidation(name, value);
                var answer = await service.Anonymous().SendAsync(request);
                Assert.Equal((HttpStatusCode.Unauthorized, "unauthenticated"), await Problem(answer));
                Assert.Contains("Send one credential", await answer.Content.ReadAsStringAsync());
            }
        }
        Assert.Equal(before, await service.EventCountAsync());

        // The control: the key alone works.
        var alone = service.Anonymous();
        alone.DefaultRequestHeaders.TryAddWithoutValidation("X-Api-Key", secret);
        Assert.Equal(HttpStatusCode.OK, (await alone.GetAsync("/api/campaigns")).StatusCode);
    }

    [Theory, MemberData(nameof(UnusableIdentities))]
    public async Task credentials_naming_no_usable_tenant_or_actor_get_403_and_change_nothing(string _, string[] tenants, string subject)
    {
        var client = service.Anonymous();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestAuth.TokenWithClaims(
            [.. tenants.Select(t => (CampaignIdentity.TenantClaim, t)), (CampaignIdentity.SubjectClaim, subject)]));
        var before = await service.EventCountAsync();

        Assert.Equal((HttpStatusCode.Forbidden, "missing_identity"), await Problem(await client.GetAsync("/api/campaigns")));
        Assert.Equal((HttpStatusCode.Forbidden, "missing_identity"),
            await Problem(await client.PostAsJsonAsync("/api/campaigns", new { name = "x", channel = "Email", variants = Variants })));
        Assert.Equal((HttpStatusCode.Forbidden, "missing_identity"), await Problem(await client.DeleteAsync("/api/recipients/c0000000001")));
        Assert.Equal(before, await service.EventCountAsync());
    }

    [Theory]
    [InlineData("""{"sub":"ana@shop.example","tenant_id":"shop-a","tenant_id":"shop-b","scope":"campaigns:read campaigns:write"}""")]
    [InlineData("""{"sub":"ana@shop.example","sub":"mallory@shop.example","tenant_id":"shop-a","scope":"campaigns:read campaigns:write"}""")]
    [InlineData("""{"sub":"ana@shop.example","tenant_id":"shop-a","scope":"audit:read","scope":"campaigns:read campaigns:write"}""")]
    public async Task a_token_that_gives_a_claim_twice_is_refused_and_changes_nothing(string claims)
    {
        // Found by an audit: the token handler kept the last tenant_id, so the campaign was created in shop-b.
        var client = service.Anonymous();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestAuth.TokenWithPayload(claims[1..^1]));
        var before = await service.EventCountAsync();

        Assert.Equal((HttpStatusCode.Unauthorized, "unauthenticated"),
            await Problem(await client.PostAsJsonAsync("/api/campaigns", new { name = "x", channel = "Email", variants = Variants })));
        Assert.Equal((HttpStatusCode.Unauthorized, "unauthenticated"), await Problem(await client.GetAsync("/api/campaigns")));
        Assert.Equal(before, await service.EventCountAsync());
    }

    [Fact]
    public async Task a_token_written_by_hand_with_each_claim_once_is_accepted()
    {
        // The control of the test above: its tokens are refused for the repeated name, not for how they are made.
        var client = service.Anonymous();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer",
            TestAuth.TokenWithPayload(""" "sub":"ana@shop.example","tenant_id":"shop-a","scope":"campaigns:read","nested":{"a":1,"a":2} """.Trim()));

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/campaigns")).StatusCode);
    }

    [Theory]
    [InlineData("Bearer", "not-a-token", "is not valid")]
    [InlineData("ApiKey", "esc_bogus", "is not valid")]
    [InlineData(null, null, "Send the token to sign in with")]
    public async Task a_dashboard_sign_in_with_a_token_that_does_not_validate_says_so_rather_than_asking_for_one(string? scheme, string? token, string says)
    {
        // Found by an audit: a mistyped or expired token was answered as if none had been sent.
        using var signIn = new HttpRequestMessage(HttpMethod.Post, "/auth/token-sign-in");
        if (scheme is not null) signIn.Headers.Authorization = new AuthenticationHeaderValue(scheme, token);
        var response = await service.Anonymous().SendAsync(signIn);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains(says, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task a_dashboard_session_opened_with_an_api_key_ends_when_the_key_is_revoked()
    {
        var keys = service.Factory.Services.GetRequiredService<ApiKeyStore>();
        var (key, secret) = await keys.CreateAsync("shop-a", "dashboard-kiosk", [Scopes.CampaignsRead]);
        var browser = service.Anonymous(); // keeps cookies, as a browser does
        using (var signIn = new HttpRequestMessage(HttpMethod.Post, "/auth/token-sign-in"))
        {
            signIn.Headers.Authorization = new AuthenticationHeaderValue("ApiKey", secret);
            Assert.Equal(HttpStatusCode.NoContent, (await browser.SendAsync(signIn)).StatusCode);
        }
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/api/campaigns")).StatusCode); // the cookie alone

        Assert.True(await keys.RevokeAsync(key.Id));

        Assert.Equal((HttpStatusCode.Unauthorized, "unauthenticated"), await Problem(await browser.GetAsync("/api/campaigns")));
        var session = await browser.GetFromJsonAsync<JsonElement>("/auth/session");
        Assert.False(session.GetProperty("signedIn").GetBoolean());
    }

    [Fact]
    public async Task a_dashboard_session_opened_with_a_bearer_token_ends_when_the_token_expires()
    {
        // The session slides for 8 hours: renewed on each request, it would keep a short-lived token's access long after it expired.
        var browser = service.Anonymous(); // keeps cookies, as a browser does
        // The host is up before the 3 s token is issued: a host started by this first request ate the token's lifetime
        // on a loaded machine, and the session it opened had expired already.
        Assert.False((await browser.GetFromJsonAsync<JsonElement>("/auth/session")).GetProperty("signedIn").GetBoolean());
        var token = SigningKeys.Issue(new SymmetricSecurityKey(Convert.FromBase64String(TestAuth.SigningKey)), new AuthSettings().Issuer,
            new AuthSettings().Audience, "shop-a", "ana@shop.example", Scopes.All, TimeSpan.FromSeconds(3));
        using (var signIn = new HttpRequestMessage(HttpMethod.Post, "/auth/token-sign-in"))
        {
            signIn.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            Assert.Equal(HttpStatusCode.NoContent, (await browser.SendAsync(signIn)).StatusCode);
        }
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/api/campaigns")).StatusCode); // the cookie alone

        await Task.Delay(TimeSpan.FromSeconds(4));

        Assert.Equal((HttpStatusCode.Unauthorized, "unauthenticated"), await Problem(await browser.GetAsync("/api/campaigns")));
        Assert.False((await browser.GetFromJsonAsync<JsonElement>("/auth/session")).GetProperty("signedIn").GetBoolean());
    }

    [Fact]
    public async Task bad_input_is_a_typed_400_and_writes_nothing()
    {
        var client = service.Client("shop-a");
        var id = await ScheduledCampaignAsync(client);
        var draft = (await new CampaignApi(client).CreateAsync("Draft " + Guid.NewGuid().ToString("N")[..6])).CampaignId;
        var before = await service.EventCountAsync();

        var local = await client.PostAsync($"/api/campaigns/{draft}/schedule",
            new StringContent("""{"sendAt":"2030-12-01T09:00:00","included":["everyone"]}""", Encoding.UTF8, "application/json"));
        Assert.Equal((HttpStatusCode.BadRequest, "ambiguous_send_time"), await Problem(local));
        foreach (var impossible in new[] { "2030-12-01T25:00:00Z", "9999-12-31T23:59:59-05:00" }) // an offset, but no such time: malformed, not ambiguous
        {
            var malformed = await client.PostAsync($"/api/campaigns/{draft}/schedule",
                new StringContent($$"""{"sendAt":"{{impossible}}","included":["everyone"]}""", Encoding.UTF8, "application/json"));
            Assert.Equal((HttpStatusCode.BadRequest, "bad_request"), await Problem(malformed));
        }
        var noChannel = await client.PostAsJsonAsync("/api/campaigns", new { name = "No channel", variants = Variants });
        Assert.Equal((HttpStatusCode.BadRequest, "bad_request"), await Problem(noChannel)); // none is assumed
        var noRemainderChoice = await client.PostAsync($"/api/campaigns/{id}/clone", new StringContent("{}", Encoding.UTF8, "application/json"));
        Assert.Equal((HttpStatusCode.BadRequest, "bad_request"), await Problem(noRemainderChoice));
        var notJson = await client.PostAsync($"/api/campaigns/{id}/cancel", new StringContent("reasonCode=Other", Encoding.UTF8, "text/plain"));
        Assert.Equal((HttpStatusCode.UnsupportedMediaType, "unsupported_media_type"), await Problem(notJson));
        var noBody = await client.PostAsync($"/api/campaigns/{id}/cancel", new StringContent("", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, (await Problem(noBody)).Status);
        var huge = await client.PostAsync("/api/campaigns", new StringContent(
            $$"""{"name":"x","channel":"Email","variants":[{"key":"A","subject":"s","content":"{{new string('c', 1_100_000)}}","splitPercent":100}]}""",
            Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await Problem(huge)).Status);
        var longContent = await client.PostAsJsonAsync("/api/campaigns", new
        {
            name = "x", channel = "Email", variants = new[] { new { key = "A", subject = "s", content = new string('c', 100_001), splitPercent = 100 } },
        });
        Assert.Equal((HttpStatusCode.BadRequest, "InvalidVariants"), await Problem(longContent));
        var longList = await client.PostAsJsonAsync($"/api/campaigns/{draft}/schedule", new { sendAt = DateTimeOffset.UtcNow.AddDays(1), included = new[] { new string('l', 201) } });
        Assert.Equal((HttpStatusCode.BadRequest, "InvalidAudience"), await Problem(longList));
        Assert.Equal(before, await service.EventCountAsync());
    }

    [Fact]
    public async Task a_chunked_body_past_the_limit_is_refused_before_an_endpoint_that_reads_no_body_acts()
    {
        // Found by an audit: a 500 MB chunked POST paused the campaign (only a Content-Length was checked).
        var client = service.Client("shop-a");
        var id = await ScheduledCampaignAsync(client);
        var before = await service.EventCountAsync();

        var huge = new StreamContent(new MemoryStream(new byte[2 * 1_048_576]));
        huge.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var pause = new HttpRequestMessage(HttpMethod.Post, $"/api/campaigns/{id}/pause") { Content = huge };
        pause.Headers.TransferEncodingChunked = true;
        Assert.Equal((HttpStatusCode.RequestEntityTooLarge, "body_too_large"), await Problem(await client.SendAsync(pause)));
        Assert.Equal(before, await service.EventCountAsync());

        // Within the limit, a chunked body is handed on as any other.
        using var small = new HttpRequestMessage(HttpMethod.Post, $"/api/campaigns/{id}/pause") { Content = new StringContent("", Encoding.UTF8, "application/json") };
        small.Headers.TransferEncodingChunked = true;
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(small)).StatusCode);
    }

    [Fact]
    public async Task api_answers_are_never_kept_in_a_browser_cache_and_the_dashboard_files_may_be()
    {
        // Found by an audit: a recipients CSV downloaded on a shared machine stayed in the browser's cache after sign-out.
        var client = service.Client("shop-a");
        var id = await ScheduledCampaignAsync(client);
        foreach (var path in new[] { "/api/campaigns", $"/api/campaigns/{id}/recipients.csv", "/api/audit/cancellations", "/auth/session" })
        {
            var response = await client.GetAsync(path);
            Assert.True(response.IsSuccessStatusCode, path);
            Assert.True(response.Headers.CacheControl?.NoStore, path);
        }
        Assert.True((await service.Anonymous().GetAsync("/api/campaigns")).Headers.CacheControl?.NoStore); // a refusal too
        Assert.NotEqual(true, (await service.Anonymous().GetAsync("/app/app.js")).Headers.CacheControl?.NoStore);
    }

    [Fact]
    public async Task a_retried_create_or_clone_with_the_same_idempotency_key_makes_one_campaign()
    {
        var client = service.Client("shop-a");
        var key = Guid.NewGuid().ToString();
        async Task<Accepted> Create()
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/campaigns") { Content = JsonContent.Create(new { name = "Once", channel = "Email", variants = Variants }) };
            request.Headers.Add("Idempotency-Key", key);
            return await AcceptedAsync(await client.SendAsync(request), HttpStatusCode.Created, "create with a key");
        }
        var attempts = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Create()));
        Assert.Single(attempts.Select(a => a.CampaignId).Distinct());
        var events = await client.GetFromJsonAsync<JsonElement>($"/api/campaigns/{attempts[0].CampaignId}/events");
        Assert.Single(events.EnumerateArray(), e => e.GetProperty("type").GetString() == "campaign_created");

        // Another tenant using the same key gets its own campaign.
        using var elsewhere = new HttpRequestMessage(HttpMethod.Post, "/api/campaigns") { Content = JsonContent.Create(new { name = "Once", channel = "Email", variants = Variants }) };
        elsewhere.Headers.Add("Idempotency-Key", key);
        var theirs = await AcceptedAsync(await service.Client("shop-b").SendAsync(elsewhere), HttpStatusCode.Created, "create in B");
        Assert.NotEqual(attempts[0].CampaignId, theirs.CampaignId);

        var source = await ScheduledCampaignAsync(client);
        await AcceptedAsync(await client.PostAsJsonAsync($"/api/campaigns/{source}/cancel", new { reasonCode = "Other" }), HttpStatusCode.OK, "cancel");
        async Task<Accepted> Clone()
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/campaigns/{source}/clone") { Content = JsonContent.Create(new { remainderOnly = false }) };
            request.Headers.Add("Idempotency-Key", "clone-" + key);
            return await AcceptedAsync(await client.SendAsync(request), HttpStatusCode.Created, "clone with a key");
        }
        var first = await Clone();
        var second = await Clone();
        Assert.Equal(first.CampaignId, second.CampaignId);
        var sourceEvents = await client.GetFromJsonAsync<JsonElement>($"/api/campaigns/{source}/events");
        Assert.Single(sourceEvents.EnumerateArray(), e => e.GetProperty("type").GetString() == "campaign_cloned");
    }

    [Fact]
    public async Task a_used_idempotency_key_with_another_campaign_is_refused_with_422_and_nothing_written()
    {
        var client = service.Client("shop-a");
        var key = Guid.NewGuid().ToString();
        async Task<HttpResponseMessage> Create(object body)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/campaigns") { Content = JsonContent.Create(body) };
            request.Headers.Add("Idempotency-Key", key);
            return await client.SendAsync(request);
        }
        var first = await AcceptedAsync(await Create(new { name = "Spring", channel = "Email", variants = Variants }), HttpStatusCode.Created, "first create");
        var before = await service.EventCountAsync();

        Assert.Equal((HttpStatusCode.UnprocessableEntity, "idempotency_key_reused"),
            await Problem(await Create(new { name = "Autumn", channel = "Email", variants = Variants })));
        Assert.Equal((HttpStatusCode.UnprocessableEntity, "idempotency_key_reused"),
            await Problem(await Create(new { name = "Spring", channel = "Sms", variants = new[] { new { key = "A", content = "Text", splitPercent = 100 } } })));
        Assert.Equal(before, await service.EventCountAsync());

        // The same request again (its name padded, as the first was stored trimmed) is still the retry it was.
        var retry = await AcceptedAsync(await Create(new { name = " Spring ", channel = "Email", variants = Variants }), HttpStatusCode.Created, "retry");
        Assert.Equal(first.CampaignId, retry.CampaignId);

        // An SMS variant without a subject, sent with "" and again with none (docs/service.md: the same): one request. Found
        // by an audit: the retry without it was 422, and the event kept the "".
        key = Guid.NewGuid().ToString();
        var sms = await AcceptedAsync(await Create(new { name = "Flash", channel = "Sms", variants = new[] { new { key = "A", subject = "", content = "Text", splitPercent = 100 } } }),
            HttpStatusCode.Created, "SMS with an empty subject");
        var smsRetry = await AcceptedAsync(await Create(new { name = "Flash", channel = "Sms", variants = new[] { new { key = "A", content = "Text", splitPercent = 100 } } }),
            HttpStatusCode.Created, "the same SMS without a subject");
        Assert.Equal(sms.CampaignId, smsRetry.CampaignId);
        var created = (await client.GetFromJsonAsync<JsonElement>($"/api/campaigns/{sms.CampaignId}/events"))[0].GetProperty("data").GetProperty("variants")[0];
        Assert.Equal(JsonValueKind.Null, created.GetProperty("subject").ValueKind);

        // A clone's key names its source; with the other remainderOnly it is another clone, not a retry.
        var source = await ScheduledCampaignAsync(client);
        await AcceptedAsync(await client.PostAsJsonAsync($"/api/campaigns/{source}/cancel", new { reasonCode = "Other" }), HttpStatusCode.OK, "cancel");
        async Task<HttpResponseMessage> Clone(bool remainderOnly)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/campaigns/{source}/clone") { Content = JsonContent.Create(new { remainderOnly }) };
            request.Headers.Add("Idempotency-Key", key);
            return await client.SendAsync(request);
        }
        var whole = await AcceptedAsync(await Clone(remainderOnly: false), HttpStatusCode.Created, "clone");
        before = await service.EventCountAsync();
        Assert.Equal((HttpStatusCode.UnprocessableEntity, "idempotency_key_reused"), await Problem(await Clone(remainderOnly: true)));
        Assert.Equal(before, await service.EventCountAsync());
        Assert.Equal(whole.CampaignId, (await AcceptedAsync(await Clone(remainderOnly: false), HttpStatusCode.Created, "clone retried")).CampaignId);

        // The remainder of a campaign cancelled before it sent is its whole audience, and its clone is stored as a whole one:
        // its retry is still a retry (an audit found it refused with 422), and the other remainderOnly is still another clone.
        key = Guid.NewGuid().ToString();
        var remainder = await AcceptedAsync(await Clone(remainderOnly: true), HttpStatusCode.Created, "remainder clone");
        Assert.NotEqual(whole.CampaignId, remainder.CampaignId);
        Assert.Equal(remainder.CampaignId, (await AcceptedAsync(await Clone(remainderOnly: true), HttpStatusCode.Created, "remainder clone retried")).CampaignId);
        Assert.Equal((HttpStatusCode.UnprocessableEntity, "idempotency_key_reused"), await Problem(await Clone(remainderOnly: false)));
    }

    [Fact]
    public async Task two_idempotency_keys_are_refused_and_create_nothing()
    {
        // Found by an audit: the first of two was used, silently; a retry sending them in the other order made a second campaign.
        var before = await service.EventCountAsync();
        foreach (var keys in new[] { new[] { Guid.NewGuid().ToString(), Guid.NewGuid().ToString() }, [$"{Guid.NewGuid()}, {Guid.NewGuid()}"] })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/campaigns") { Content = JsonContent.Create(new { name = "Twice", channel = "Email", variants = Variants }) };
            request.Headers.TryAddWithoutValidation("Idempotency-Key", keys);
            Assert.Equal((HttpStatusCode.BadRequest, "bad_idempotency_key"), await Problem(await service.Client("shop-a").SendAsync(request)));
        }
        Assert.Equal(before, await service.EventCountAsync());
    }
}

/// <summary>Limits that need a service of their own: the per-tenant rate limit, and development tokens by environment.</summary>
[Collection("in-process host")]
public sealed class the_api_limits
{
    [Fact]
    public async Task a_tenant_over_its_rate_limit_gets_429_and_other_tenants_are_not_slowed()
    {
        await using var factory = SecuredService.Start(TestDatabase.UniqueSchema("rate"), new Dictionary<string, string?> { ["Campaigns:Auth:RequestsPerMinutePerTenant"] = "5" });
        var shopA = factory.CreateClient().SignedIn("shop-a");
        var answers = new List<HttpStatusCode>();
        for (var i = 0; i < 7; i++) answers.Add((await shopA.GetAsync("/api/campaigns")).StatusCode);
        Assert.Equal(5, answers.Count(s => s == HttpStatusCode.OK));
        var limited = await shopA.GetAsync("/api/campaigns");
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Contains("rate_limited", await limited.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, (await factory.CreateClient().SignedIn("shop-b").GetAsync("/api/campaigns")).StatusCode);
    }

    [Theory]
    [InlineData("Development", HttpStatusCode.NoContent)]
    [InlineData("Staging", HttpStatusCode.NotFound)]
    [InlineData("Production", HttpStatusCode.NotFound)]
    public async Task the_development_sign_in_asks_for_no_secret_so_only_a_development_host_offers_it(string environment, HttpStatusCode expected)
    {
        // Any tenant, any name, every scope: a Staging host reachable by others would let anyone act for any tenant.
        await using var factory = SecuredService.Start(TestDatabase.UniqueSchema("devsign"), new Dictionary<string, string?>
        {
            ["Campaigns:Auth:DevelopmentSignIn"] = "true",
        }, environment);
        var client = factory.CreateClient();

        var signIn = await client.PostAsJsonAsync("/auth/dev-sign-in", new { tenant = "shop-a", name = "mallory", scopes = Scopes.All });

        Assert.Equal(expected, signIn.StatusCode);
        var session = await client.GetFromJsonAsync<JsonElement>("/auth/session");
        Assert.Equal(expected == HttpStatusCode.NoContent, session.GetProperty("developmentSignIn").GetBoolean());
        Assert.Equal(expected == HttpStatusCode.NoContent, session.GetProperty("signedIn").GetBoolean());
        if (expected == HttpStatusCode.NotFound) Assert.Contains("dev_sign_in_disabled", await signIn.Content.ReadAsStringAsync());
    }

    [Theory]
    // Found by an audit: "... deserialization of type 'EventSourcedCampaigns.Service.Security.DevSignInBody'".
    [InlineData("application/json", """{"tenant":"shop-a","tenant":"shop-b","name":"ana"}""", HttpStatusCode.BadRequest, "gives the property 'tenant' twice")]
    [InlineData("text/plain", """{"tenant":"shop-a","name":"ana"}""", HttpStatusCode.UnsupportedMediaType, "Send the body as application/json")]
    public async Task the_development_sign_in_refuses_a_body_in_the_apis_words(string contentType, string body, HttpStatusCode status, string says)
    {
        await using var factory = SecuredService.Start(TestDatabase.UniqueSchema("devbody"), new Dictionary<string, string?>
        {
            ["Campaigns:Auth:DevelopmentSignIn"] = "true",
        }, "Development");
        var client = factory.CreateClient();

        var signIn = await client.PostAsync("/auth/dev-sign-in", new StringContent(body, Encoding.UTF8, contentType));

        Assert.Equal(status, signIn.StatusCode);
        var detail = (await signIn.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString()!;
        Assert.Contains(says, detail);
        Assert.DoesNotContain("EventSourcedCampaigns.", detail);
        Assert.False((await client.GetFromJsonAsync<JsonElement>("/auth/session")).GetProperty("signedIn").GetBoolean());
    }

    [Theory]
    [InlineData("Production", "__Host-campaigns.session", true)]
    [InlineData("Staging", "__Host-campaigns.session", true)]
    [InlineData("Development", "campaigns.session", false)]
    public async Task the_session_cookie_is_a_secure_host_cookie_outside_development_even_when_tls_ends_at_a_proxy(string environment, string name, bool secure)
    {
        // The test server speaks plain HTTP, as the service does behind a proxy that ends TLS. Outside Development the cookie
        // is __Host-: Secure, Path=/ and no Domain, or a browser drops it; in Development it must work over plain http.
        await using var factory = SecuredService.Start(TestDatabase.UniqueSchema("cookie"), environment: environment);
        using var signIn = new HttpRequestMessage(HttpMethod.Post, "/auth/token-sign-in");
        signIn.Headers.Authorization = new AuthenticationHeaderValue("Bearer", TestAuth.Token("shop-a"));
        var client = factory.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { HandleCookies = false });

        var response = await client.SendAsync(signIn);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        var cookie = Assert.Single(response.Headers.GetValues("Set-Cookie"));
        var parts = cookie.Split(';').Select(a => a.Trim()).ToList();
        Assert.StartsWith(name + "=", parts[0], StringComparison.Ordinal);
        Assert.Equal(secure, parts.Contains("secure", StringComparer.OrdinalIgnoreCase));
        Assert.Contains("path=/", parts, StringComparer.OrdinalIgnoreCase);
        Assert.Contains("httponly", parts, StringComparer.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", parts, StringComparer.OrdinalIgnoreCase);
        Assert.DoesNotContain(parts, a => a.StartsWith("domain=", StringComparison.OrdinalIgnoreCase));

        // The cookie opens the session under its own name only.
        async Task<HttpStatusCode> WithCookie(string cookieName)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/campaigns");
            request.Headers.Add("Cookie", cookieName + parts[0][parts[0].IndexOf('=')..]);
            return (await client.SendAsync(request)).StatusCode;
        }
        Assert.Equal(HttpStatusCode.OK, await WithCookie(name));
        Assert.Equal(HttpStatusCode.Unauthorized, await WithCookie(secure ? DashboardSession.DevelopmentCookieName : DashboardSession.CookieName));
    }

    [Theory]
    [InlineData("Development", HttpStatusCode.OK)]
    [InlineData("Production", HttpStatusCode.Unauthorized)]
    public async Task development_tokens_work_outside_production_only(string environment, HttpStatusCode expected)
    {
        var keyFile = Path.Combine(Path.GetTempPath(), $"campaigns-dev-key-{Guid.NewGuid():N}");
        try
        {
            await using var factory = SecuredService.Start(TestDatabase.UniqueSchema("devtok"), new Dictionary<string, string?>
            {
                ["Campaigns:Auth:DevelopmentTokens"] = "true",
                ["Campaigns:Auth:DevelopmentKeyFile"] = keyFile,
            }, environment);
            var client = factory.CreateClient();
            _ = await client.GetAsync("/health/live"); // the service creates the key file on start
            var settings = new AuthSettings { DevelopmentKeyFile = keyFile };
            var token = SigningKeys.Issue(SigningKeys.Development(settings), AuthSettings.DevelopmentIssuer, settings.Audience, "shop-a", "dev@local", Scopes.All, TimeSpan.FromMinutes(5));
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
            Assert.Equal(expected, (await client.GetAsync("/api/campaigns")).StatusCode);
        }
        finally
        {
            File.Delete(keyFile);
        }
    }
}

/// <summary>/ops/projections answers anyone: it tells an operator the database is unreachable, not where it is.</summary>
public sealed class the_projection_status
{
    [Fact]
    public async Task an_unreachable_database_is_reported_without_its_host_port_user_or_name()
    {
        using var store = global::Marten.DocumentStore.For("Host=127.0.0.1;Port=1;Username=campaigns_owner;Database=campaigns_secret;Timeout=2");
        var monitor = new ProjectionMonitor(store, new ServiceCollection().BuildServiceProvider(), TimeProvider.System,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<ProjectionMonitor>.Instance);
        await monitor.StartAsync(CancellationToken.None);
        try
        {
            for (var deadline = DateTime.UtcNow.AddSeconds(60); monitor.Current.CheckedAt == DateTimeOffset.MinValue; await Task.Delay(50))
                Assert.True(DateTime.UtcNow < deadline, "The monitor never checked the database.");
        }
        finally
        {
            await monitor.StopAsync(CancellationToken.None);
        }

        Assert.False(monitor.Current.Reachable);
        Assert.Equal(ProjectionMonitor.UnreachableError, monitor.Current.Error);
        var answered = JsonSerializer.Serialize(monitor.Current);
        foreach (var secret in new[] { "127.0.0.1", "campaigns_owner", "campaigns_secret" }) Assert.DoesNotContain(secret, answered);
    }
}
