using EventSourcedCampaigns.Decisions;
using EventSourcedCampaigns.IntegrationTests.Infrastructure;
using EventSourcedCampaigns.Marten;
using EventSourcedCampaigns.Marten.ReadModels;
using Marten;

namespace EventSourcedCampaigns.IntegrationTests;

/// <summary>
/// A campaign cancelled before it sent (while its audience was being prepared, when Scheduled, when Paused): the send
/// report, the Campaigns list and the cancellation audit give the same figure for its recipients, every one of them
/// not sent, end to end through the store and the async projections.
/// </summary>
public sealed class CancelBeforeSendReportListAndAuditTests() : LiveReadModels("cancel_before_send")
{
    [Fact]
    public async Task cancelled_while_the_audience_is_prepared_the_prepared_recipients_are_not_sent_in_the_report_the_list_and_the_audit()
    {
        var id = await Driver.CreateAsync();
        // A cancel of the draft is refused: its audit entry has no count to give.
        await Driver.CancelAsync(id);
        await Driver.RunAcceptedAsync(new ScheduleCampaign(id, Driver.Clock.Now.AddHours(2), Audience.Of("newsletter"), 200, CampaignDriver.Marketer));
        await Driver.RunAcceptedAsync(new RecordSchedulingProgress(id, 200, 1_000, 1));
        await Driver.RunAcceptedAsync(new RecordSchedulingProgress(id, 400, 1_000, 2));
        await Store.WaitForProjectionsAsync();
        var preparing = await ListItem(id);
        Assert.Equal((CampaignStatus.Scheduling, 400L, 1_000L, 40.0), (preparing.Status, preparing.RecipientsPrepared, preparing.Recipients, preparing.ProgressPercent));

        var cancel = await Driver.CancelAsync(id);
        Assert.Equal(CampaignStatus.Cancelled, cancel.State!.Status);
        // A second cancel: the same outcome, audited as a repeat, nothing changed.
        Assert.Empty((await Driver.CancelAsync(id)).Decision.Events);
        await Store.WaitForProjectionsAsync();

        var report = await Report(id);
        Assert.Equal(CampaignStatus.Cancelled, report.Status);
        Assert.Equal(new DeliveryCounts(400, 0, 0, 0), report.Totals);
        Assert.Equal((400L, 0.0), (report.Totals.NotSent, report.Totals.PercentDelivered));
        Assert.Empty(report.Variants); // the split per variant is known once the whole audience is prepared
        Assert.Equal((0L, 0L), (report.DeliveredBeforeCancel, report.DeliveredAfterCancel));

        var item = await ListItem(id);
        Assert.Equal((CampaignStatus.Cancelled, 400L, 400L, 0L, 0.0), (item.Status, item.RecipientsPrepared, item.Recipients, item.Delivered, item.ProgressPercent));

        var audit = await Audit(id);
        var accepted = audit.Single(e => e.Outcome == CancelOutcome.Cancelled);
        Assert.Equal(((CampaignStatus?)CampaignStatus.Scheduling, 0L, 0L, (long?)400L), (accepted.StatusAtRequest, accepted.DeliveredBefore, accepted.DeliveredAfter, accepted.NotSent));
        Assert.Equal(0L, accepted.Failed); // nothing was sent, so nothing failed
        var repeated = audit.Single(e => e.Outcome == CancelOutcome.Repeated);
        Assert.Equal(((CampaignStatus?)CampaignStatus.Cancelled, 0L, 0L, (long?)null), (repeated.StatusAtRequest, repeated.DeliveredBefore, repeated.DeliveredAfter, repeated.NotSent));
        var refused = audit.Single(e => e.Outcome == CancelOutcome.Rejected);
        Assert.Equal(((CampaignStatus?)CampaignStatus.Draft, RejectionCode.NotCancellableDraft, 0L, 0L, (long?)null),
            (refused.StatusAtRequest, refused.RejectionCode, refused.DeliveredBefore, refused.DeliveredAfter, refused.NotSent));

        // One figure on every screen.
        Assert.Equal(report.Totals.Recipients, item.Recipients);
        Assert.Equal(report.Totals.NotSent, accepted.NotSent);
    }

    [Fact]
    public async Task cancelled_before_any_recipient_was_prepared_nobody_is_counted_anywhere()
    {
        var id = await Driver.CreateAsync();
        await Driver.RunAcceptedAsync(new ScheduleCampaign(id, Driver.Clock.Now.AddHours(2), Audience.Of("newsletter"), 200, CampaignDriver.Marketer));
        await Driver.CancelAsync(id);
        await Store.WaitForProjectionsAsync();

        Assert.Equal(DeliveryCounts.None, (await Report(id)).Totals);
        var item = await ListItem(id);
        Assert.Equal((CampaignStatus.Cancelled, 0L, 0L), (item.Status, item.RecipientsPrepared, item.Recipients));
        // Zero, not null: nobody was prepared, so nobody is left unsent.
        Assert.Equal((long?)0L, (await Audit(id)).Single().NotSent);
    }

    [Fact]
    public async Task cancelled_when_scheduled_the_whole_audience_is_not_sent_in_the_report_the_list_and_the_audit()
    {
        var id = await Driver.ScheduledAsync(batches: 3, batchSize: 100);
        await Driver.CancelAsync(id);
        await Store.WaitForProjectionsAsync();

        await AssertAllNotSentAsync(id, CampaignStatus.Scheduled, recipients: 300);
    }

    [Fact]
    public async Task cancelled_when_paused_by_someone_the_whole_audience_is_not_sent_in_the_report_the_list_and_the_audit()
    {
        var id = await Driver.ScheduledAsync(batches: 2, batchSize: 100);
        await Driver.RunAcceptedAsync(new PauseSchedule(id, CampaignDriver.Marketer));
        await Driver.CancelAsync(id);
        await Store.WaitForProjectionsAsync();

        await AssertAllNotSentAsync(id, CampaignStatus.Paused, recipients: 200);
    }

    [Fact]
    public async Task cancelled_when_paused_for_a_late_start_the_whole_audience_is_not_sent_in_the_report_the_list_and_the_audit()
    {
        var id = await Driver.ScheduledAsync(batches: 2, batchSize: 100);
        // The start comes an hour after the send time, more than the 5 minutes allowed: paused, nothing sent.
        var held = await Driver.RunAcceptedAsync(new StartSend(id, MaxLateness: TimeSpan.FromMinutes(5)), after: TimeSpan.FromHours(3));
        Assert.IsType<SendHeldAsLate>(Assert.Single(held.Decision.Events));
        await Driver.CancelAsync(id);
        await Store.WaitForProjectionsAsync();

        await AssertAllNotSentAsync(id, CampaignStatus.Paused, recipients: 200);
    }

    private async Task AssertAllNotSentAsync(Guid id, CampaignStatus statusAtRequest, long recipients)
    {
        var report = await Report(id);
        Assert.Equal(CampaignStatus.Cancelled, report.Status);
        Assert.Equal(new DeliveryCounts(recipients, 0, 0, 0), report.Totals);
        Assert.Equal(recipients, report.Totals.NotSent);
        Assert.Equal(report.Totals, report.Variants.Single().Counts);

        var item = await ListItem(id);
        Assert.Equal((CampaignStatus.Cancelled, recipients, recipients, 0L, 0.0), (item.Status, item.RecipientsPrepared, item.Recipients, item.Delivered, item.ProgressPercent));

        var audit = (await Audit(id)).Single();
        Assert.Equal((CancelOutcome.Cancelled, (CampaignStatus?)statusAtRequest, 0L, 0L, (long?)recipients),
            (audit.Outcome, audit.StatusAtRequest, audit.DeliveredBefore, audit.DeliveredAfter, audit.NotSent));
    }

    private async Task<IReadOnlyList<CancellationAuditEntry>> Audit(Guid id)
    {
        await using var query = Store.QuerySession("shop-a");
        return (await query.QueryCancellationAuditAsync(new CancellationAuditQuery(CampaignId: id))).Items;
    }
}
