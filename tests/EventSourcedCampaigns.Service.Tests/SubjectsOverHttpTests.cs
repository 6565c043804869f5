using System.Net;
using System.Text;
using System.Text.Json;
using EventSourcedCampaigns.IntegrationTests.Infrastructure;
using Npgsql;

namespace EventSourcedCampaigns.Service.Tests;

/// <summary>
/// A variant's subject over HTTP: an SMS has none (null, left out or empty), an email needs one and a push notification
/// its title. A missing one is a typed 400 that writes nothing, never a 500. So are variant keys that would look like one
/// variant in the send report and the X-Campaign-Variant header ("A" beside "a", "A" with a space after it).
/// </summary>
[Collection("in-process host")] // its service's metrics would feed the process-wide meter the_campaign_metrics reads
public sealed class subjects_over_http(SecuredService service) : IClassFixture<SecuredService>
{
    private const string Tenant = "subject-shop";

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static string Create(string channel, string variant) =>
        $$"""{"name":"Flash sale","channel":"{{channel}}","variants":[{{variant}}]}""";

    private static async Task<(HttpStatusCode Status, string? Code, string? Detail)> Problem(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.Content.Headers.ContentType?.MediaType == "application/problem+json", $"{(int)response.StatusCode}: {text}");
        var body = JsonDocument.Parse(text).RootElement;
        return (response.StatusCode, body.GetProperty("code").GetString(), body.GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("""{"key":"A","subject":null,"content":"-50% today only","splitPercent":100}""")]
    [InlineData("""{"key":"A","content":"-50% today only","splitPercent":100}""")]
    [InlineData("""{"key":"A","subject":"","content":"-50% today only","splitPercent":100}""")]
    public async Task an_sms_is_created_and_edited_without_a_subject(string variant)
    {
        var api = new CampaignApi(service.Client(Tenant));

        var created = await CampaignApi.AcceptedAsync(await api.Http.PostAsync("/api/campaigns", Json(Create("Sms", variant))),
            HttpStatusCode.Created, "create an SMS without a subject");
        var edited = await CampaignApi.AcceptedAsync(await api.Http.PostAsync($"/api/campaigns/{created.CampaignId}/edit",
            Json($$"""{"name":"Flash sale (final)","variants":[{{variant}}]}""")), HttpStatusCode.OK, "edit an SMS without a subject");

        Assert.Equal(("Draft", "Draft"), (created.Status, edited.Status));
        var stored = (await api.EventsAsync(created.CampaignId))[^1].GetProperty("data").GetProperty("variants")[0];
        Assert.True(!stored.TryGetProperty("subject", out var subject) || subject.ValueKind == JsonValueKind.Null || subject.GetString() == "",
            $"The SMS variant was stored with a subject: {stored}");
    }

    [Fact]
    public async Task a_keyed_retry_of_an_sms_created_before_empty_subjects_were_stored_as_none_is_still_a_retry()
    {
        // docs/upgrades.md, OpenAPI 1.9.0: events stored before keep their "", which every reader takes for no subject. Found
        // by an audit: the keyed create compared the stored "" with the request's subject made none, and answered the very
        // request that made the campaign before the upgrade with 422 idempotency_key_reused.
        var api = new CampaignApi(service.Client(Tenant));
        var key = Guid.NewGuid().ToString();
        var variant = """{"key":"A","subject":"","content":"-50% today only","splitPercent":100}""";
        async Task<HttpResponseMessage> CreateAsync(string body)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/campaigns") { Content = Json(body) };
            request.Headers.Add("Idempotency-Key", key);
            return await api.Http.SendAsync(request);
        }
        var created = await CampaignApi.AcceptedAsync(await CreateAsync(Create("Sms", variant)), HttpStatusCode.Created, "create an SMS with a key");
        // As a version before 1.9.0 stored it: the subject "" kept in the event.
        await using (var connection = new NpgsqlConnection(TestDatabase.ConnectionString))
        {
            await connection.OpenAsync();
            await using var older = new NpgsqlCommand(
                $"update {service.Schema}.mt_events set data = jsonb_set(data, '{{Variants,0,Subject}}', '\"\"') " +
                "where stream_id = @id and type = 'campaign_created'", connection);
            older.Parameters.AddWithValue("id", created.CampaignId);
            Assert.Equal(1, await older.ExecuteNonQueryAsync());
        }

        var retry = await CampaignApi.AcceptedAsync(await CreateAsync(Create("Sms", variant)), HttpStatusCode.Created, "the same request again");
        var withoutSubject = await CampaignApi.AcceptedAsync(await CreateAsync(Create("Sms", """{"key":"A","content":"-50% today only","splitPercent":100}""")),
            HttpStatusCode.Created, "the same SMS without a subject");

        Assert.Equal((created.CampaignId, created.CampaignId), (retry.CampaignId, withoutSubject.CampaignId));
    }

    [Theory]
    [InlineData("Email", """{"key":"A","subject":null,"content":"-50% today only","splitPercent":100}""", "Every email variant needs a subject.")]
    [InlineData("Email", """{"key":"A","content":"-50% today only","splitPercent":100}""", "Every email variant needs a subject.")]
    [InlineData("Push", """{"key":"A","subject":" ","content":"-50% today only","splitPercent":100}""", "Every push variant needs a title (its subject).")]
    [InlineData("Sms", """{"key":"A","subject":null,"content":null,"splitPercent":100}""", "Every variant needs content.")]
    public async Task a_missing_subject_or_content_is_a_typed_400_that_writes_nothing(string channel, string variant, string detail)
    {
        var client = service.Client(Tenant);
        var before = await service.EventCountAsync(Tenant);

        var response = await client.PostAsync("/api/campaigns", Json(Create(channel, variant)));

        Assert.Equal((HttpStatusCode.BadRequest, "InvalidVariants", detail), await Problem(response));
        Assert.Equal(before, await service.EventCountAsync(Tenant));
    }

    [Theory]
    [InlineData("""{"key":"A","subject":"s","content":"c","splitPercent":50},{"key":"a","subject":"s","content":"c","splitPercent":50}""",
        "Variant keys must be unique, whatever their case.")]
    [InlineData("""{"key":"A ","subject":"s","content":"c","splitPercent":100}""", "A variant's key has spaces around it.")]
    public async Task look_alike_variant_keys_are_a_typed_400_that_writes_nothing(string variants, string detail)
    {
        var client = service.Client(Tenant);
        var before = await service.EventCountAsync(Tenant);

        var response = await client.PostAsync("/api/campaigns", Json(Create("Email", variants)));

        Assert.Equal((HttpStatusCode.BadRequest, "InvalidVariants", detail), await Problem(response));
        Assert.Equal(before, await service.EventCountAsync(Tenant));
    }

    [Fact]
    public async Task an_sms_subject_given_is_still_checked()
    {
        var client = service.Client(Tenant);
        var tooLong = await client.PostAsync("/api/campaigns", Json(Create("Sms",
            $$"""{"key":"A","subject":"{{new string('s', 501)}}","content":"-50% today only","splitPercent":100}""")));
        var nul = await client.PostAsync("/api/campaigns", Json(Create("Sms",
            """{"key":"A","subject":"Flash\u0000sale","content":"-50% today only","splitPercent":100}""")));

        var (status, code, _) = await Problem(tooLong);
        Assert.Equal((HttpStatusCode.BadRequest, "InvalidVariants"), (status, code));
        (status, code, _) = await Problem(nul);
        Assert.Equal((HttpStatusCode.BadRequest, "InvalidVariants"), (status, code));
    }
}
