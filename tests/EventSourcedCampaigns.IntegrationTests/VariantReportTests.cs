using EventSourcedCampaigns.Decisions;
using EventSourcedCampaigns.IntegrationTests.Infrastructure;
using EventSourcedCampaigns.Marten;
using EventSourcedCampaigns.Marten.ReadModels;
using Marten;

namespace EventSourcedCampaigns.IntegrationTests;

/// <summary>
/// The send report of an A/B campaign cancelled mid-send, per variant: delivered, failed (whole batches and single
/// recipients), not sent, and delivered before and after the cancel request, adding up to the totals; and percentages
/// that never round a partial send to 100 % or 0 %.
/// </summary>
public sealed class the_send_report_per_variant
{
    [Fact]
    public async Task after_a_cancel_mid_send_shows_each_variants_delivered_before_and_after_the_request_and_rebuilds_the_same()
    {
        await using var store = await TestDatabase.NewStoreAsync("variant_report");
        var driver = new CampaignDriver(store, "shop-a", new TestClock());
        var id = Guid.NewGuid();
        await ReadModelSnapshot.ProjectLiveAsync(store, async () =>
        {
            await driver.RunAcceptedAsync(new CreateCampaign(id, "A/B launch", Channel.Email,
                [new Variant("A", "Hi", "-30%", 50), new Variant("B", "Hello", "-30%", 50)], CampaignDriver.Marketer));
            await driver.RunAcceptedAsync(new ScheduleCampaign(id, driver.Clock.Now.AddHours(1), Audience.Of("newsletter"), 100, CampaignDriver.Marketer));
            await driver.RunAcceptedAsync(new CompleteScheduling(id, 1_000, 10, [new VariantShare("A", 500), new VariantShare("B", 500)]));
            await driver.RunAcceptedAsync(new StartSend(id), after: TimeSpan.FromHours(1));
            // Odd batches are A's, even ones B's.
            for (var batch = 1; batch <= 6; batch++)
                await driver.RunAcceptedAsync(new ClaimBatch(id, batch, batch % 2 == 1 ? "A" : "B", 100));
            await driver.RunAcceptedAsync(new RecordBatchDelivery(id, 1, 98, 2));
            await driver.RunAcceptedAsync(new RecordBatchFailure(id, 2, "sender not verified"));
            await driver.RunAcceptedAsync(new RecordBatchDelivery(id, 3, 100, 0));
            await driver.RunAcceptedAsync(new RecordBatchDelivery(id, 4, 100, 0));
            await driver.CancelAsync(id); // batches 5 (A) and 6 (B) are with the provider
            await driver.RunAcceptedAsync(new RecordBatchDelivery(id, 5, 97, 3));
            await driver.RunAcceptedAsync(new RecordBatchFailure(id, 6, "sender not verified"));
        });
        var live = await ReadModelSnapshot.TakeAsync(store);

        await using (var query = store.QuerySession("shop-a"))
        {
            var report = (await query.LoadSendReportAsync(id))!;
            Assert.Equal(CampaignStatus.CancelledDuringSend, report.Status);
            Assert.Equal(new DeliveryCounts(1_000, 395, 205, 0), report.Totals);
            Assert.Equal((298L, 97L), (report.DeliveredBeforeCancel, report.DeliveredAfterCancel));
            var (a, b) = (report.Variants.Single(v => v.Variant == "A"), report.Variants.Single(v => v.Variant == "B"));
            Assert.Equal((new DeliveryCounts(500, 295, 5, 0), 198L, 97L), (a.Counts, a.DeliveredBeforeCancel, a.DeliveredAfterCancel));
            Assert.Equal((new DeliveryCounts(500, 100, 200, 0), 100L, 0L), (b.Counts, b.DeliveredBeforeCancel, b.DeliveredAfterCancel));
            Assert.Equal((200L, 200L), (a.Counts.NotSent, b.Counts.NotSent));
            Assert.Equal((59.0, 20.0, 39.5), (a.Counts.PercentDelivered, b.Counts.PercentDelivered, report.Totals.PercentDelivered));
            // The variants add up to the totals.
            Assert.Equal(report.DeliveredBeforeCancel, report.Variants.Sum(v => v.DeliveredBeforeCancel));
            Assert.Equal(report.DeliveredAfterCancel, report.Variants.Sum(v => v.DeliveredAfterCancel));
            Assert.Equal(report.Totals.NotSent, report.Variants.Sum(v => v.Counts.NotSent));
        }

        await ReadModelSnapshot.RebuildAllAsync(store, TimeSpan.FromMinutes(1));
        Assert.Equal(live, await ReadModelSnapshot.TakeAsync(store));
    }

    [Theory]
    [InlineData(100_000, 99_999, 99.99)] // not 100 while one is left
    [InlineData(10_000_000, 9_999_999, 99.99)]
    [InlineData(1_000_000, 1, 0.01)] // not 0 once one is delivered
    [InlineData(3, 2, 66.67)]
    [InlineData(8, 1, 12.5)]
    [InlineData(200_000, 1, 0.01)]
    [InlineData(40_000, 1, 0.01)] // 0.0025 %
    [InlineData(1_000, 1_000, 100.0)]
    [InlineData(1_000, 0, 0.0)]
    [InlineData(0, 0, 0.0)]
    public void percent_delivered_never_rounds_a_partial_send_to_100_or_0(long recipients, long delivered, double percent) =>
        Assert.Equal(percent, new DeliveryCounts(recipients, delivered, 0, 0).PercentDelivered);

    [Theory]
    [InlineData(800, 1, 0.13)] // 0.125 %
    [InlineData(20_000, 201, 1.01)] // 1.005 %: 1.00499... as a double
    [InlineData(200_000, 2_001, 1.0)] // 1.0005 %
    public void percent_delivered_rounds_half_up_not_to_even(long recipients, long delivered, double percent) =>
        Assert.Equal(percent, new DeliveryCounts(recipients, delivered, 0, 0).PercentDelivered);
}
