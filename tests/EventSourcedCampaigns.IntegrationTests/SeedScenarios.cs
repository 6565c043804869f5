using EventSourcedCampaigns.IntegrationTests.Infrastructure;
using EventSourcedCampaigns.Marten;
using EventSourcedCampaigns.Marten.ReadModels;
using Marten;

namespace EventSourcedCampaigns.IntegrationTests;

/// <summary>The two help-page scenarios, end to end through the store and the async projections.</summary>
public sealed class SeedScenarios() : LiveReadModels("seed")
{
    [Fact]
    public async Task cancelling_a_scheduled_campaign_shows_scheduled_then_cancelled_with_both_dates()
    {
        var id = await Driver.ScheduledAsync(batches: 5);
        var scheduledAt = TestClock.Start.AddSeconds(2);
        await Store.WaitForProjectionsAsync();
        Assert.Equal(CampaignStatus.Scheduled, (await ListItem(id)).Status);
        Assert.True((await ListItem(id)).Actions.HasFlag(CampaignActions.Cancel));

        var result = await Driver.CancelAsync(id);
        Assert.Equal(CampaignStatus.Cancelled, result.State!.Status);
        await Store.WaitForProjectionsAsync();

        var item = await ListItem(id);
        Assert.Equal(CampaignStatus.Cancelled, item.Status);
        Assert.Equal("Cancelled", item.StatusText);
        Assert.Equal(CampaignActions.Clone, item.Actions);

        await using var query = Store.QuerySession("shop-a");
        var report = (await query.LoadSendReportAsync(id))!;
        Assert.Equal(scheduledAt, report.ScheduledAt);
        Assert.Equal(Driver.Clock.Now, report.CancelledAt);
        Assert.Equal(Driver.Clock.Now, report.CancelRequestedAt);
        Assert.Equal(CampaignDriver.Marketer, report.CancelledBy);
        Assert.Equal(0, report.Totals.Delivered);
        Assert.Equal(5_000, report.Totals.NotSent);

        var audit = (await query.QueryCancellationAuditAsync(new CancellationAuditQuery(CampaignId: id))).Items.Single();
        Assert.Equal((CancelOutcome.Cancelled, (CampaignStatus?)CampaignStatus.Scheduled, CampaignDriver.Marketer.Id, RequestChannel.User),
            (audit.Outcome, audit.StatusAtRequest, audit.ActorId, audit.Channel));
        Assert.Equal(TimeSpan.Zero, audit.TimeToStop);
    }

    [Fact]
    public async Task cancelling_mid_send_shows_sending_then_cancelled_during_send_with_exact_counts()
    {
        var id = await Driver.SendingAsync(batches: 10);
        for (var batch = 1; batch <= 3; batch++)
        {
            await Driver.ClaimAsync(id, batch);
            await Driver.DeliverAsync(id, batch, delivered: 990, failed: 10);
        }
        await Driver.ClaimAsync(id, 4);
        await Driver.ClaimAsync(id, 5);
        await Store.WaitForProjectionsAsync();
        Assert.Equal(CampaignStatus.Sending, (await ListItem(id)).Status);

        var cancel = await Driver.CancelAsync(id);
        var requestedAt = Driver.Clock.Now;
        Assert.Equal(CampaignStatus.Cancelling, cancel.State!.Status);
        Assert.Equal(EventSourcedCampaigns.RejectionCode.ClaimLostToCancel, (await Driver.ClaimAsync(id, 6)).Decision.Rejection!.Code);
        await Store.WaitForProjectionsAsync();
        Assert.Equal("Cancelling", (await ListItem(id)).StatusText);

        await Driver.DeliverAsync(id, 4, delivered: 1_000);
        var last = await Driver.DeliverAsync(id, 5, delivered: 998, failed: 2);
        Assert.Equal(CampaignStatus.CancelledDuringSend, last.State!.Status);
        await Store.WaitForProjectionsAsync();

        Assert.Equal("Cancelled During Send", (await ListItem(id)).StatusText);
        await using var query = Store.QuerySession("shop-a");
        var report = (await query.LoadSendReportAsync(id))!;
        Assert.Equal(new DeliveryCounts(10_000, 3 * 990 + 1_998, 32, 0), report.Totals);
        Assert.Equal(5_000, report.Totals.NotSent);
        Assert.Equal(2_970, report.DeliveredBeforeCancel);
        Assert.Equal(1_998, report.DeliveredAfterCancel);
        Assert.Equal(requestedAt, report.CancelRequestedAt);
        Assert.Equal(Driver.Clock.Now, report.CancelledAt);
        Assert.Equal(Driver.Clock.Now - requestedAt, report.CancelToStop);
        Assert.NotNull(report.ScheduledAt);
        Assert.Equal(49.68, report.Totals.PercentDelivered);
        Assert.Equal(report.Totals, report.Variants.Single().Counts);

        var audit = (await query.QueryCancellationAuditAsync(new CancellationAuditQuery(ActorId: CampaignDriver.Marketer.Id))).Items.Single();
        Assert.Equal((CancelOutcome.CancelledDuringSend, 2_970L, 1_998L, 5_000L), (audit.Outcome, audit.DeliveredBefore, audit.DeliveredAfter, audit.NotSent));
        Assert.Equal(requestedAt, audit.RequestedAt);
        Assert.Equal(Driver.Clock.Now, audit.EffectiveAt);
    }

    [Fact]
    public async Task a_cancel_on_a_fully_sent_campaign_is_refused_changes_nothing_and_is_audited()
    {
        var id = await Driver.SendingAsync(batches: 2, batchSize: 10);
        for (var batch = 1; batch <= 2; batch++)
        {
            await Driver.ClaimAsync(id, batch, recipients: 10);
            await Driver.DeliverAsync(id, batch, delivered: 10);
        }

        var refused = await Driver.CancelAsync(id);
        Assert.Equal(EventSourcedCampaigns.RejectionCode.NotCancellableSent, refused.Decision.Rejection!.Code);
        Assert.Equal(CampaignStatus.Sent, refused.State!.Status);
        await Store.WaitForProjectionsAsync();

        Assert.Equal(CampaignStatus.Sent, (await ListItem(id)).Status);
        await using var query = Store.QuerySession("shop-a");
        var audit = (await query.QueryCancellationAuditAsync(new CancellationAuditQuery(CampaignId: id))).Items.Single();
        Assert.Equal((CancelOutcome.Rejected, EventSourcedCampaigns.RejectionCode.NotCancellableSent, (CampaignStatus?)CampaignStatus.Sent),
            (audit.Outcome, audit.RejectionCode, audit.StatusAtRequest));
        Assert.Contains("fully sent", audit.RejectionMessage);
        Assert.Null((await query.LoadSendReportAsync(id))!.CancelledAt);
    }

    private async Task<CampaignListItem> ListItem(Guid id)
    {
        await using var query = Store.QuerySession("shop-a");
        return (await query.QueryCampaignsAsync(new CampaignListQuery(PageSize: 100))).Items.Single(x => x.Id == id);
    }
}
