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
}
