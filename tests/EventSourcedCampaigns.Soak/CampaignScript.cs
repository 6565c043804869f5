using System.Net;
using System.Text.Json;

namespace EventSourcedCampaigns.Soak;

/// <summary>What the driver does to one campaign after scheduling it.</summary>
public enum Fate
{
    /// <summary>Left alone: it must end Sent.</summary>
    Send,
    /// <summary>Paused while Scheduled, resumed some seconds later: it must end Sent.</summary>
    PauseResume,
    /// <summary>Paused while Scheduled, then cancelled: Cancelled.</summary>
    PauseCancel,
    /// <summary>Cancelled soon after the schedule (Scheduling or Scheduled): Cancelled.</summary>
    CancelBeforeSend,
    /// <summary>Cancelled once the report shows it sending: Cancelled During Send (Sent if the cancel came too late).</summary>
    CancelMidSend,
}

/// <summary>One campaign's life as the driver leads it, and what it must end as.</summary>
public sealed class CampaignScript(int index, string tenant, string list, Fate fate, TimeSpan startAt, Random random, SoakOptions options)
{
    private static readonly string[] Terminal = ["Sent", "Cancelled", "CancelledDuringSend"];

    public int Index => index;
    public string Tenant => tenant;
    public string List => list;
    public Fate Fate => fate;
    public TimeSpan StartAt => startAt;
    public Guid Id { get; private set; }

    /// <summary>The final status the answers to the driver's commands promise.</summary>
    public string Expected { get; private set; } = "Sent";

    /// <summary>The status of the last report read.</summary>
    public string? LastStatus { get; private set; }

    public JsonElement? FinalReport { get; private set; }
    public List<string> Steps { get; } = [];
    public bool Finished => LastStatus is not null && Terminal.Contains(LastStatus);

    /// <summary>Create, schedule, apply the fate, then follow the report until a final status (or <paramref name="stop"/>).</summary>
    public async Task RunAsync(SoakApi api, Invariants invariants, DateTimeOffset runStart, CancellationToken stop)
    {
        var wait = runStart + startAt - DateTimeOffset.UtcNow;
        if (wait > TimeSpan.Zero) await Task.Delay(wait, stop);

        var created = await api.PostAsync(tenant, "/api/campaigns", new
        {
            name = $"Soak {index:000} {fate}", channel = "Email",
            variants = new[] { new { key = "A", subject = "Soak", content = $"Campaign {index}", splitPercent = 100 } },
        }, idempotencyKey: $"soak-{options.Seed}-{index}");
        if (!created.Ok) throw new InvalidOperationException($"campaign {index}: create answered {created}");
        Id = created.Body!.Value.GetProperty("campaignId").GetGuid();

        // Pause needs time in Scheduled: a later send time for the fates that pause.
        var lead = fate is Fate.PauseResume or Fate.PauseCancel
            ? options.PauseLead * (1 + random.NextDouble())
            : TimeSpan.FromSeconds(10 + random.Next(30));
        var schedule = await CommandAsync(api, "schedule", new
        {
            sendAt = DateTimeOffset.UtcNow + lead, included = new[] { list }, excluded = Array.Empty<string>(), batchSize = options.BatchSize,
        }, "campaign_scheduled");
        if (!schedule.Ok) throw new InvalidOperationException($"campaign {index}: schedule answered {schedule}");

        switch (fate)
        {
            case Fate.PauseResume or Fate.PauseCancel:
                // Scheduled, or already past it (then the pause is refused as NotPausable).
                await WaitForAsync(api, invariants, ["Scheduled", "Paused", "Sending", .. Terminal], stop);
                var paused = await CommandAsync(api, "pause", new { }, "campaign_schedule_paused");
                if (paused.Ok)
                {
                    await Task.Delay(TimeSpan.FromSeconds(5) + options.MaxPause * random.NextDouble(), stop);
                    if (fate == Fate.PauseResume)
                    {
                        var resumed = await CommandAsync(api, "resume", new { }, "campaign_schedule_resumed");
                        if (!resumed.Ok) invariants.Fail($"campaign {index} ({Id}): resume of a paused campaign refused: {resumed}");
                    }
                    else await CancelAsync(api);
                }
                else if (paused.Code != "NotPausable") invariants.Fail($"campaign {index} ({Id}): pause answered {paused}");
                else if (fate == Fate.PauseCancel) await CancelAsync(api); // it had started: a mid-send cancel instead
                break;
            case Fate.CancelBeforeSend:
                await Task.Delay(TimeSpan.FromMilliseconds(random.Next(5_000)), stop);
                await CancelAsync(api);
                break;
            case Fate.CancelMidSend:
                await WaitForAsync(api, invariants, ["Sending", .. Terminal], stop);
                await Task.Delay(TimeSpan.FromMilliseconds(random.Next(3_000)), stop);
                await CancelAsync(api);
                break;
        }
        FinalReport = await WaitForAsync(api, invariants, Terminal, stop);
    }

    private async Task CancelAsync(SoakApi api)
    {
        var cancel = await api.PostAsync(tenant, $"/api/campaigns/{Id}/cancel", new { reasonCode = "ContentError", reason = "soak: cancelled at random" });
        Steps.Add($"cancel: {(int)cancel.Status} {cancel.CampaignStatus ?? cancel.Code}");
        Expected = cancel switch
        {
            { Ok: true, CampaignStatus: "Cancelled" } => "Cancelled",
            { Ok: true, CampaignStatus: "Cancelling" or "CancelledDuringSend" } => "CancelledDuringSend",
            { Status: HttpStatusCode.Conflict, Code: "NotCancellableSent" } => "Sent", // fully sent before the cancel
            _ => throw new InvalidOperationException($"campaign {index} ({Id}): cancel answered {cancel}"),
        };
    }

    /// <summary>
    /// A command; if the first node died before answering and the retry is refused with 409, the first attempt may
    /// have committed: the campaign's events (the write side) say whether <paramref name="appliedEvent"/> is there.
    /// </summary>
    private async Task<Answer> CommandAsync(SoakApi api, string verb, object body, string appliedEvent)
    {
        var answer = await api.PostAsync(tenant, $"/api/campaigns/{Id}/{verb}", body);
        if (answer is { Status: HttpStatusCode.Conflict, AfterTransportFailure: true })
        {
            var events = await api.GetAsync(tenant, $"/api/campaigns/{Id}/events");
            if (events.Ok && events.Body!.Value.EnumerateArray().Any(e => e.GetProperty("type").GetString() == appliedEvent))
                answer = answer with { Status = HttpStatusCode.OK };
        }
        Steps.Add($"{verb}: {(int)answer.Status} {answer.CampaignStatus ?? answer.Code}");
        return answer;
    }

    /// <summary>Poll the send report (once a second) until its status is one of <paramref name="statuses"/>; every report seen is checked.</summary>
    private async Task<JsonElement?> WaitForAsync(SoakApi api, Invariants invariants, string[] statuses, CancellationToken stop)
    {
        while (true)
        {
            var report = await api.GetAsync(tenant, $"/api/campaigns/{Id}/report");
            if (report.Ok)
            {
                var body = report.Body!.Value;
                LastStatus = body.GetProperty("status").GetString();
                invariants.CheckReport(index, Id, body);
                if (statuses.Contains(LastStatus)) return body;
            }
            else if (report.Status != HttpStatusCode.NotFound) // 404: the read model has not seen the campaign yet
                invariants.Fail($"campaign {index} ({Id}): report answered {report}");
            await Task.Delay(TimeSpan.FromSeconds(1), stop);
        }
    }
}
