using System.Net;
using System.Text;
using System.Text.Json;

namespace EventSourcedCampaigns.Service.Tests;

/// <summary>
/// Optimistic concurrency over HTTP: the events answer the campaign's stream version as a strong ETag, and an edit sent
/// with it as If-Match is applied only if nothing changed since. Two marketers who read the same draft no longer overwrite
/// each other's work in silence.
/// </summary>
[Collection("in-process host")] // its service's metrics would feed the process-wide meter the_campaign_metrics reads
public sealed class conditional_edits_over_http(SecuredService service) : IClassFixture<SecuredService>
{
    private const string Tenant = "etag-shop";

    private static HttpRequestMessage Edit(Guid id, string name, params string[] ifMatch)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/campaigns/{id}/edit")
        {
            Content = new StringContent(
                $$"""{"name":"{{name}}","variants":[{"key":"A","subject":"Hello","content":"Spring sale","splitPercent":100}]}""",
                Encoding.UTF8, "application/json"),
        };
        foreach (var value in ifMatch) request.Headers.TryAddWithoutValidation("If-Match", value);
        return request;
    }

    private static async Task<string> ETagAsync(HttpClient client, Guid id)
    {
        var response = await client.GetAsync($"/api/campaigns/{id}/events");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return response.Headers.ETag?.ToString() ?? throw new Xunit.Sdk.XunitException("GET events answered no ETag.");
    }

    /// <summary>A new draft and the ETag its events answer, as the edit form reads them.</summary>
    private async Task<(CampaignApi Api, Guid Id, string Read)> DraftReadAsync(string name)
    {
        var api = new CampaignApi(service.Client(Tenant));
        var id = (await api.CreateAsync(name)).CampaignId;
        return (api, id, await ETagAsync(api.Http, id));
    }

    private static async Task<string> NameAsync(CampaignApi api, Guid id) =>
        (await api.EventsAsync(id)).Last(e => CampaignApi.Type(e) is "campaign_created" or "campaign_edited")
            .GetProperty("data").GetProperty("name").GetString()!;

    private static async Task<(HttpStatusCode Status, string? Code)> ProblemAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.Content.Headers.ContentType?.MediaType == "application/problem+json", $"{(int)response.StatusCode}: {text}");
        return (response.StatusCode, JsonDocument.Parse(text).RootElement.GetProperty("code").GetString());
    }

    [Fact]
    public async Task the_events_answer_the_stream_version_as_a_strong_etag_to_get_and_head()
    {
        var api = new CampaignApi(service.Client(Tenant));
        var created = await api.CreateAsync("Spring sale");

        Assert.Equal("\"1\"", await ETagAsync(api.Http, created.CampaignId));
        await CampaignApi.AcceptedAsync(await api.Http.SendAsync(Edit(created.CampaignId, "Spring sale (final)")), HttpStatusCode.OK, "edit");
        Assert.Equal("\"2\"", await ETagAsync(api.Http, created.CampaignId));
        var head = await api.Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/api/campaigns/{created.CampaignId}/events"));
        Assert.Equal((HttpStatusCode.OK, "\"2\""), (head.StatusCode, head.Headers.ETag?.ToString()));
    }

    [Fact]
    public async Task an_edit_with_the_etag_read_is_applied_and_one_with_an_older_etag_is_refused_with_412_changing_nothing()
    {
        var (api, id, read) = await DraftReadAsync("Summer sale"); // both marketers open the form

        await CampaignApi.AcceptedAsync(await api.Http.SendAsync(Edit(id, "Summer sale by Ana", read)), HttpStatusCode.OK, "the first edit");
        var before = await service.EventCountAsync(Tenant);
        var stale = await api.Http.SendAsync(Edit(id, "Summer sale by Ben", read));

        Assert.Equal((HttpStatusCode.PreconditionFailed, "precondition_failed"), await ProblemAsync(stale));
        Assert.Equal("Summer sale by Ana", await NameAsync(api, id));
        Assert.Equal(before, await service.EventCountAsync(Tenant));
        var fresh = await ETagAsync(api.Http, id);
        await CampaignApi.AcceptedAsync(await api.Http.SendAsync(Edit(id, "Summer sale by Ben", fresh)), HttpStatusCode.OK, "the edit with the new ETag");
        Assert.Equal("Summer sale by Ben", await NameAsync(api, id));
    }

    [Fact]
    public async Task an_audited_refused_cancel_moves_the_version_too()
    {
        var (api, id, read) = await DraftReadAsync("Autumn sale");

        Assert.Equal(HttpStatusCode.Conflict, (await api.CancelRawAsync(id, "ContentError")).StatusCode); // a draft: refused, audited in its stream

        Assert.Equal((HttpStatusCode.PreconditionFailed, "precondition_failed"), await ProblemAsync(await api.Http.SendAsync(Edit(id, "Autumn sale (final)", read))));
        Assert.Equal("Autumn sale", await NameAsync(api, id));
    }

    [Fact]
    public async Task an_edit_the_rules_refuse_or_already_in_effect_is_answered_as_without_if_match()
    {
        var (api, id, read) = await DraftReadAsync("Black Friday");
        await CampaignApi.AcceptedAsync(await api.Http.SendAsync(Edit(id, "Black Friday (final)", read)), HttpStatusCode.OK, "the edit");

        // Its answer lost, the client sends the same edit again: it is in effect, nothing to overwrite (RFC 9110 13.1.1).
        var retried = await CampaignApi.AcceptedAsync(await api.Http.SendAsync(Edit(id, "Black Friday (final)", read)), HttpStatusCode.OK, "the retry");
        Assert.Equal(0, retried.Events);
        // A campaign the rules do not let edit is told so, whatever the ETag (RFC 9110 13.2.1).
        await api.ScheduleAsync(id, DateTimeOffset.UtcNow.AddDays(1), "everyone", 100);
        Assert.Equal((HttpStatusCode.Conflict, "NotEditable"), await ProblemAsync(await api.Http.SendAsync(Edit(id, "Black Friday (late)", read))));
    }

    [Fact]
    public async Task without_if_match_or_with_a_star_an_edit_is_applied_as_before()
    {
        var api = new CampaignApi(service.Client(Tenant));
        var id = (await api.CreateAsync("Winter sale")).CampaignId;

        await CampaignApi.AcceptedAsync(await api.Http.SendAsync(Edit(id, "Winter sale (1)")), HttpStatusCode.OK, "an edit without If-Match");
        await CampaignApi.AcceptedAsync(await api.Http.SendAsync(Edit(id, "Winter sale (2)", "*")), HttpStatusCode.OK, "an edit with If-Match: *");
        Assert.Equal("Winter sale (2)", await NameAsync(api, id));
        var unknown = Guid.NewGuid();
        Assert.Equal((HttpStatusCode.NotFound, "CampaignNotFound"), await ProblemAsync(await api.Http.SendAsync(Edit(unknown, "Nobody's", "*"))));
        Assert.Equal((HttpStatusCode.NotFound, "CampaignNotFound"), await ProblemAsync(await api.Http.SendAsync(Edit(unknown, "Nobody's", "\"1\""))));
    }

    [Theory]
    [InlineData("W/\"1\"")]
    [InlineData("1")]
    [InlineData("\"-1\"")]
    [InlineData("\"01\"")]
    [InlineData("\"one\"")]
    [InlineData("\"1\", \"2\"")]
    [InlineData("\"1\"", "\"1\"")]
    public async Task a_malformed_if_match_is_a_typed_400_that_changes_nothing(params string[] ifMatch)
    {
        var api = new CampaignApi(service.Client(Tenant));
        var id = (await api.CreateAsync("Flash sale")).CampaignId;

        Assert.Equal((HttpStatusCode.BadRequest, "bad_if_match"), await ProblemAsync(await api.Http.SendAsync(Edit(id, "Flash sale (final)", ifMatch))));
        Assert.Equal("Flash sale", await NameAsync(api, id));
    }
}
