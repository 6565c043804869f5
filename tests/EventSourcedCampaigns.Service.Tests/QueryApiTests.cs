using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using EventSourcedCampaigns.IntegrationTests.Infrastructure;
using Marten;
using Marten.Events;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourcedCampaigns.Service.Tests;

/// <summary>The HTTP API in process against real PostgreSQL, with the async daemon building the read models (Solo).</summary>
[Collection("in-process host")]
public sealed class the_http_api : IAsyncLifetime
{
    private WebApplicationFactory<Program> _factory = null!;
    private HttpClient _shopA = null!;
    private IReadOnlyList<Guid> _campaigns = [];
    private CampaignDriver _driver = null!;

    public async Task InitializeAsync()
    {
        var schema = TestDatabase.UniqueSchema("http");
        _factory = new ServiceFactory().WithWebHostBuilder(web =>
        {
            web.UseSetting("Campaigns:ConnectionString", TestDatabase.ConnectionString);
            web.UseSetting("Campaigns:Schema", schema);
            web.TrustTestTokens();
            web.UseSetting("Campaigns:DaemonMode", "Solo");
        });
        _shopA = Client("shop-a");
        var store = _factory.Services.GetRequiredService<IDocumentStore>();
        _driver = new CampaignDriver(store, "shop-a", new TestClock(DateTimeOffset.UtcNow.AddDays(-1)));
        _campaigns = await _driver.EveryStatusAsync();
        await store.WaitForNonStaleProjectionDataAsync(TimeSpan.FromSeconds(60));
    }

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    private HttpClient Client(string? tenant, string? actor = "ana@shop.example")
    {
        var client = _factory.CreateClient();
        if (tenant is not null) client.SignedIn(tenant, actor ?? "ana@shop.example");
        return client;
    }

    private static async Task<(HttpStatusCode Status, string? Code)> Problem(HttpResponseMessage response)
    {
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return (response.StatusCode, body.TryGetProperty("code", out var code) ? code.GetString() : null);
    }

    [Theory]
    [InlineData("/api/campaigns")]
    [InlineData("/api/audit/cancellations")]
    [InlineData("/api/audit/verification")]
    public async Task a_sequence_past_the_last_event_is_refused_at_once_instead_of_waited_for_10_s_and_answered_503(string path)
    {
        // Found by fuzzing: ?afterSequence=9223372036854775807 held the request 10 s (polling the projection progress every
        // 20 ms) and then answered 503 read_models_behind, as if the service were behind. No write answered with a sequence
        // past the store's last event, so the read models can never be waited on for it.
        var store = _factory.Services.GetRequiredService<IDocumentStore>();
        await using var session = store.QuerySession();
        var last = await session.AdvancedSql.QueryAsync<long>(
            $"select coalesce(max(seq_id), 0) from {store.Options.Events.DatabaseSchemaName}.mt_events", CancellationToken.None);
        foreach (var sequence in new[] { long.MaxValue, last.Single() + 1_000_000 })
        {
            var watch = System.Diagnostics.Stopwatch.StartNew();
            var response = await _shopA.GetAsync($"{path}?afterSequence={sequence}");
            Assert.Equal((HttpStatusCode.BadRequest, "malformed_sequence"), await Problem(response));
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"answered after {watch.Elapsed.TotalSeconds:0.0} s");
        }
        // The last event's own sequence is still waited for and answered.
        Assert.Equal(HttpStatusCode.OK, (await _shopA.GetAsync($"{path}?afterSequence={last.Single()}")).StatusCode);
    }

    [Fact]
    public async Task lists_campaigns_with_filters_and_paging()
    {
        var page = await _shopA.GetFromJsonAsync<JsonElement>("/api/campaigns?status=CancelledDuringSend");
        Assert.Equal("Cancelled mid-send", page.GetProperty("items")[0].GetProperty("name").GetString());
        Assert.Equal("Cancelled During Send", page.GetProperty("items")[0].GetProperty("statusText").GetString());

        var paged = await _shopA.GetFromJsonAsync<JsonElement>("/api/campaigns?sort=Name&descending=false&page=2&pageSize=3");
        Assert.Equal(8, paged.GetProperty("total").GetInt32());
        Assert.Equal(3, paged.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task the_name_filter_finds_any_part_whatever_its_case_and_however_its_accents_were_typed()
    {
        // From an audit by marketers in São Paulo, Istanbul, Athens and Kyiv: "são josé" typed with composed letters (NFC)
        // did not find a name typed with combining accents (NFD), nor the other way round; "KIŞ" did not find "Kış" (I
        // lowers to i, not ı) nor "σοφος" "ΣΟΦΟΣ" (Σ lowers to σ, not ς).
        var names = new Dictionary<string, string>
        {
            ["nfd"] = "Liquidac\u0327a\u0303o de Sa\u0303o Jose\u0301",
            ["nfc"] = "Promo\u00e7\u00e3o de S\u00e3o Paulo",
            ["tr"] = "K\u0131\u015f \u0130ndirimi",
            ["el"] = "\u03a3\u039f\u03a6\u039f\u03a3 \u03c0\u03c1\u03bf\u03c3\u03c6\u03bf\u03c1\u03ad\u03c2",
            ["uk"] = "\u0417\u0438\u043c\u043e\u0432\u0438\u0439 \u0440\u043e\u0437\u043f\u0440\u043e\u0434\u0430\u0436",
            ["signs"] = "100% off_now",
        };
        long sequence = 0;
        foreach (var name in names.Values)
        {
            var created = await _shopA.PostAsJsonAsync("/api/campaigns", new
            {
                name, channel = "Email", variants = new[] { new { key = "A", subject = name, content = name, splitPercent = 100 } },
            });
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            sequence = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("sequence").GetInt64();
        }

        async Task<string[]> Found(string filter)
        {
            var page = await _shopA.GetFromJsonAsync<JsonElement>(
                $"/api/campaigns?afterSequence={sequence}&pageSize=500&name={Uri.EscapeDataString(filter)}");
            return [.. page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("name").GetString()!)];
        }

        Assert.Equal([names["nfd"]], await Found("s\u00e3o jos\u00e9")); // composed, the name combining
        Assert.Equal([names["nfd"]], await Found("LIQUIDA\u00c7\u00c3O"));
        Assert.Equal([names["nfc"]], await Found("promoc\u0327a\u0303o")); // combining, the name composed
        Assert.Equal([names["tr"]], await Found("K\u0131\u015f"));
        Assert.Equal([names["tr"]], await Found("KI\u015e"));
        Assert.Equal([names["tr"]], await Found("\u0130NDIRIMI"));
        Assert.Equal([names["el"]], await Found("\u03c3\u03bf\u03c6\u03bf\u03c2"));
        Assert.Equal([names["el"]], await Found("\u03a0\u03a1\u039f\u03a3\u03a6\u039f\u03a1\u0388\u03a3"));
        Assert.Equal([names["uk"]], await Found("\u0417\u0418\u041c\u041e\u0412\u0418\u0419"));
        // The LIKE wildcards are themselves.
        Assert.Equal([names["signs"]], await Found("%"));
        Assert.Equal([names["signs"]], await Found("f_n"));
        Assert.Empty(await Found("o%f"));
    }

    [Fact]
    public async Task a_value_quoted_in_a_refusal_is_cut_between_characters_never_inside_an_emoji()
    {
        // From an audit by marketers in Tokyo: a value over 40 characters is quoted by its start, cut at 40 UTF-16 code
        // units; "x" and 30 🎍 were cut between the two halves of the 20th 🎍, which the answer's JSON wrote as U+FFFD.
        var value = "x" + string.Concat(Enumerable.Repeat("\U0001F38D", 30));
        var created = await _shopA.PostAsJsonAsync("/api/campaigns", new
        {
            name = "Quoted", channel = "Email", variants = new[] { new { key = "A", subject = "Hello", content = "Hi", splitPercent = 100 } },
        });
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("campaignId").GetGuid();
        var answers = new[]
        {
            await _shopA.PostAsJsonAsync($"/api/campaigns/{id}/schedule", new { sendAt = value, included = new[] { "everyone" } }),
            await _shopA.GetAsync($"/api/campaigns?status={Uri.EscapeDataString(value)}"),
        };
        foreach (var answer in answers)
        {
            var detail = (await answer.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString()!;
            Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
            Assert.DoesNotContain('\uFFFD', detail);
            Assert.Contains($"'{value[..39]}…'", detail);
        }
    }

    [Fact]
    public async Task takes_a_name_as_long_as_the_schemas_max_length_in_emoji_and_refuses_one_longer()
    {
        // A client that checks a body against the schema counts characters (code points): the API counted UTF-16 halves
        // and refused a name of 150 emoji the schema allowed.
        var schema = JsonNode.Parse(await _shopA.GetStringAsync("/openapi/v1.json"))!["components"]!["schemas"]!;
        var maxLength = (int)schema["CreateCampaignBody"]!["properties"]!["name"]!["maxLength"]!;
        string Name(int characters) => string.Concat(Enumerable.Repeat("\U0001F38D", characters));
        HttpContent Body(int characters) => JsonContent.Create(new
        {
            name = Name(characters), channel = "Email", variants = new[] { new { key = "A", subject = "Hello", content = "Hi", splitPercent = 100 } },
        });

        var created = await _shopA.PostAsync("/api/campaigns", Body(maxLength));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("campaignId").GetGuid();
        var events = await _shopA.GetFromJsonAsync<JsonElement>($"/api/campaigns/{id}/events");
        Assert.Equal(Name(maxLength), events[0].GetProperty("data").GetProperty("name").GetString());

        var refused = await _shopA.PostAsync("/api/campaigns", Body(maxLength + 1));
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains($"longer than {maxLength} characters", await refused.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("/api/campaigns", "name")]
    [InlineData("/api/audit/cancellations", "actor")]
    [InlineData("/api/audit/cancellations.csv", "actor")]
    public async Task takes_a_text_filter_as_long_as_the_schemas_max_length_in_emoji_and_refuses_one_longer(string path, string filter)
    {
        var parameters = JsonNode.Parse(await _shopA.GetStringAsync("/openapi/v1.json"))!["paths"]![path]!["get"]!["parameters"]!.AsArray();
        var maxLength = (int)parameters.Single(p => (string?)p!["name"] == filter)!["schema"]!["maxLength"]!;
        string Text(int characters) => Uri.EscapeDataString(string.Concat(Enumerable.Repeat("\U0001F38D", characters)));

        Assert.Equal(HttpStatusCode.OK, (await _shopA.GetAsync($"{path}?{filter}={Text(maxLength)}")).StatusCode);
        var refused = await _shopA.GetAsync($"{path}?{filter}={Text(maxLength + 1)}");
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains($"{filter} must be at most", await refused.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task serves_a_send_report_the_event_history_and_the_audit()
    {
        var midSend = _campaigns[5];
        var report = await _shopA.GetFromJsonAsync<JsonElement>($"/api/campaigns/{midSend}/report");
        Assert.Equal(100, report.GetProperty("deliveredBeforeCancel").GetInt64());
        Assert.Equal(99, report.GetProperty("deliveredAfterCancel").GetInt64());
        Assert.Equal(400, report.GetProperty("totals").GetProperty("notSent").GetInt64());

        var events = await _shopA.GetFromJsonAsync<JsonElement>($"/api/campaigns/{midSend}/events");
        Assert.Equal("campaign_created", events[0].GetProperty("type").GetString());
        Assert.Equal("campaign_cancelled_during_send", events[events.GetArrayLength() - 1].GetProperty("type").GetString());

        var audit = await _shopA.GetFromJsonAsync<JsonElement>($"/api/audit/cancellations?campaignId={midSend}");
        Assert.Equal("CancelledDuringSend", audit.GetProperty("items")[0].GetProperty("outcome").GetString());
        var byChannel = await _shopA.GetFromJsonAsync<JsonElement>("/api/audit/cancellations?channel=User");
        Assert.Equal(4, byChannel.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task keeps_a_send_time_given_with_any_offset_in_utc_as_every_other_time()
    {
        var created = await _shopA.PostAsJsonAsync("/api/campaigns", new
        {
            name = "Offsets", channel = "Email", variants = new[] { new { key = "A", subject = "Hello", content = "Spring sale", splitPercent = 100 } },
        });
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("campaignId").GetGuid();
        var scheduled = await _shopA.PostAsJsonAsync($"/api/campaigns/{id}/schedule",
            new { sendAt = "2031-01-01T09:00:00.25+05:30", included = new[] { "everyone" }, batchSize = 100 });
        Assert.Equal(HttpStatusCode.OK, scheduled.StatusCode);

        var events = await _shopA.GetFromJsonAsync<JsonElement>($"/api/campaigns/{id}/events");
        var schedule = events.EnumerateArray().Single(e => e.GetProperty("type").GetString() == "campaign_scheduled").GetProperty("data");
        Assert.Equal("2031-01-01T03:30:00.25+00:00", schedule.GetProperty("sendAt").GetString());
    }

    [Fact]
    public async Task filters_the_audit_and_its_csv_export_by_actor_whatever_the_case()
    {
        var cancel = await Client("shop-a", "Alice@Example.com").PostAsJsonAsync($"/api/campaigns/{_campaigns[1]}/cancel", new { reasonCode = "WrongAudience" });
        var sequence = (await cancel.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("sequence").GetInt64();

        var audit = await _shopA.GetFromJsonAsync<JsonElement>($"/api/audit/cancellations?actor=alice@example.com&afterSequence={sequence}");
        Assert.Equal(1, audit.GetProperty("total").GetInt32());
        Assert.Equal("Alice@Example.com", audit.GetProperty("items")[0].GetProperty("actorId").GetString()); // kept as written
        var csv = (await _shopA.GetStringAsync("/api/audit/cancellations.csv?actor=ALICE@EXAMPLE.COM")).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, csv.Length); // the header and the one cancel
        Assert.Contains($"{_campaigns[1]},", csv[1]);
    }

    [Fact]
    public async Task names_the_audited_campaign_in_the_json_and_in_the_csv_export_last_and_escaped()
    {
        const string name = "=HYPERLINK(\"http://evil.example\",\"Spring sale\")"; // a marketer's text, opened in a spreadsheet
        var campaign = await _driver.ScheduledAsync(batches: 1, name: name);
        var unknown = Guid.NewGuid();
        Assert.Equal(HttpStatusCode.NotFound, (await _shopA.PostAsJsonAsync($"/api/campaigns/{unknown}/cancel", new { reasonCode = "Other" })).StatusCode);
        var cancel = await _shopA.PostAsJsonAsync($"/api/campaigns/{campaign}/cancel", new { reasonCode = "Other" });
        var sequence = (await cancel.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("sequence").GetInt64();

        var audit = await _shopA.GetFromJsonAsync<JsonElement>($"/api/audit/cancellations?campaignId={campaign}&afterSequence={sequence}");
        Assert.Equal(name, audit.GetProperty("items")[0].GetProperty("campaignName").GetString());
        var refused = await _shopA.GetFromJsonAsync<JsonElement>($"/api/audit/cancellations?campaignId={unknown}");
        Assert.Equal(JsonValueKind.Null, refused.GetProperty("items")[0].GetProperty("campaignName").ValueKind); // no such campaign

        var csv = (await _shopA.GetStringAsync($"/api/audit/cancellations.csv?campaignId={campaign}")).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("Id,CampaignId,ChainPosition,Outcome,RequestedAt,ActorId,Channel,ReasonCode,ReasonText,StatusAtRequest,RejectionCode," +
                     "RejectionMessage,DeliveredBefore,DeliveredAfter,Failed,NotSent,EffectiveAt,TimeToStopSeconds,CampaignName,OutcomeChainPosition", csv[0]);
        Assert.StartsWith($"{audit.GetProperty("items")[0].GetProperty("id").GetGuid()},{campaign},", csv[1]);
        // The same instant spelled alike in both (the CSV wrote 7 digits of fraction, the JSON drops trailing zeros).
        Assert.Equal(audit.GetProperty("items")[0].GetProperty("requestedAt").GetRawText().Trim('"'), csv[1].Split(',')[4]);
        Assert.Contains(",\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"Spring sale\"\")\",", csv[1]);
        var unnamed = (await _shopA.GetStringAsync($"/api/audit/cancellations.csv?campaignId={unknown}")).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.EndsWith(",", unnamed[1]); // an empty last cell
    }

    [Theory]
    [InlineData("/api/campaigns/not-a-guid/report", HttpStatusCode.BadRequest, "malformed_id")]
    [InlineData("/api/campaigns/00000000-0000-0000-0000-000000000000/events", HttpStatusCode.BadRequest, "malformed_id")]
    // Found by an audit: Guid.TryParse read these as the same campaign (a cancel was accepted through "{...}").
    [InlineData("/api/campaigns/{3f2b7c1e-8f43-4a57-9d55-0d1d2f0c9a11}/report", HttpStatusCode.BadRequest, "malformed_id")]
    [InlineData("/api/campaigns/3f2b7c1e8f434a579d550d1d2f0c9a11/report", HttpStatusCode.BadRequest, "malformed_id")]
    [InlineData("/api/campaigns/3f2b7c1e-8f43-4a57-9d55-0d1d2f0c9a11%20/report", HttpStatusCode.BadRequest, "malformed_id")]
    [InlineData("/api/campaigns/3f2b7c1e-8f43-4a57-9d55-0d1d2f0c9a11/report", HttpStatusCode.NotFound, "CampaignNotFound")]
    [InlineData("/api/campaigns?pageSize=501", HttpStatusCode.BadRequest, "out_of_range")]
    [InlineData("/api/campaigns?page=0", HttpStatusCode.BadRequest, "out_of_range")]
    [InlineData("/api/audit/cancellations?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", HttpStatusCode.BadRequest, "invalid_range")]
    // Found by an audit: the audit's filter read these as the campaign a path refuses them for.
    [InlineData("/api/audit/cancellations?campaignId=%7B3f2b7c1e-8f43-4a57-9d55-0d1d2f0c9a11%7D", HttpStatusCode.BadRequest, "bad_request")]
    [InlineData("/api/audit/cancellations.csv?campaignId=3f2b7c1e8f434a579d550d1d2f0c9a11", HttpStatusCode.BadRequest, "bad_request")]
    [InlineData("/api/audit/verification?anchorPosition=3", HttpStatusCode.BadRequest, "bad_request")]
    [InlineData("/api/audit/verification?anchorPosition=0&anchorHash=0000000000000000000000000000000000000000000000000000000000000000", HttpStatusCode.BadRequest, "bad_request")]
    [InlineData("/api/audit/verification?anchorPosition=1&anchorHash=d1f35c13", HttpStatusCode.BadRequest, "bad_request")]
    public async Task refuses_bad_queries_with_problem_details(string url, HttpStatusCode status, string code) =>
        Assert.Equal((status, code), await Problem(await _shopA.GetAsync(url)));

    [Fact]
    public async Task the_tenants_audit_stream_is_no_campaign_whose_events_can_be_read()
    {
        // Found by an audit: its report was 404, its events 200 with the tenant's refused cancels of unknown ids.
        await _shopA.PostAsJsonAsync($"/api/campaigns/{Guid.NewGuid()}/cancel", new { reasonCode = "Other" }); // one there
        var auditStream = EventSourcedCampaigns.Marten.AuditChain.TenantAuditStreamId("shop-a");
        Assert.Equal((HttpStatusCode.NotFound, "CampaignNotFound"), await Problem(await _shopA.GetAsync($"/api/campaigns/{auditStream}/events")));
    }

    /// <summary>An array nested 100 deep, past System.Text.Json's 64.</summary>
    private const string Deep = "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]";

    [Theory]
    // Found by an audit: these answered in ASP.NET's words ("Implicit body inferred for parameter \"body\" but no body was
    // provided. Did you mean to use a Service instead?", "Failed to bind parameter \"Nullable<CampaignSort> sort\"").
    [InlineData("POST", "/api/campaigns/{0}/clone", null, "This request takes a JSON body")]
    [InlineData("POST", "/api/campaigns/{0}/clone", "{}", "lacks required properties: 'remainderOnly'")]
    [InlineData("POST", "/api/campaigns/{0}/clone", "{\"remainderOnly\":\"yes\"}", "value at $.remainderOnly is not of the type")]
    // Found by an audit: a lone surrogate was "not of the type the schema gives it", a string.
    [InlineData("POST", "/api/campaigns", "{\"name\":\"a\\ud800b\",\"channel\":\"Email\",\"variants\":[]}", "value at $.name is not valid Unicode text")]
    // Found by fuzzing: a property name that is not valid Unicode was a 500 (the repeated-property check threw reading it).
    [InlineData("POST", "/api/campaigns", "{\"\\ud800\":1,\"name\":\"a\",\"channel\":\"Email\",\"variants\":[]}", "A property name in the request body is not valid Unicode text")]
    [InlineData("POST", "/api/campaigns/{0}/cancel", "{\"reasonCode\":\"Other\",\"x\":{\"a\\udc00\":1}}", "A property name in the request body is not valid Unicode text")]
    // Found by an audit: these said "The parameter status cannot be 'scheduled' (given twice, or not one of its values)",
    // of a parameter given once, naming neither its kind nor its values.
    // Found by an audit: "value at $.x is not of the type the schema gives it".
    [InlineData("POST", "/api/campaigns", "{\"name\":\"a\",\"channel\":\"Email\",\"variants\":[],\"x\":" + Deep + "}", "nests its values too deeply")]
    [InlineData("GET", "/api/campaigns?sort=Foo", null, "sort must be one of UpdatedAt, CreatedAt, SendAt, Name, by name, not 'Foo'.")]
    [InlineData("GET", "/api/campaigns?status=scheduled", null, "status must be one of Draft, Scheduling, Scheduled, Paused, Sending, Cancelling, Sent, Cancelled, CancelledDuringSend, by name, not 'scheduled'.")]
    [InlineData("GET", "/api/campaigns?page=1&Page=2", null, "The query parameter page is given 2 times: give it once.")]
    [InlineData("GET", "/api/campaigns?pageSize=abc", null, "pageSize must be a whole number, not 'abc'.")]
    [InlineData("GET", "/api/campaigns?updatedFrom=tomorrow", null, "updatedFrom 'tomorrow' is not a date and time")]
    [InlineData("GET", "/api/audit/cancellations?campaignId=nope", null, "campaignId 'nope' is not a campaign id")]
    public async Task a_request_the_binding_cannot_read_is_answered_in_the_callers_terms(string method, string url, string? body, string says)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), string.Format(System.Globalization.CultureInfo.InvariantCulture, url, _campaigns[0]));
        if (body is not null) request.Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
        var response = await _shopA.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var detail = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString()!;
        Assert.Contains(says, detail);
        Assert.DoesNotContain("Nullable", detail);
    }

    [Theory]
    [InlineData("/api/campaigns?page=0", "page must be 1 or more, not 0.")] // found by an audit: "pageNumber ('0') must be ..."
    [InlineData("/api/audit/cancellations?page=-3", "page must be 1 or more, not -3.")]
    [InlineData("/api/audit/cancellations?pageSize=0", "pageSize must be from 1 to 500, not 0.")]
    // Found by an audit: past 32 bits these were "bad_request" (the binding's "cannot be"), as if they were no number.
    [InlineData("/api/campaigns?page=99999999999", "page must be from 1 to 2,147,483,647, not 99999999999.")]
    [InlineData("/api/audit/cancellations?pageSize=-99999999999", "pageSize must be from 1 to 500, not -99999999999.")]
    public async Task a_page_out_of_range_is_named_as_the_query_names_it(string url, string detail)
    {
        var response = await _shopA.GetAsync(url);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(detail, problem.GetProperty("detail").GetString());
        Assert.Equal("out_of_range", problem.GetProperty("code").GetString());
    }

    [Fact]
    public async Task refuses_a_request_without_credentials_and_hides_other_tenants_campaigns()
    {
        Assert.Equal((HttpStatusCode.Unauthorized, "unauthenticated"), await Problem(await Client(null).GetAsync("/api/campaigns")));
        var shopB = Client("shop-b");
        Assert.Equal((HttpStatusCode.NotFound, "CampaignNotFound"), await Problem(await shopB.GetAsync($"/api/campaigns/{_campaigns[1]}/report")));
        Assert.Equal((HttpStatusCode.NotFound, "CampaignNotFound"),
            await Problem(await shopB.PostAsJsonAsync($"/api/campaigns/{_campaigns[1]}/cancel", new { reasonCode = "Other" })));
        Assert.Equal(0, (await shopB.GetFromJsonAsync<JsonElement>("/api/campaigns")).GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task maps_refused_commands_to_409_and_bad_input_to_400_with_the_typed_reason()
    {
        var cancelSent = await _shopA.PostAsJsonAsync($"/api/campaigns/{_campaigns[4]}/cancel", new { reasonCode = "MarketerRequest", reason = "too late" });
        Assert.Equal((HttpStatusCode.Conflict, "NotCancellableSent"), await Problem(cancelSent));
        var cancelDraft = await _shopA.PostAsJsonAsync($"/api/campaigns/{_campaigns[0]}/cancel", new { reasonCode = "Other" });
        Assert.Equal((HttpStatusCode.Conflict, "NotCancellableDraft"), await Problem(cancelDraft));

        var noName = await _shopA.PostAsJsonAsync("/api/campaigns", new { name = " ", channel = "Sms", variants = new[] { new { key = "A", subject = "s", content = "c", splitPercent = 100 } } });
        Assert.Equal((HttpStatusCode.BadRequest, "InvalidName"), await Problem(noName));
    }

    [Fact]
    public async Task cancels_a_scheduled_campaign_over_http()
    {
        var response = await _shopA.PostAsJsonAsync($"/api/campaigns/{_campaigns[1]}/cancel", new { reasonCode = "WrongAudience", reason = "wrong list" });
        response.EnsureSuccessStatusCode();
        Assert.Equal("Cancelled", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
        var again = await _shopA.PostAsJsonAsync($"/api/campaigns/{_campaigns[1]}/cancel", new { reasonCode = "WrongAudience" });
        Assert.Equal(0, (await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("events").GetInt32()); // idempotent

        // Its own head, anchored, holds; another hash at that position is a break there.
        var head = await _shopA.GetFromJsonAsync<JsonElement>("/api/audit/verification");
        var (position, hash) = (head.GetProperty("headPosition").GetInt64(), head.GetProperty("headHash").GetString()!);
        Assert.True((await _shopA.GetFromJsonAsync<JsonElement>($"/api/audit/verification?anchorPosition={position}&anchorHash={hash}")).GetProperty("intact").GetBoolean());
        var other = await _shopA.GetFromJsonAsync<JsonElement>($"/api/audit/verification?anchorPosition={position}&anchorHash={new string('0', 64)}");
        Assert.False(other.GetProperty("intact").GetBoolean());
        Assert.Equal(position, other.GetProperty("firstBreak").GetProperty("position").GetInt64());
        Assert.True(position >= 2, $"head {position}");
    }

    [Fact]
    public async Task reports_health_and_serves_its_openapi_document()
    {
        Assert.Equal(HttpStatusCode.OK, (await _shopA.GetAsync("/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _shopA.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/health/live"))).StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await _shopA.PostAsync("/health/live", null)).StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await _shopA.DeleteAsync("/health/ready")).StatusCode);
        var ready = await _shopA.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        var openApi = await _shopA.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, (await _shopA.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/openapi/v1.json"))).StatusCode); // was 405
        Assert.True(openApi.GetProperty("paths").TryGetProperty("/api/campaigns/{id}/report", out _));
    }
}
