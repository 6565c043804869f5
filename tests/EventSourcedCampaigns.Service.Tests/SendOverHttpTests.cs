using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using EventSourcedCampaigns.Ports;
using EventSourcedCampaigns.Testing;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;
using static EventSourcedCampaigns.Service.Tests.CampaignApi;

namespace EventSourcedCampaigns.Service.Tests;

/// <summary>
/// The service in process with all roles (commands through Wolverine, the send pipeline with the embedded provider and
/// audience, the async daemon Solo) against real PostgreSQL: a campaign created and scheduled over HTTP really sends,
/// and the read models show it. The embedded audience knows only the lists "everyone" (every contact) and "vip".
/// </summary>
[Collection("in-process host")] // the campaign meter is process-wide (see the_campaign_metrics)
public sealed class sending_over_http(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Contacts = 20_000;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private WebApplicationFactory<Program> _factory = null!;
    private CampaignApi _api = null!;
    private readonly TaskCompletionSource _sendingSeen = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task InitializeAsync()
    {
        _factory = LocalService.Start("e2e", Contacts,
            ("Campaigns:Local:Lists:vip", "0.5"),
            // 80 batches, 4 in flight, 100-150 ms each (and held until Sending is seen: see below).
            ("Campaigns:Local:Latency", "00:00:00.100"));
        var client = _factory.CreateClient();
        client.SignedIn("shop-a");
        _api = new CampaignApi(client);
        // The embedded provider answers the first 8 calls, then holds the rest until the send report has been seen
        // Sending: the read models cannot skip from Scheduled to Sent however fast the machine is or however far they lag.
        var provider = (FakeDispatcher)_factory.Services.GetRequiredService<IMessageDispatcher>();
        provider.OnDispatch = async (_, cancellation) =>
        {
            if (provider.Calls > 8) await _sendingSeen.Task.WaitAsync(cancellation);
        };
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    [Fact]
    public async Task a_campaign_scheduled_over_http_is_prepared_sent_and_reported()
    {
        var watch = Stopwatch.StartNew();
        var name = $"spring-{Guid.NewGuid():N}"[..20];
        var created = await _api.CreateAsync(name);
        Assert.Equal("Draft", created.Status);
        var id = created.CampaignId;
        Assert.Equal("Draft", (await _api.ListItemAsync(id, name, created.Sequence)).GetProperty("status").GetString());

        var sendAt = DateTimeOffset.UtcNow.AddSeconds(5);
        var scheduled = await _api.ScheduleAsync(id, sendAt, "everyone", batchSize: 250);
        Assert.Equal("Scheduling", scheduled.Status);
        Assert.True(scheduled.Sequence > created.Sequence);

        // Read-your-writes: the schedule is visible at once; then the pipeline moves the campaign on by itself.
        var seen = new List<string>();
        void See(JsonElement report)
        {
            var status = Status(report);
            if (seen.Count == 0 || seen[^1] != status) seen.Add(status);
            if (status == "Sending") _sendingSeen.TrySetResult();
            if (status is "Sending" or "Sent") AssertTotalsAddUp(report);
        }
        var afterSchedule = await _api.ReportAsync(id, scheduled.Sequence);
        See(afterSchedule);
        var listAfterSchedule = await _api.ListItemAsync(id, name, scheduled.Sequence);
        Assert.Contains(listAfterSchedule.GetProperty("status").GetString(), new[] { "Scheduling", "Scheduled" });
        Assert.Equal(sendAt, afterSchedule.GetProperty("sendAt").GetDateTimeOffset());

        var final = await _api.WaitForReportAsync(id, r => Status(r) == "Sent", Patience, "Sent", See);
        output.WriteLine($"statuses seen in the send report: {string.Join(" → ", seen)} ({watch.Elapsed.TotalSeconds:N1} s)");

        // In order, never back; Scheduled, Sending and Sent are seen in the read model. Scheduling lasts a moment
        // (20,000 generated contacts) and may already be over when the read models catch up: it is checked in the
        // events below either way.
        string[] lifecycle = ["Scheduling", "Scheduled", "Sending", "Sent"];
        Assert.True(seen.All(lifecycle.Contains), $"unexpected status in {string.Join(" → ", seen)}");
        Assert.Equal(seen.OrderBy(s => Array.IndexOf(lifecycle, s)), seen);
        Assert.Equal(["Scheduled", "Sending", "Sent"], seen.Where(s => s != "Scheduling"));

        Assert.Equal(Contacts, Count(final, "recipients"));
        Assert.Equal(0, Count(final, "inFlight"));
        Assert.Equal(0, Count(final, "notSent"));
        Assert.Equal(Contacts, Count(final, "delivered") + Count(final, "failed"));
        Assert.True(final.GetProperty("sendStartedAt").GetDateTimeOffset() >= sendAt, "the send started before its time");

        // The event history says the same, and in the same order.
        var events = await _api.EventsAsync(id);
        var milestones = events.Select(Type).Where(t => t is "campaign_created" or "campaign_scheduled" or "campaign_scheduling_completed"
            or "campaign_send_started" or "campaign_send_completed").ToArray();
        Assert.Equal(["campaign_created", "campaign_scheduled", "campaign_scheduling_completed", "campaign_send_started", "campaign_send_completed"], milestones);
        Assert.True(CountOf(events, "campaign_scheduling_progressed") >= 1);
        var (delivered, failed, released, _) = AssertBatchesRecordedOnce(events);
        Assert.Equal(Contacts / 250, Batches(events, "campaign_batch_claimed").Length);
        Assert.Equal((Count(final, "delivered"), Count(final, "failed"), 0L), (delivered, failed, released));

        var lastSequence = events[^1].GetProperty("sequence").GetInt64();
        var item = await _api.ListItemAsync(id, name, lastSequence);
        Assert.Equal("Sent", item.GetProperty("status").GetString());
        Assert.Equal(Contacts, item.GetProperty("recipients").GetInt64());
        Assert.Equal(delivered, item.GetProperty("delivered").GetInt64());
        output.WriteLine($"sent {Contacts:N0} in {Contacts / 250} batches: {delivered:N0} delivered, {failed:N0} failed; {watch.Elapsed.TotalSeconds:N1} s in all");
    }

    [Theory]
    [InlineData("/api/campaigns?page=5000000&pageSize=500", HttpStatusCode.BadRequest, "out_of_range")]
    [InlineData("/api/campaigns?afterSequence=abc", HttpStatusCode.BadRequest, "malformed_sequence")]
    [InlineData("/api/campaigns?afterSequence=-1", HttpStatusCode.BadRequest, "malformed_sequence")]
    [InlineData("/api/campaigns/3f2b7c1e-8f43-4a57-9d55-0d1d2f0c9a11/report?afterSequence=1.5", HttpStatusCode.BadRequest, "malformed_sequence")]
    [InlineData("/api/campaigns/not-a-guid/report", HttpStatusCode.BadRequest, "malformed_id")]
    [InlineData("/api/campaigns/not-a-guid/events", HttpStatusCode.BadRequest, "malformed_id")]
    [InlineData("/api/campaigns/3f2b7c1e-8f43-4a57-9d55-0d1d2f0c9a11/report", HttpStatusCode.NotFound, "CampaignNotFound")]
    [InlineData("/api/campaigns/3f2b7c1e-8f43-4a57-9d55-0d1d2f0c9a11/events", HttpStatusCode.NotFound, "CampaignNotFound")]
    [InlineData("/api/campaigns?updatedFrom=2026-12-02T00:00:00Z&updatedTo=2026-12-01T00:00:00Z", HttpStatusCode.BadRequest, "invalid_range")]
    public async Task refuses_bad_queries(string url, HttpStatusCode status, string code) =>
        Assert.Equal((status, code), await Problem(await _api.Http.GetAsync(url)));

    [Fact]
    public async Task refuses_commands_on_malformed_or_unknown_ids()
    {
        var unknown = Guid.NewGuid();
        Assert.Equal((HttpStatusCode.BadRequest, "malformed_id"),
            await Problem(await _api.ScheduleRawAsync(Guid.Empty, DateTimeOffset.UtcNow.AddHours(1), "everyone", 100)));
        Assert.Equal((HttpStatusCode.BadRequest, "malformed_id"),
            await Problem(await _api.Http.PostAsJsonAsync("/api/campaigns/not-a-guid/cancel", new { reasonCode = "Other" })));
        Assert.Equal((HttpStatusCode.NotFound, "CampaignNotFound"), await Problem(await _api.CancelRawAsync(unknown, "Other")));
        Assert.Equal((HttpStatusCode.NotFound, "CampaignNotFound"),
            await Problem(await _api.ScheduleRawAsync(unknown, DateTimeOffset.UtcNow.AddHours(1), "everyone", 100)));
        Assert.Equal((HttpStatusCode.NotFound, "CampaignNotFound"), await Problem(await _api.Http.PostAsJsonAsync($"/api/campaigns/{unknown}/pause", new { })));
    }

    [Fact]
    public async Task an_unknown_list_is_accepted_then_scheduling_fails_back_to_draft_with_the_reason()
    {
        var name = $"nolist-{Guid.NewGuid():N}"[..20];
        var id = (await _api.CreateAsync(name)).CampaignId;
        var scheduled = await _api.ScheduleAsync(id, DateTimeOffset.UtcNow.AddMinutes(10), "no-such-list", batchSize: 100);
        Assert.Equal("Scheduling", scheduled.Status); // the list is resolved by the pipeline, not by the command

        // The pipeline finds out and records why (the events are the truth, written synchronously).
        var deadline = Stopwatch.StartNew();
        IReadOnlyList<JsonElement> events;
        while (CountOf(events = await _api.EventsAsync(id), "campaign_scheduling_failed") == 0)
        {
            Assert.True(deadline.Elapsed < Patience, $"No campaign_scheduling_failed within {Patience.TotalSeconds} s: {string.Join(", ", events.Select(Type))}");
            await Task.Delay(100);
        }
        var failed = events.Single(e => Type(e) == "campaign_scheduling_failed");
        Assert.Contains("no-such-list", failed.GetProperty("data").GetProperty("reason").GetString());
        Assert.Equal("campaign_scheduling_failed", Type(events[^1]));
        Assert.Equal(0, CountOf(events, "campaign_scheduling_completed"));

        // The read models show the draft again (the campaign can be fixed and scheduled again).
        var sequence = failed.GetProperty("sequence").GetInt64();
        var report = await _api.ReportAsync(id, sequence);
        Assert.True(Status(report) == "Draft", $"the send report still says {Status(report)} after campaign_scheduling_failed: {report.GetRawText()}");
        var item = await _api.ListItemAsync(id, name, sequence);
        Assert.True(item.GetProperty("status").GetString() == "Draft",
            $"the campaign list still says {item.GetProperty("status").GetString()} after campaign_scheduling_failed: {item.GetRawText()}");
        Assert.Contains("no-such-list", report.GetProperty("schedulingFailure").GetString());
        Assert.Contains("no-such-list", item.GetProperty("schedulingFailure").GetString());
        Assert.Equal(JsonValueKind.Null, report.GetProperty("sendAt").ValueKind);
    }

    [Fact]
    public async Task retries_of_a_remainder_clone_with_one_idempotency_key_racing_each_other_all_answer_with_its_clone()
    {
        // Found by an audit of races: of 12 such retries at once, 8-10 got 409 NotCloneable ("already cloned, into campaign
        // c6b2...", their own clone), which a client whose first attempt timed out reads as a failure.
        var id = (await _api.CreateAsync($"rest-{Guid.NewGuid():N}"[..20])).CampaignId;
        await _api.ScheduleAsync(id, DateTimeOffset.UtcNow.AddSeconds(3), "everyone", batchSize: 250);
        await _api.WaitForReportAsync(id, r => Status(r) == "Sending", Patience, "Sending");
        await AcceptedAsync(await _api.CancelRawAsync(id, "WrongAudience", "wrong list"), HttpStatusCode.OK, "cancel mid-send");
        _sendingSeen.TrySetResult(); // the held batches answer: the cancel takes effect
        await _api.WaitForReportAsync(id, r => Status(r) == "CancelledDuringSend", Patience, "Cancelled During Send");

        var key = Guid.NewGuid().ToString();
        async Task<HttpResponseMessage> CloneRemainder()
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/campaigns/{id}/clone") { Content = JsonContent.Create(new { remainderOnly = true }) };
            request.Headers.Add("Idempotency-Key", key);
            return await _api.Http.SendAsync(request);
        }
        var answers = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => CloneRemainder()));

        var clones = new List<Guid>();
        foreach (var answer in answers) clones.Add((await AcceptedAsync(answer, HttpStatusCode.Created, "a retried remainder clone")).CampaignId);
        Assert.Single(clones.Distinct());
        Assert.Single(await _api.EventsAsync(id), e => Type(e) == "campaign_cloned");
    }

    [Fact]
    public async Task a_cancel_with_an_invalid_reason_is_refused_and_writes_nothing()
    {
        var name = $"badcancel-{Guid.NewGuid():N}"[..20];
        var id = (await _api.CreateAsync(name)).CampaignId;
        var scheduled = await _api.ScheduleAsync(id, DateTimeOffset.UtcNow.AddHours(1), "vip", batchSize: 1_000);
        await _api.WaitForReportAsync(id, r => Status(r) == "Scheduled", Patience, "Scheduled");
        var before = await _api.EventsAsync(id);

        // A code that is not a name (an unknown one, a number) is not read from the body: it never reaches the command door.
        var unknownName = await _api.CancelRawAsync(id, "NotAReasonCode");
        Assert.Equal((HttpStatusCode.BadRequest, "bad_request"), await Problem(unknownName));
        var unknownNumber = await _api.CancelRawAsync(id, 99);
        Assert.Equal((HttpStatusCode.BadRequest, "bad_request"), await Problem(unknownNumber));
        var tooLong = await _api.CancelRawAsync(id, "Other", new string('x', 1_001));
        Assert.Equal((HttpStatusCode.BadRequest, "InvalidReason"), await Problem(tooLong));
        var noCode = await _api.Http.PostAsJsonAsync($"/api/campaigns/{id}/cancel", new { reason = "no code" });
        Assert.Equal((HttpStatusCode.BadRequest, "InvalidReason"), await Problem(noCode));

        // Nothing changed but the audit: each refused attempt that reached the command door is recorded as refused.
        var after = await _api.EventsAsync(id);
        var added = after.Skip(before.Count).ToList();
        Assert.All(added, e => Assert.Equal("campaign_cancel_rejected", Type(e)));
        Assert.Equal(2, added.Count);
        Assert.All(added, e => Assert.Equal("InvalidReason", e.GetProperty("data").GetProperty("code").GetString()));
        // A missing code is recorded as missing.
        Assert.Equal(JsonValueKind.Null, added[1].GetProperty("data").GetProperty("reason").ValueKind);
        Assert.Equal("Scheduled", Status(await _api.ReportAsync(id, after[^1].GetProperty("sequence").GetInt64())));

        // It was cancellable all along: a valid cancel goes through.
        var cancelled = await AcceptedAsync(await _api.CancelRawAsync(id, "WrongAudience", "wrong list"), HttpStatusCode.OK, "cancel");
        Assert.Equal("Cancelled", cancelled.Status);
        Assert.Equal("Cancelled", Status(await _api.ReportAsync(id, cancelled.Sequence)));
        Assert.True(scheduled.Sequence < cancelled.Sequence);
    }

    [Fact]
    public async Task a_created_campaign_is_found_at_its_location_at_once_and_edited_as_a_draft_only()
    {
        var name = $"edit-{Guid.NewGuid():N}"[..16];
        var created = await _api.Http.PostAsJsonAsync("/api/campaigns", new
        {
            name, channel = "Sms", variants = new[] { new { key = "A", subject = "Hi", content = "-30%", splitPercent = 100 } },
        });
        var accepted = await AcceptedAsync(created, HttpStatusCode.Created, "create");
        Assert.True(accepted.Sequence > 0);
        // The location waits for the read models (afterSequence): following it at once finds the new campaign.
        Assert.Equal($"/api/campaigns/{accepted.CampaignId}/report?afterSequence={accepted.Sequence}", created.Headers.Location!.OriginalString);
        Assert.Equal("Draft", Status(await _api.GetAsync(created.Headers.Location.OriginalString)));

        var edited = await AcceptedAsync(await _api.Http.PostAsJsonAsync($"/api/campaigns/{accepted.CampaignId}/edit", new
        {
            name = name + " v2", variants = new[] { new { key = "A", subject = "Hello", content = "-40%", splitPercent = 100 } },
        }), HttpStatusCode.OK, "edit");
        Assert.True(edited.Sequence > accepted.Sequence);
        Assert.Equal(name + " v2", (await _api.ListItemAsync(accepted.CampaignId, name, edited.Sequence)).GetProperty("name").GetString());

        var noName = await _api.Http.PostAsJsonAsync($"/api/campaigns/{accepted.CampaignId}/edit", new { name = " ", variants = Array.Empty<object>() });
        Assert.Equal((HttpStatusCode.BadRequest, "InvalidName"), await Problem(noName));
        await _api.ScheduleAsync(accepted.CampaignId, DateTimeOffset.UtcNow.AddHours(1), "vip", batchSize: 1_000);
        await _api.WaitForReportAsync(accepted.CampaignId, r => Status(r) == "Scheduled", Patience, "Scheduled");
        var late = await _api.Http.PostAsJsonAsync($"/api/campaigns/{accepted.CampaignId}/edit", new
        {
            name = "too late", variants = new[] { new { key = "A", subject = "x", content = "y", splitPercent = 100 } },
        });
        Assert.Equal((HttpStatusCode.Conflict, "NotEditable"), await Problem(late));
    }

    private static async Task<(HttpStatusCode Status, string? Code)> Problem(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.Content.Headers.ContentType?.MediaType == "application/problem+json", $"{(int)response.StatusCode} not a problem: {text}");
        var body = JsonDocument.Parse(text).RootElement;
        return (response.StatusCode, body.TryGetProperty("code", out var code) ? code.GetString() : null);
    }
}
