using EventSourcedCampaigns.Marten.ReadModels;
using Xunit.Abstractions;

namespace EventSourcedCampaigns.Sending.Tests;

public sealed class ScheduledStartTests(ITestOutputHelper output)
{
    [Fact]
    public async Task With_the_library_defaults_a_scheduled_send_starts_by_itself_and_never_before_its_send_time()
    {
        // The host's clock is the system clock (its offset is never moved here), and the host leaves Wolverine's
        // scheduled-job polling to AddCampaignSending (ScheduledStartPrecision).
        await using var host = await SendingHost.StartAsync();
        var delays = new List<TimeSpan>();
        for (var i = 0; i < 5; i++)
        {
            var id = await host.CreateAsync();
            var audience = host.Audiences.Everyone("list-" + id.ToString("N"), 20);
            var sendAt = host.Clock.Now.AddSeconds(2);
            await host.RunAcceptedAsync(new ScheduleCampaign(id, sendAt, audience, 10, SendingHost.Marketer));

            await host.WaitForAsync(id, s => s.Status == CampaignStatus.Sent, "the scheduled send to start and complete on its own", TimeSpan.FromSeconds(30));

            var started = new StreamFacts(await host.EventsAsync(id)).Events.Select(e => e.Data).OfType<SendStarted>().Single();
            Assert.True(started.StartedAt >= sendAt, $"campaign {id} started at {started.StartedAt:O}, before its send time {sendAt:O}");
            delays.Add(started.StartedAt - sendAt);
        }

        // Measured, not asserted (speed is a benchmark's business).
        output.WriteLine($"SendStarted.StartedAt - SendAt over {delays.Count} campaigns (ms): " +
                         string.Join(", ", delays.Select(d => d.TotalMilliseconds.ToString("0"))) +
                         $"; max {delays.Max().TotalMilliseconds:0} ms (ScheduledStartPrecision {new CampaignSendingOptions().ScheduledStartPrecision.TotalMilliseconds:0} ms)");
    }

    [Fact]
    public async Task A_start_that_fires_two_hours_late_pauses_the_campaign_with_the_reason_and_a_resume_sends_it()
    {
        await using var host = await SendingHost.StartAsync(readModels: JasperFx.Events.Projections.ProjectionLifecycle.Inline);
        var id = await host.ScheduledAsync(recipients: 30, batchSize: 10, sendIn: TimeSpan.FromMinutes(1));
        var sendAt = ((CampaignPhase.ReadyToSend)(await host.StateAsync(id)).Phase).Schedule.SendAt;

        // The service was down: the scheduled start fires two hours after the send time.
        host.Clock.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromHours(2));
        await host.RunAcceptedAsync(new StartSend(id));

        var paused = await host.StateAsync(id);
        Assert.Equal(CampaignStatus.Paused, paused.Status);
        var held = new StreamFacts(await host.EventsAsync(id)).Events.Select(e => e.Data).OfType<SendHeldAsLate>().Single();
        Assert.Equal(sendAt, held.SendAt);
        Assert.True(held.Lateness >= TimeSpan.FromHours(2), $"lateness {held.Lateness}");
        Assert.Equal(new CampaignSendingOptions().MaxStartLateness, held.MaxLateness);
        Assert.Equal(0, host.Dispatcher.CallsFor(id));
        await using (var session = host.Store.QuerySession(SendingHost.Tenant))
        {
            var report = await session.LoadAsync<SendReport>(id);
            var item = await session.LoadAsync<CampaignListItem>(id);
            Assert.Equal(CampaignStatus.Paused, report!.Status);
            Assert.Contains("2 h", report.PausedReason);
            Assert.Equal(report.PausedReason, item!.PausedReason);
            output.WriteLine($"Paused reason: {report.PausedReason}");
        }

        // The marketer resumes: it goes out now, all of it.
        await host.RunAcceptedAsync(new ResumeSchedule(id, SendingHost.Marketer));
        var sent = await host.WaitForAsync(id, s => s.Status == CampaignStatus.Sent, "the resumed campaign to be sent");
        Assert.Equal(30, ((CampaignPhase.Sent)sent.Phase).Progress.Delivered);
        await using (var session = host.Store.QuerySession(SendingHost.Tenant))
            Assert.Null((await session.LoadAsync<SendReport>(id))!.PausedReason);
    }
}
