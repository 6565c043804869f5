using EventSourcedCampaigns.Decisions;

namespace EventSourcedCampaigns.IntegrationTests.Infrastructure;

/// <summary>A mix of campaigns in every status, for tests that need a populated store.</summary>
public static class Scenarios
{
    public static async Task<IReadOnlyList<Guid>> EveryStatusAsync(this CampaignDriver driver)
    {
        var draft = await driver.CreateAsync("Draft newsletter");
        var scheduled = await driver.ScheduledAsync(batches: 3, name: "Black Friday teaser");
        var paused = await driver.ScheduledAsync(batches: 2, name: "Paused promo");
        await driver.RunAcceptedAsync(new PauseSchedule(paused, CampaignDriver.Marketer));
        var cancelled = await driver.ScheduledAsync(batches: 4, name: "Cancelled before send");
        await driver.CancelAsync(cancelled);

        var sent = await driver.SendingAsync(batches: 2, batchSize: 100, name: "Fully sent");
        for (var batch = 1; batch <= 2; batch++)
        {
            await driver.ClaimAsync(sent, batch, recipients: 100);
            await driver.DeliverAsync(sent, batch, delivered: 97, failed: 3);
        }
        await driver.CancelAsync(sent); // refused: audited

        var midSend = await driver.SendingAsync(batches: 6, batchSize: 100, name: "Cancelled mid-send");
        await driver.ClaimAsync(midSend, 1, recipients: 100);
        await driver.DeliverAsync(midSend, 1, delivered: 100);
        await driver.ClaimAsync(midSend, 2, recipients: 100);
        await driver.CancelAsync(midSend);
        await driver.DeliverAsync(midSend, 2, delivered: 99, failed: 1);

        var stopping = await driver.SendingAsync(batches: 3, batchSize: 100, name: "Still stopping");
        await driver.ClaimAsync(stopping, 1, recipients: 100);
        await driver.CancelAsync(stopping);

        var sending = await driver.SendingAsync(batches: 3, batchSize: 100, name: "Sending now");
        await driver.ClaimAsync(sending, 1, recipients: 100);
        return [draft, scheduled, paused, cancelled, sent, midSend, stopping, sending];
    }

    /// <summary>A mid-send cancel that ends by releasing the last claimed batch, and a draft whose scheduling failed.</summary>
    public static async Task<IReadOnlyList<Guid>> ReleasedAndFailedSchedulingAsync(this CampaignDriver driver)
    {
        var released = await driver.SendingAsync(batches: 4, batchSize: 100, name: "Released after cancel");
        await driver.ClaimAsync(released, 1, recipients: 100);
        await driver.DeliverAsync(released, 1, delivered: 98, failed: 2);
        await driver.ClaimAsync(released, 2, recipients: 100);
        await driver.ClaimAsync(released, 3, recipients: 100);
        await driver.CancelAsync(released);
        await driver.DeliverAsync(released, 3, delivered: 100);
        await driver.RunAcceptedAsync(new ReleaseBatch(released, 2));

        var failed = await driver.CreateAsync("Unknown list");
        var scheduled = await driver.RunAcceptedAsync(new ScheduleCampaign(failed, driver.Clock.Now.AddHours(2), Audience.Of("no-such-list"), 1_000, CampaignDriver.Marketer));
        var scheduledAt = ((CampaignPhase.Scheduling)scheduled.State!.Phase).Schedule.ScheduledAt;
        await driver.RunAcceptedAsync(new FailScheduling(failed, scheduledAt, "The list 'no-such-list' does not exist."));
        return [released, failed];
    }

    /// <summary>
    /// Cancels before the send: while the audience is prepared (400 of 1,000), when Scheduled (a repeated cancel too),
    /// and when paused for a late start.
    /// </summary>
    public static async Task<IReadOnlyList<Guid>> CancelledBeforeSendAsync(this CampaignDriver driver)
    {
        var preparing = await driver.CreateAsync("Cancelled while preparing");
        await driver.RunAcceptedAsync(new ScheduleCampaign(preparing, driver.Clock.Now.AddHours(2), Audience.Of("newsletter"), 200, CampaignDriver.Marketer));
        await driver.RunAcceptedAsync(new RecordSchedulingProgress(preparing, 400, 1_000, 2));
        await driver.CancelAsync(preparing);

        var scheduled = await driver.ScheduledAsync(batches: 3, batchSize: 100, name: "Cancelled when scheduled");
        await driver.CancelAsync(scheduled);
        await driver.CancelAsync(scheduled); // repeated: audited, nothing changed

        var late = await driver.ScheduledAsync(batches: 2, batchSize: 100, name: "Cancelled when held as late");
        await driver.RunAcceptedAsync(new StartSend(late, MaxLateness: TimeSpan.FromMinutes(5)), after: TimeSpan.FromHours(3));
        await driver.CancelAsync(late);
        return [preparing, scheduled, late];
    }
}
