using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace EventSourcedCampaigns.Service.Tests;

/// <summary>What a command answered: CommandAccepted {campaignId, status, events, sequence}.</summary>
public sealed record Accepted(Guid CampaignId, string? Status, int Events, long Sequence);

/// <summary>The campaign HTTP API as a test drives it: commands, queries, and bounded polling of the read models.</summary>
public sealed class CampaignApi(HttpClient http)
{
    public HttpClient Http => http;

    public async Task<Accepted> CreateAsync(string name)
    {
        var response = await http.PostAsJsonAsync("/api/campaigns", new
        {
            name, channel = "Email", variants = new[] { new { key = "A", subject = "Hello", content = "Spring sale", splitPercent = 100 } },
        });
        return await AcceptedAsync(response, HttpStatusCode.Created, $"create '{name}'");
    }

    public async Task<Accepted> ScheduleAsync(Guid id, DateTimeOffset sendAt, string list, int batchSize) =>
        await AcceptedAsync(await ScheduleRawAsync(id, sendAt, list, batchSize), HttpStatusCode.OK, $"schedule {id}");

    public Task<HttpResponseMessage> ScheduleRawAsync(Guid id, DateTimeOffset sendAt, string list, int batchSize) =>
        http.PostAsJsonAsync($"/api/campaigns/{id}/schedule", new { sendAt, included = new[] { list }, excluded = Array.Empty<string>(), batchSize });

    public Task<HttpResponseMessage> CancelRawAsync(Guid id, object reasonCode, string? reason = null) =>
        http.PostAsJsonAsync($"/api/campaigns/{id}/cancel", new { reasonCode, reason });

    public static async Task<Accepted> AcceptedAsync(HttpResponseMessage response, HttpStatusCode expected, string what)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{what}: expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        var body = JsonDocument.Parse(text).RootElement;
        return new Accepted(body.GetProperty("campaignId").GetGuid(),
            body.GetProperty("status").ValueKind == JsonValueKind.Null ? null : body.GetProperty("status").GetString(),
            body.GetProperty("events").GetInt32(), body.GetProperty("sequence").GetInt64());
    }

    public async Task<JsonElement> GetAsync(string url)
    {
        var response = await http.GetAsync(url);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET {url}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public Task<JsonElement> ReportAsync(Guid id, long? afterSequence = null) =>
        GetAsync($"/api/campaigns/{id}/report{(afterSequence is { } s ? $"?afterSequence={s}" : "")}");

    public async Task<JsonElement> ListItemAsync(Guid id, string name, long? afterSequence = null)
    {
        var page = await GetAsync($"/api/campaigns?name={Uri.EscapeDataString(name)}&pageSize=10{(afterSequence is { } s ? $"&afterSequence={s}" : "")}");
        return page.GetProperty("items").EnumerateArray().Single(i => i.GetProperty("id").GetGuid() == id);
    }

    public async Task<IReadOnlyList<JsonElement>> EventsAsync(Guid id) => [.. (await GetAsync($"/api/campaigns/{id}/events")).EnumerateArray()];

    /// <summary>Polls the send report until <paramref name="done"/> holds; every report seen goes to <paramref name="seen"/>.</summary>
    public async Task<JsonElement> WaitForReportAsync(Guid id, Func<JsonElement, bool> done, TimeSpan patience, string what,
        Action<JsonElement>? seen = null, TimeSpan? interval = null)
    {
        var watch = Stopwatch.StartNew();
        JsonElement? last = null;
        while (watch.Elapsed < patience)
        {
            var response = await http.GetAsync($"/api/campaigns/{id}/report");
            if (response.IsSuccessStatusCode)
            {
                var report = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
                seen?.Invoke(report);
                last = report;
                if (done(report)) return report;
            }
            await Task.Delay(interval ?? TimeSpan.FromMilliseconds(50));
        }
        throw new TimeoutException($"Waited {patience.TotalSeconds:0} s for {what} of campaign {id}; the last report was {last?.GetRawText() ?? "(none)"}");
    }

    public static string Status(JsonElement report) => report.GetProperty("status").GetString()!;

    public static long Count(JsonElement report, string name) => report.GetProperty("totals").GetProperty(name).GetInt64();

    /// <summary>Recipients = delivered + failed + inFlight + notSent, as the report states each of them.</summary>
    public static void AssertTotalsAddUp(JsonElement report)
    {
        long Get(string n) => Count(report, n);
        Assert.True(Get("delivered") + Get("failed") + Get("inFlight") + Get("notSent") == Get("recipients"),
            $"The report's totals do not add up: {report.GetProperty("totals").GetRawText()}");
        Assert.True(Get("inFlight") >= 0 && Get("notSent") >= 0, $"Negative counts: {report.GetProperty("totals").GetRawText()}");
    }

    public static string Type(JsonElement e) => e.GetProperty("type").GetString()!;

    public static int CountOf(IReadOnlyList<JsonElement> events, string type) => events.Count(e => Type(e) == type);

    /// <summary>Batch numbers of the events of one type.</summary>
    public static int[] Batches(IReadOnlyList<JsonElement> events, string type) =>
        [.. events.Where(e => Type(e) == type).Select(e => e.GetProperty("data").GetProperty("batchNumber").GetInt32())];

    /// <summary>
    /// The campaign's totals computed from its events alone: every batch claimed once, and recorded (delivered, failed
    /// or released) exactly once.
    /// </summary>
    public static (long Delivered, long Failed, long Released, long DeliveredAfterCancel) AssertBatchesRecordedOnce(IReadOnlyList<JsonElement> events)
    {
        var claimed = Batches(events, "campaign_batch_claimed");
        var recorded = Batches(events, "campaign_batch_delivered").Concat(Batches(events, "campaign_batch_failed"))
            .Concat(Batches(events, "campaign_batch_released")).ToArray();
        Assert.True(claimed.Length == claimed.Distinct().Count(), $"A batch was claimed twice: {string.Join(",", claimed.GroupBy(b => b).Where(g => g.Count() > 1).Select(g => g.Key))}");
        Assert.True(recorded.Length == recorded.Distinct().Count(), $"A batch was recorded twice: {string.Join(",", recorded.GroupBy(b => b).Where(g => g.Count() > 1).Select(g => g.Key))}");
        Assert.Equal(claimed.Order(), recorded.Order());

        long Sum(string type, string field) => events.Where(e => Type(e) == type).Sum(e => (long)e.GetProperty("data").GetProperty(field).GetInt32());
        var deliveredAfter = events.Where(e => Type(e) == "campaign_batch_delivered" && e.GetProperty("data").GetProperty("afterCancelRequest").GetBoolean())
            .Sum(e => (long)e.GetProperty("data").GetProperty("delivered").GetInt32());
        return (Sum("campaign_batch_delivered", "delivered"),
            Sum("campaign_batch_delivered", "failed") + Sum("campaign_batch_failed", "recipients"),
            Sum("campaign_batch_released", "recipients"), deliveredAfter);
    }
}
