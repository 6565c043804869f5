using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EventSourcedCampaigns.IntegrationTests.Infrastructure;
using EventSourcedCampaigns.Service.Http;
using EventSourcedCampaigns.Service.Security;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Xunit.Abstractions;
using static EventSourcedCampaigns.Service.Tests.CampaignApi;

namespace EventSourcedCampaigns.Service.Tests;

/// <summary>
/// Every /api endpoint of the running app (read from its <see cref="EndpointDataSource"/>, so a new one is covered
/// without touching this file) under thousands of seeded random requests: odd bodies, route values, query strings,
/// headers and credentials. No 5xx; every 4xx a problem+json with a "code"; and a refused request writes nothing
/// (requests run one at a time, the store measured around each). Reproduce a failure with FUZZ_SEED=&lt;seed&gt;.
/// </summary>
[Collection("in-process host")]
public sealed class the_api_fuzz(ITestOutputHelper output) : IAsyncLifetime
{
    private const string TenantA = "fuzz-a";
    private const string TenantB = "fuzz-b";
    private readonly string _schema = TestDatabase.UniqueSchema("fuzz");
    private WebApplicationFactory<Program> _factory = null!;

    public Task InitializeAsync()
    {
        // Production: minimal APIs then answer bad bodies without throwing, as a deployed service does.
        _factory = SecuredService.Start(_schema, new Dictionary<string, string?> { ["Campaigns:Auth:RequestsPerMinutePerTenant"] = "1000000" }, "Production");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    private IReadOnlyList<ApiEndpoint> ApiEndpoints()
    {
        _ = _factory.Server; // builds the host, which maps the endpoints
        var sources = _factory.Services.GetRequiredService<EndpointDataSource>();
        return [.. sources.Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText is { } raw && raw.TrimStart('/').StartsWith("api/", StringComparison.Ordinal))
            .SelectMany(e => (e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["GET"])
                .Select(m => new ApiEndpoint(m, "/" + e.RoutePattern.RawText!.TrimStart('/'), [.. e.RoutePattern.Parameters.Select(p => p.Name)])))
            .Distinct()
            .OrderBy(e => e.Template).ThenBy(e => e.Method)];
    }

    private HttpClient Client(string tenant, params string[] scopes) => _factory.CreateClient().SignedIn(tenant, "fuzzer@shop.example", scopes);

    private async Task<Guid> ScheduledAsync(HttpClient client, string name, bool cancel = false)
    {
        var api = new CampaignApi(client);
        var id = (await api.CreateAsync(name)).CampaignId;
        await api.ScheduleAsync(id, DateTimeOffset.UtcNow.AddDays(30), "everyone", 500);
        await WaitForEventAsync(id, "campaign_scheduling_completed");
        if (cancel) await AcceptedAsync(await client.PostAsJsonAsync($"/api/campaigns/{id}/cancel", new { reasonCode = "Other" }), HttpStatusCode.OK, "cancel");
        return id;
    }

    private async Task WaitForEventAsync(Guid stream, string type)
    {
        for (var deadline = DateTime.UtcNow.AddSeconds(60); ; await Task.Delay(50))
        {
            if (await ScalarAsync($"select count(*) from {_schema}.mt_events where stream_id = @s and type = @t", ("s", stream), ("t", type)) > 0) return;
            Assert.True(DateTime.UtcNow < deadline, $"{stream} never got {type}.");
        }
    }

    private async Task<long> ScalarAsync(string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = new NpgsqlConnection(TestDatabase.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }

    /// <summary>What a refused request must leave alone: the events, and the campaigns' write-model documents.</summary>
    private sealed record Snapshot(long Events, long MaxSequence, long Campaigns, DateTimeOffset LastModified);

    private sealed record NewEvent(long Sequence, string Type, string Tenant);

    private async Task<Snapshot> SnapshotAsync(NpgsqlConnection connection)
    {
        await using var command = new NpgsqlCommand(
            $"select (select count(*) from {_schema}.mt_events), (select coalesce(max(seq_id), 0) from {_schema}.mt_events), " +
            $"(select count(*) from {_schema}.mt_doc_campaignstate), (select coalesce(max(mt_last_modified), '-infinity') from {_schema}.mt_doc_campaignstate)",
            connection);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return new Snapshot(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetFieldValue<DateTimeOffset>(3));
    }

    private async Task<IReadOnlyList<NewEvent>> EventsAfterAsync(NpgsqlConnection connection, long sequence)
    {
        await using var command = new NpgsqlCommand($"select seq_id, type, tenant_id from {_schema}.mt_events where seq_id > @s order by seq_id", connection);
        command.Parameters.AddWithValue("s", sequence);
        await using var reader = await command.ExecuteReaderAsync();
        var events = new List<NewEvent>();
        while (await reader.ReadAsync()) events.Add(new NewEvent(reader.GetInt64(0), reader.GetString(1), reader.GetString(2)));
        return events;
    }

    private async Task<IReadOnlyList<Guid>> CampaignsModifiedAfterAsync(NpgsqlConnection connection, DateTimeOffset at)
    {
        await using var command = new NpgsqlCommand($"select id from {_schema}.mt_doc_campaignstate where mt_last_modified > @at", connection);
        command.Parameters.AddWithValue("at", at);
        await using var reader = await command.ExecuteReaderAsync();
        var ids = new List<Guid>();
        while (await reader.ReadAsync()) ids.Add(reader.GetGuid(0));
        return ids;
    }

    /// <summary>Wait until the background work a successful command started (audience preparation ...) has settled.</summary>
    private async Task<Snapshot> QuietAsync(NpgsqlConnection connection)
    {
        var last = await SnapshotAsync(connection);
        for (var (stable, deadline) = (0, DateTime.UtcNow.AddSeconds(30)); stable < 2 && DateTime.UtcNow < deadline;)
        {
            await Task.Delay(100);
            var now = await SnapshotAsync(connection);
            stable = now == last ? stable + 1 : 0;
            last = now;
        }
        return last;
    }

    [Fact]
    public async Task thousands_of_random_requests_to_every_endpoint_get_no_5xx_a_coded_problem_for_every_4xx_and_no_write_when_refused()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("FUZZ_SEED"), out var fixedSeed) ? fixedSeed : Random.Shared.Next();
        output.WriteLine($"FUZZ_SEED={seed}");
        var endpoints = ApiEndpoints();
        output.WriteLine($"{endpoints.Count} endpoints: {string.Join(", ", endpoints)}");
        Assert.True(endpoints.Count >= 15, $"Only {endpoints.Count} /api endpoints found: {string.Join(", ", endpoints)}");

        var a = Client(TenantA);
        var b = Client(TenantB);
        var draftA = (await new CampaignApi(a).CreateAsync("Fuzz draft")).CampaignId;
        var scheduledA = await ScheduledAsync(a, "Fuzz scheduled");
        var cancelledA = await ScheduledAsync(a, "Fuzz cancelled", cancel: true);
        var draftB = (await new CampaignApi(b).CreateAsync("Fuzz B draft")).CampaignId;
        var scheduledB = await ScheduledAsync(b, "Fuzz B scheduled");
        var fuzz = new RequestFuzzer(new Random(seed), [draftA, scheduledA, cancelledA], [draftB, scheduledB]);

        await using var connection = new NpgsqlConnection(TestDatabase.ConnectionString);
        await connection.OpenAsync();
        var client = _factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        var statuses = new SortedDictionary<int, int>();
        var perEndpoint = endpoints.ToDictionary(e => e, _ => 0);
        var failures = new List<string>();
        var (requests, skipped) = (0, 0);
        var watch = Stopwatch.StartNew();
        var before = await QuietAsync(connection);
        const int Total = 3_000;
        for (var i = 0; i < Total && failures.Count < 20; i++)
        {
            var endpoint = endpoints[fuzz.Next(endpoints.Count)];
            var (request, described) = fuzz.Request(endpoint, i);
            HttpResponseMessage response;
            try
            {
                response = await client.SendAsync(request);
            }
            catch (Exception e) when (e is InvalidOperationException or FormatException or HttpRequestException or ArgumentException)
            {
                skipped++; // HttpClient or the test server would not send it (a header it refuses ...)
                continue;
            }
            requests++;
            perEndpoint[endpoint]++;
            var status = (int)response.StatusCode;
            statuses[status] = statuses.GetValueOrDefault(status) + 1;
            var text = await response.Content.ReadAsStringAsync();
            var shown = text.Length > 300 ? text[..300] + "…" : text;
            string? code = null;
            if (status >= 500) failures.Add($"#{i} {described} → {status}: {shown}");
            else if (status >= 400)
            {
                if (response.Content.Headers.ContentType?.MediaType != "application/problem+json")
                    failures.Add($"#{i} {described} → {status} as {response.Content.Headers.ContentType?.MediaType ?? "no content type"}: {shown}");
                else
                {
                    try
                    {
                        using var problem = JsonDocument.Parse(text);
                        code = problem.RootElement.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
                    }
                    catch (JsonException)
                    {
                    }
                    if (string.IsNullOrEmpty(code)) failures.Add($"#{i} {described} → {status} without a code: {shown}");
                }
            }

            var after = await SnapshotAsync(connection);
            if (status >= 400 && after != before)
            {
                var added = await EventsAfterAsync(connection, before.MaxSequence);
                var modified = await CampaignsModifiedAfterAsync(connection, before.LastModified);
                // By design a cancel the rules refuse (unknown campaign, wrong status, bad input the decider sees) is kept
                // in the caller's own audit: one campaign_cancel_rejected of the caller's tenant, no change of state.
                var auditedRefusal = endpoint.Template.EndsWith("/cancel") && fuzz.LastTenant is { } tenant && status is 400 or 404 or 409
                    && added is [{ Type: "campaign_cancel_rejected" } only] && only.Tenant == tenant && after.Events == before.Events + 1
                    && after.Campaigns == before.Campaigns && modified.All(m => fuzz.LastCampaign == m);
                if (!auditedRefusal)
                    failures.Add($"#{i} {described} → {status} {code} but wrote: {before} → {after}, events {string.Join(", ", added.Select(e => $"{e.Type}@{e.Tenant}"))}, campaigns modified {string.Join(", ", modified)}");
            }
            // The request's own method: a fuzzed request may use another method on the endpoint's path (a POST to the
            // list's path is a create).
            else if (request.Method == HttpMethod.Get && after != before)
                failures.Add($"#{i} {described} → {status}: a query wrote: {before} → {after}");
            before = status < 400 && endpoint.Method != "GET" ? await QuietAsync(connection) : after;
        }
        watch.Stop();

        output.WriteLine($"{requests} requests ({skipped} not sent by the client) in {watch.Elapsed.TotalSeconds:F1} s");
        output.WriteLine("statuses: " + string.Join(", ", statuses.Select(s => $"{s.Key}×{s.Value}")));
        foreach (var (endpoint, count) in perEndpoint) output.WriteLine($"  {count,5}  {endpoint}");
        Assert.True(failures.Count == 0, $"FUZZ_SEED={seed}: {failures.Count} failures\n{string.Join("\n", failures)}");
        Assert.True(requests >= Total * 9 / 10, $"Only {requests} of {Total} requests were sent (seed {seed}).");
        Assert.All(perEndpoint, p => Assert.True(p.Value >= 50, $"{p.Key} got only {p.Value} requests (seed {seed})."));
    }

    [Fact]
    public async Task a_valid_token_of_another_tenant_naming_a_campaign_gets_404_and_changes_nothing_on_every_endpoint_that_takes_one()
    {
        var withId = ApiEndpoints().Where(e => e.Parameters.Contains("id")).ToList();
        Assert.True(withId.Count >= 10, $"Only {withId.Count} endpoints take a campaign id: {string.Join(", ", withId)}");
        var shopA = Client(TenantA);
        var scheduled = await ScheduledAsync(shopA, "Tenant A's scheduled");
        var cancelled = await ScheduledAsync(shopA, "Tenant A's cancelled", cancel: true);
        var draft = (await new CampaignApi(shopA).CreateAsync("Tenant A's draft")).CampaignId;
        var shopB = Client(TenantB);
        shopB.DefaultRequestHeaders.Add("X-Tenant-Id", TenantA); // counts for nothing

        await using var connection = new NpgsqlConnection(TestDatabase.ConnectionString);
        await connection.OpenAsync();
        var failures = new List<string>();
        foreach (var endpoint in withId)
            foreach (var id in new[] { draft, scheduled, cancelled })
            {
                var url = endpoint.Template.Replace("{id}", id.ToString()).Replace("{recipientId}", "c0000000001");
                using var request = new HttpRequestMessage(new HttpMethod(endpoint.Method), url) { Content = ValidBody(endpoint) };
                var before = await SnapshotAsync(connection);
                var aBefore = await ScalarAsync($"select count(*) from {_schema}.mt_events where tenant_id = @t", ("t", TenantA));
                var response = await shopB.SendAsync(request);
                var text = await response.Content.ReadAsStringAsync();
                var code = response.Content.Headers.ContentType?.MediaType == "application/problem+json"
                    ? JsonDocument.Parse(text).RootElement.TryGetProperty("code", out var c) ? c.GetString() : null
                    : null;
                if (response.StatusCode != HttpStatusCode.NotFound || code != "CampaignNotFound")
                    failures.Add($"{endpoint} of A's {id}: {(int)response.StatusCode} {code} {text[..Math.Min(200, text.Length)]}");
                // Tenant A: nothing at all. Tenant B: a refused cancel is kept in B's own audit, nothing else.
                Assert.Equal(aBefore, await ScalarAsync($"select count(*) from {_schema}.mt_events where tenant_id = @t", ("t", TenantA)));
                var after = await SnapshotAsync(connection);
                var added = await EventsAfterAsync(connection, before.MaxSequence);
                var expected = endpoint.Template.EndsWith("/cancel") ? new[] { $"campaign_cancel_rejected@{TenantB}" } : [];
                if (!added.Select(e => $"{e.Type}@{e.Tenant}").SequenceEqual(expected) || after.Campaigns != before.Campaigns || after.LastModified != before.LastModified)
                    failures.Add($"{endpoint} of A's {id} wrote: {before} → {after}: {string.Join(", ", added.Select(e => $"{e.Type}@{e.Tenant}"))}");
            }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public async Task a_refusal_without_a_body_of_its_own_is_a_problem_with_a_code_too()
    {
        var client = Client(TenantA);
        async Task<(HttpStatusCode, string?)> Problem(HttpResponseMessage response)
        {
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            return (response.StatusCode, body.RootElement.TryGetProperty("code", out var code) ? code.GetString() : null);
        }
        Assert.Equal((HttpStatusCode.NotFound, "not_found"), await Problem(await client.GetAsync("/api/nowhere")));
        Assert.Equal((HttpStatusCode.MethodNotAllowed, "method_not_allowed"), await Problem(await client.PutAsync("/api/campaigns", JsonContent.Create(new { }))));
        Assert.Equal((HttpStatusCode.UnsupportedMediaType, "unsupported_media_type"),
            await Problem(await client.PostAsync("/api/campaigns", new StringContent("{}", Encoding.UTF8, "text/plain"))));
        Assert.Equal((HttpStatusCode.BadRequest, "bad_request"),
            await Problem(await client.PostAsync("/api/campaigns", new StringContent("{\"name\":", Encoding.UTF8, "application/json"))));
    }

    [Fact]
    public async Task a_head_request_gets_the_status_and_content_type_its_get_would()
    {
        // Found by fuzzing: MapGet maps GET only, so a HEAD was refused with 405 (RFC 9110: HEAD is GET without the content).
        // Kestrel drops what a HEAD response writes; the test server passes it on, so only status and headers are compared.
        var signedIn = Client(TenantA);
        var anonymous = _factory.CreateClient();
        (HttpClient Client, string Url)[] requests =
        [
            (signedIn, "/api/campaigns"), (signedIn, "/api/campaigns?afterSequence=abc"), (signedIn, $"/api/campaigns/{Guid.NewGuid()}/report"),
            (signedIn, "/api/audit/verification"), (signedIn, "/api/campaigns?status=2"), (anonymous, "/api/campaigns"), (anonymous, "/ops/projections"),
        ];
        foreach (var (client, url) in requests)
        {
            var get = await client.GetAsync(url);
            var head = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, url));
            Assert.True((get.StatusCode, get.Content.Headers.ContentType?.MediaType) == (head.StatusCode, head.Content.Headers.ContentType?.MediaType),
                $"HEAD {url}: {(int)head.StatusCode} {head.Content.Headers.ContentType}; GET: {(int)get.StatusCode} {get.Content.Headers.ContentType}");
        }
        // Another method still gets 405, whose Allow names HEAD now.
        var put = await signedIn.PutAsync("/api/campaigns", JsonContent.Create(new { }));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, put.StatusCode);
        Assert.Equal(["GET", "HEAD", "POST"], put.Content.Headers.Allow.Order());
    }

    private static HttpContent? ValidBody(ApiEndpoint endpoint) => endpoint.Method != "POST" ? null : endpoint.Template switch
    {
        var t when t.EndsWith("/schedule") => JsonContent.Create(new { sendAt = DateTimeOffset.UtcNow.AddDays(3), included = new[] { "everyone" }, batchSize = 500 }),
        var t when t.EndsWith("/cancel") => JsonContent.Create(new { reasonCode = "Other", reason = "not mine" }),
        var t when t.EndsWith("/clone") => JsonContent.Create(new { remainderOnly = true }),
        _ => JsonContent.Create(new { }),
    };
}

/// <summary>An /api endpoint: its method, its route template and the names of its route parameters.</summary>
public sealed record ApiEndpoint(string Method, string Template, IReadOnlyList<string> Parameters)
{
    public override string ToString() => $"{Method} {Template}";
}

/// <summary>Makes the fuzz's requests from one seeded <see cref="Random"/>.</summary>
internal sealed class RequestFuzzer(Random random, IReadOnlyList<Guid> campaignsOfA, IReadOnlyList<Guid> campaignsOfB)
{
    private const string TenantA = "fuzz-a";
    private const string TenantB = "fuzz-b";
    private static readonly string TokenA = TestAuth.Token(TenantA, "fuzzer@shop-a.example");
    private static readonly string TokenB = TestAuth.Token(TenantB, "mallory@shop-b.example");
    private static readonly string ReadOnlyA = TestAuth.Token(TenantA, "viewer@shop-a.example", Scopes.CampaignsRead);
    private static readonly string NoTenant = TestAuth.Token("", "nobody@nowhere.example");
    private static readonly string Huge = new('x', 100_000);

    /// <summary>The known fields of the request bodies, from the body records themselves (and a variant's).</summary>
    private static readonly string[] Fields = [.. new[] { typeof(CreateCampaignBody), typeof(ScheduleCampaignBody), typeof(CancelCampaignBody), typeof(CloneCampaignBody), typeof(Variant) }
        .SelectMany(t => t.GetConstructors(BindingFlags.Public | BindingFlags.Instance).SelectMany(c => c.GetParameters()))
        .Select(p => JsonNamingPolicy.CamelCase.ConvertName(p.Name!)).Distinct()];

    private static readonly string[] QueryNames =
        ["page", "pageSize", "afterSequence", "status", "name", "updatedFrom", "updatedTo", "sort", "descending", "campaignId", "actor", "channel",
         "from", "to", "outcome", "unknown", "page[]", ""];

    private static readonly string[] Odd =
    [
        "", " ", "null", "-1", "0", "1", "2147483648", "99999999999999999999", "-9223372036854775809", "1e308", "NaN", "true", "[]", "{}",
        "Bogus", "Email", "Cancelled", "NotSent", "Name", "Delivered", "User", "2026-13-45", "2030-01-01T00:00:00Z", "2030-01-01", "9999-12-31T23:59:59+14:00",
        "0001-01-01T00:00:00Z", "ç™ø∑ 🚀 \u202e", "'; drop table mt_events; --", "<script>", "%00", "\0", "=1+1", "../..", "c0000000001", "\ud800",
    ];

    public Guid? LastCampaign { get; private set; }
    public string? LastTenant { get; private set; }

    public int Next(int max) => random.Next(max);

    private T Pick<T>(IReadOnlyList<T> items) => items[random.Next(items.Count)];

    private bool Chance(double p) => random.NextDouble() < p;

    private string RandomText(int max)
    {
        var length = random.Next(max + 1);
        var chars = new char[length];
        for (var i = 0; i < length; i++)
            chars[i] = random.Next(6) switch
            {
                0 => (char)random.Next(0x20, 0x7f),
                1 => (char)random.Next(0, 0x20),
                2 => (char)random.Next(0xa0, 0x3000),
                3 => (char)random.Next(0xd800, 0xe000), // lone surrogates
                _ => (char)random.Next('a', 'z' + 1),
            };
        return new string(chars);
    }

    private string OddText() => random.Next(5) switch
    {
        0 => RandomText(40),
        1 => Pick(Odd),
        2 => new string('y', random.Next(1_000, 6_000)),
        _ => Pick(Odd),
    };

    private string RouteValue(string parameter)
    {
        LastCampaign = null;
        if (parameter == "id")
        {
            var roll = random.NextDouble();
            Guid? id = roll < 0.55 ? Pick(campaignsOfA) : roll < 0.7 ? Pick(campaignsOfB) : roll < 0.8 ? Guid.NewGuid() : roll < 0.83 ? Guid.Empty : null;
            if (id is { } campaign)
            {
                LastCampaign = campaign;
                return random.Next(10) switch { 0 => campaign.ToString("N"), 1 => campaign.ToString("B"), 2 => campaign.ToString().ToUpperInvariant(), _ => campaign.ToString() };
            }
        }
        else if (Chance(0.5)) return "c" + random.Next(0, 3000).ToString("0000000000");
        var text = OddText();
        return Uri.EscapeDataString(text.Length == 0 ? " " : text);
    }

    private string Query()
    {
        var parts = new List<string>();
        for (var n = random.Next(1, 5); n > 0; n--)
        {
            var name = Pick(QueryNames);
            var value = name switch
            {
                // A valid sequence far ahead would rightly wait 10 s and answer 503: garbage, negatives, overflow and 0 only.
                "afterSequence" => Pick(["", "-1", "abc", "99999999999999999999", "1.5", "0", "0x10", " 0", "+0", "١"]),
                "page" or "pageSize" => Pick(["-1", "0", "1", "2", "500", "501", "2147483647", "2147483648", "99999999999999999999", "abc", ""]),
                _ => OddText(),
            };
            parts.Add($"{Uri.EscapeDataString(name)}={Uri.EscapeDataString(value)}");
        }
        return "?" + string.Join('&', parts);
    }

    private JsonNode? RandomJson(int depth)
    {
        switch (random.Next(depth > 3 ? 6 : 9))
        {
            case 0: return null;
            case 1: return JsonValue.Create(random.Next(2) == 0);
            case 2: return JsonValue.Create(random.Next(int.MinValue, int.MaxValue));
            case 3: return JsonValue.Create(random.NextDouble() * Math.Pow(10, random.Next(-5, 300)));
            case 4: return JsonValue.Create(OddText());
            case 5: return JsonValue.Create(Chance(0.05) ? Huge : Pick(Odd));
            case 6:
            {
                var array = new JsonArray();
                for (var n = random.Next(4); n > 0; n--) array.Add(RandomJson(depth + 1));
                return array;
            }
            default:
            {
                var obj = new JsonObject();
                for (var n = random.Next(5); n > 0; n--) obj[Chance(0.7) ? Pick(Fields) : OddText()] = RandomJson(depth + 1);
                return obj;
            }
        }
    }

    /// <summary>A body that has the endpoint's fields, some of them right, others of the wrong type.</summary>
    private JsonObject FieldBody(string template)
    {
        var variant = new JsonObject { ["key"] = "A", ["subject"] = "Hello", ["content"] = "Sale", ["splitPercent"] = 100 };
        var valid = template switch
        {
            var t when t.EndsWith("/schedule") => new JsonObject
            {
                ["sendAt"] = Pick([DateTimeOffset.UtcNow.AddDays(random.Next(1, 300)).ToString("O"), "2031-01-01T09:00:00+01:00", "2020-01-01T00:00:00Z", "2031-01-01T09:00:00"]),
                ["included"] = new JsonArray("everyone"), ["excluded"] = new JsonArray(), ["batchSize"] = Pick([500, 0, -1, 1, 1_000_000]),
            },
            var t when t.EndsWith("/cancel") => new JsonObject { ["reasonCode"] = Pick(Enum.GetNames<CancelReasonCode>()), ["reason"] = "fuzz" },
            var t when t.EndsWith("/clone") => new JsonObject { ["remainderOnly"] = Chance(0.5) },
            _ => new JsonObject { ["name"] = "Fuzz " + random.Next(1000), ["channel"] = Pick(Enum.GetNames<Channel>()), ["variants"] = new JsonArray(variant) },
        };
        if (Chance(0.3)) return valid; // mostly valid: these reach the decider (or succeed)
        foreach (var key in valid.Select(p => p.Key).ToList())
            if (Chance(0.5)) valid[key] = RandomJson(1);
        if (Chance(0.3)) valid[Pick(Fields)] = RandomJson(1);
        if (Chance(0.2) && valid["variants"] is JsonArray { Count: > 0 } variants && variants[0] is JsonObject v) v[Pick(["key", "subject", "content", "splitPercent"])] = RandomJson(2);
        return valid;
    }

    private (HttpContent? Content, string Description) Body(ApiEndpoint endpoint)
    {
        var roll = random.Next(100);
        if (endpoint.Method != "POST" && roll < 80) return (null, "no body");
        string text, type = "application/json";
        switch (roll % 12)
        {
            case 0: return (null, "no body");
            case 1: text = ""; break;
            case 2: text = Pick(["{", "{\"name\":", "[1,2", "nul", "{'name':'x'}", "{\"a\":1,}", "\uFEFF{}", "{\"name\":\"\\ud800\"}", "{\"x\":" + new string('[', 5_000)]); break;
            case 3: text = RandomJson(0)?.ToJsonString() ?? "null"; break;
            case 4:
                text = FieldBody(endpoint.Template).ToJsonString();
                type = Pick(["text/plain", "application/xml", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/json; charset=utf-16", "application/*", "garbage"]);
                break;
            case 5: text = JsonSerializer.Serialize(new Dictionary<string, string> { [Pick(Fields)] = Huge }); break;
            default: text = FieldBody(endpoint.Template).ToJsonString(); break;
        }
        var content = new StringContent(text, Encoding.UTF8);
        content.Headers.ContentType = MediaTypeHeaderValue.TryParse(type, out var parsed) ? parsed : null;
        if (content.Headers.ContentType is null) content.Headers.TryAddWithoutValidation("Content-Type", type);
        return (content, $"{type} {(text.Length > 160 ? text[..160] + $"…({text.Length:N0} chars)" : text)}");
    }

    public (HttpRequestMessage Request, string Description) Request(ApiEndpoint endpoint, int index)
    {
        var path = endpoint.Template;
        Guid? campaign = null;
        foreach (var parameter in endpoint.Parameters)
        {
            path = path.Replace("{" + parameter + "}", RouteValue(parameter));
            campaign ??= LastCampaign;
        }
        LastCampaign = campaign;
        var method = Chance(0.03) ? Pick(["PUT", "PATCH", "DELETE", "GET", "POST", "OPTIONS"]) : endpoint.Method;
        if (Chance(0.02)) path += "/" + Pick(["extra", "..", "%2F", " "]);
        if (Chance(0.35)) path += Query();
        var request = new HttpRequestMessage(new HttpMethod(method), path);
        var (content, body) = Body(endpoint);
        request.Content = content;

        var who = random.Next(100);
        LastTenant = TenantA;
        string credentials;
        if (who < 82) { request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", TokenA); credentials = "A"; }
        else if (who < 87) { request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", TokenB); credentials = "B"; LastTenant = TenantB; }
        else if (who < 90) { request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ReadOnlyA); credentials = "A read-only"; }
        else if (who < 92) { request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", NoTenant); credentials = "no tenant"; LastTenant = null; }
        else
        {
            LastTenant = null;
            credentials = random.Next(6) switch
            {
                0 => "none",
                1 => Add(request, "Authorization", "Bearer " + OddText()),
                2 => Add(request, "Authorization", Pick(["Bearer", "Basic Zm9vOmJhcg==", "ApiKey", "ApiKey esc_0123456789abcdef.nope", "ApiKey " + OddText(), TokenA, "Bearer " + TokenA[..^3]])),
                3 => Add(request, ApiKeyAuthenticationHandler.Header, Pick(["", "esc_", "esc_0123456789abcdef.secret", "esc_ZZZZ.x", new string('k', 5_000), OddText()])),
                4 => Add(request, "Authorization", "Bearer " + TokenA + "." + TokenB),
                _ => Add(request, "Authorization", "bearer " + TokenA.ToLowerInvariant()),
            };
        }
        var headers = new List<string>();
        if (Chance(0.2))
        {
            var key = Pick(["", " ", new string('k', 201), new string('k', 10_000), "ключ-🚀", "\u0000", Guid.NewGuid().ToString(), "fixed-key", "fixed-key-2"]);
            request.Headers.TryAddWithoutValidation(CommandEndpoints.IdempotencyKeyHeader, key);
            headers.Add($"Idempotency-Key({key.Length})");
        }
        if (Chance(0.1)) { request.Headers.TryAddWithoutValidation("X-Tenant-Id", Pick([TenantB, TenantA, "", OddText()])); headers.Add("X-Tenant-Id"); }
        if (Chance(0.05)) { request.Headers.TryAddWithoutValidation("X-Actor-Id", OddText()); headers.Add("X-Actor-Id"); }
        if (request.Content is { } c && Chance(0.05))
        {
            var length = Pick([0L, 1L, 5_000_000L, long.MaxValue]);
            c.Headers.ContentLength = length;
            headers.Add($"Content-Length({length})");
        }
        if (Chance(0.03)) { request.Headers.TryAddWithoutValidation("Accept", Pick(["text/csv", "application/xml", "*/*;q=garbage"])); headers.Add("Accept"); }
        var shownPath = path.Length > 200 ? path[..200] + $"…({path.Length:N0} chars)" : path;
        return (request, $"{method} {shownPath} [{credentials}{(headers.Count > 0 ? "; " + string.Join(", ", headers) : "")}] body: {body}");
    }

    private static string Add(HttpRequestMessage request, string header, string value)
    {
        request.Headers.TryAddWithoutValidation(header, value);
        return $"{header}: {(value.Length > 40 ? value[..40] + "…" : value)}";
    }
}
