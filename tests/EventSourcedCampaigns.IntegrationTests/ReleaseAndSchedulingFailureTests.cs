using EventSourcedCampaigns.Decisions;
using EventSourcedCampaigns.IntegrationTests.Infrastructure;
using EventSourcedCampaigns.Marten;
using EventSourcedCampaigns.Marten.ReadModels;
using Marten;

namespace EventSourcedCampaigns.IntegrationTests;

/// <summary>A batch released after a cancel, and a scheduling failure, end to end through the store and the async projections.</summary>
public sealed class ReleaseAndSchedulingFailureTests() : LiveReadModels("release")
{
    [Fact]
    public async Task a_batch_released_after_a_cancel_shows_as_not_sent_in_the_report_and_the_list()
    {
        var id = await Driver.SendingAsync(batches: 4, batchSize: 100);
        await Driver.ClaimAsync(id, 1, recipients: 100);
        await Driver.DeliverAsync(id, 1, delivered: 98, failed: 2);
        await Driver.ClaimAsync(id, 2, recipients: 100);
        await Driver.ClaimAsync(id, 3, recipients: 100);
        await Driver.CancelAsync(id);
        var requestedAt = Driver.Clock.Now;

        var release = await Driver.RunAcceptedAsync(new ReleaseBatch(id, 2));
        Assert.Equal(CampaignStatus.Cancelling, release.State!.Status);
        await Store.WaitForProjectionsAsync();
        Assert.Equal(new DeliveryCounts(400, 98, 2, 100), (await Report(id)).Totals);
        Assert.Equal(200, (await Report(id)).Totals.NotSent);
        Assert.Equal(CampaignStatus.Cancelling, (await ListItem(id)).Status);

        var last = await Driver.DeliverAsync(id, 3, delivered: 100);
        Assert.Equal(CampaignStatus.CancelledDuringSend, last.State!.Status);
        var stoppedAt = Driver.Clock.Now;
        // At-least-once: the release again, and a late provider answer for the released batch, change nothing.
        Assert.Empty((await Driver.RunAcceptedAsync(new ReleaseBatch(id, 2))).Decision.Events);
        Assert.Empty((await Driver.DeliverAsync(id, 2, delivered: 100)).Decision.Events);
        await Store.WaitForProjectionsAsync();

        var report = await Report(id);
        Assert.Equal(CampaignStatus.CancelledDuringSend, report.Status);
        Assert.Equal(new DeliveryCounts(400, 198, 2, 0), report.Totals);
        Assert.Equal(200, report.Totals.NotSent);
        Assert.Equal(report.Totals, report.Variants.Single().Counts);
        Assert.Equal((98L, 100L), (report.DeliveredBeforeCancel, report.DeliveredAfterCancel));
        Assert.Equal(stoppedAt, report.CancelledAt);

        var item = await ListItem(id);
        Assert.Equal((CampaignStatus.CancelledDuringSend, 198L, CampaignActions.Clone), (item.Status, item.Delivered, item.Actions));

        await using var query = Store.QuerySession("shop-a");
        var audit = (await query.QueryCancellationAuditAsync(new CancellationAuditQuery(CampaignId: id))).Items.Single();
        Assert.Equal((CancelOutcome.CancelledDuringSend, 98L, 100L, 200L), (audit.Outcome, audit.DeliveredBefore, audit.DeliveredAfter, audit.NotSent));
        Assert.Equal(stoppedAt - requestedAt, audit.TimeToStop);
        // The audit's counts add up to the report's recipients: the failed ones are in it too.
        Assert.Equal(2L, audit.Failed);
        Assert.Equal(report.Totals.Recipients, audit.DeliveredBefore + audit.DeliveredAfter + audit.Failed + audit.NotSent);
    }

    [Fact]
    public async Task the_report_says_why_the_last_failed_batch_failed()
    {
        // Found by a fault audit: a campaign whose every batch failed showed Sent with 0 delivered, and no reason anywhere
        // in the report.
        var id = await Driver.SendingAsync(batches: 3, batchSize: 100);
        await Driver.ClaimAsync(id, 1, recipients: 100);
        await Driver.ClaimAsync(id, 2, recipients: 100);
        await Driver.DeliverAsync(id, 1, delivered: 99, failed: 1);
        await Store.WaitForProjectionsAsync();
        Assert.Null((await Report(id)).LastBatchFailure); // a recipient refused is not a batch failure

        await Driver.RunAcceptedAsync(new RecordBatchFailure(id, 2, "The provider timed out on batch 2 (attempt 4)."));
        var failedAt = Driver.Clock.Now;
        await Driver.ClaimAsync(id, 3, recipients: 100);
        await Driver.DeliverAsync(id, 3, delivered: 100);
        await Store.WaitForProjectionsAsync();

        var report = await Report(id);
        Assert.Equal(new BatchFailure(2, "The provider timed out on batch 2 (attempt 4).", failedAt), report.LastBatchFailure);
        Assert.Equal(new DeliveryCounts(300, 199, 101, 0), report.Totals);
    }

    [Fact]
    public async Task a_scheduling_failure_shows_its_reason_until_the_campaign_is_scheduled_again()
    {
        var id = await Driver.CreateAsync();
        var scheduled = await Driver.RunAcceptedAsync(new ScheduleCampaign(id, Driver.Clock.Now.AddHours(2), Audience.Of("vip-2025"), 1_000, CampaignDriver.Marketer));
        var scheduledAt = ((CampaignPhase.Scheduling)scheduled.State!.Phase).Schedule.ScheduledAt;
        await Driver.RunAcceptedAsync(new RecordSchedulingProgress(id, 1_000, 5_000, 1));
        var failed = await Driver.RunAcceptedAsync(new FailScheduling(id, scheduledAt, "  The list 'vip-2025' does not exist.\n"));
        Assert.Equal(CampaignStatus.Draft, failed.State!.Status);
        await Store.WaitForProjectionsAsync();

        var item = await ListItem(id);
        Assert.Equal((CampaignStatus.Draft, "The list 'vip-2025' does not exist."), (item.Status, item.SchedulingFailure));
        Assert.Equal(CampaignActions.Edit | CampaignActions.Schedule, item.Actions);
        Assert.Null(item.SendAt);
        Assert.Equal((0L, 0L), (item.Recipients, item.RecipientsPrepared)); // a draft has no audience yet
        var report = await Report(id);
        Assert.Equal((CampaignStatus.Draft, "The list 'vip-2025' does not exist."), (report.Status, report.SchedulingFailure));
        Assert.Null(report.ScheduledAt);

        await Driver.RunAcceptedAsync(new ScheduleCampaign(id, Driver.Clock.Now.AddHours(2), Audience.Of("vip"), 1_000, CampaignDriver.Marketer));
        // A late failure of the first attempt changes nothing.
        Assert.Empty((await Driver.RunAcceptedAsync(new FailScheduling(id, scheduledAt, "The list 'vip-2025' does not exist."))).Decision.Events);
        await Store.WaitForProjectionsAsync();
        Assert.Equal((CampaignStatus.Scheduling, (string?)null), ((await ListItem(id)).Status, (await ListItem(id)).SchedulingFailure));
        Assert.Equal((CampaignStatus.Scheduling, (string?)null), ((await Report(id)).Status, (await Report(id)).SchedulingFailure));
    }

    [Fact]
    public async Task a_schedule_withdrawn_to_draft_leaves_no_recipients_in_the_list()
    {
        var id = await Driver.ScheduledAsync(batches: 2);
        await Store.WaitForProjectionsAsync();
        Assert.Equal(2_000L, (await ListItem(id)).Recipients);

        await Driver.RunAcceptedAsync(new RevertToDraft(id, CampaignDriver.Marketer));
        await Store.WaitForProjectionsAsync();

        var item = await ListItem(id);
        Assert.Equal((CampaignStatus.Draft, 0L, 0L), (item.Status, item.Recipients, item.RecipientsPrepared));
        Assert.Equal(0L, (await Report(id)).Totals.Recipients);
    }
}
