using EventSourcedCampaigns.Decisions;
using EventSourcedCampaigns.IntegrationTests.Infrastructure;
using EventSourcedCampaigns.Marten;
using JasperFx.Events.Projections;

namespace EventSourcedCampaigns.IntegrationTests;

public sealed class cloning_a_cancelled_campaign
{
    [Fact]
    public async Task starts_a_new_draft_that_records_where_it_came_from()
    {
        await using var store = await TestDatabase.NewStoreAsync("cloning", ProjectionLifecycle.Inline);
        var driver = new CampaignDriver(store, "shop-a", new TestClock());
        var source = await driver.ScheduledAsync(batches: 2, name: "Autumn sale");
        await driver.CancelAsync(source);
        var cloneId = Guid.NewGuid();

        var result = await driver.RunAcceptedAsync(new CloneCampaign(source, cloneId, RemainderOnly: true, CampaignDriver.Marketer));

        Assert.Equal(CampaignStatus.Cancelled, result.State!.Status);
        await using var query = store.QuerySession("shop-a");
        var clone = (await query.LoadCampaignStateAsync(cloneId))!;
        // Cancelled before it sent: nobody was reached, so the remainder is the whole audience (the clone's own lists);
        // the name says what the marketer asked for.
        Assert.Equal((CampaignStatus.Draft, "Autumn sale (remainder)", new CloneOrigin(source, false)), (clone.Status, clone.Name, clone.ClonedFrom));
        var sourceEvents = await query.Events.FetchStreamAsync(source);
        Assert.Equal(cloneId, Assert.IsType<CampaignCloned>(sourceEvents[^1].Data).CloneId);
        var list = await query.QueryCampaignsAsync(new CampaignListQuery(Status: CampaignStatus.Draft));
        Assert.Equal(cloneId, list.Items.Single().Id);
    }

    [Fact]
    public async Task clones_the_remainder_of_a_send_cancelled_midway_once()
    {
        await using var store = await TestDatabase.NewStoreAsync("cloning_remainder", ProjectionLifecycle.Inline);
        var driver = new CampaignDriver(store, "shop-a", new TestClock());
        var source = await driver.SendingAsync(batches: 2);
        await driver.ClaimAsync(source, 1);
        await driver.DeliverAsync(source, 1, 1_000);
        Assert.Equal(CampaignStatus.CancelledDuringSend, (await driver.CancelAsync(source)).State!.Status);
        var first = Guid.NewGuid();
        await driver.RunAcceptedAsync(new CloneCampaign(source, first, RemainderOnly: true, CampaignDriver.Marketer));

        // The write model kept the first clone (a stored snapshot, read back): a second would reach the same recipients again.
        var second = await driver.RunAsync(new CloneCampaign(source, Guid.NewGuid(), RemainderOnly: true, CampaignDriver.Marketer));

        Assert.Equal(RejectionCode.NotCloneable, second.Decision.Rejection?.Code);
        Assert.Contains(first.ToString(), second.Decision.Rejection!.Message);
        await using var query = store.QuerySession("shop-a");
        Assert.Equal(first, (await query.LoadCampaignStateAsync(source))!.RemainderClone);
    }

    [Fact]
    public async Task is_refused_while_the_campaign_is_not_finished()
    {
        await using var store = await TestDatabase.NewStoreAsync("cloning_refused", ProjectionLifecycle.Inline);
        var driver = new CampaignDriver(store, "shop-a", new TestClock());
        var source = await driver.ScheduledAsync(batches: 2);
        var cloneId = Guid.NewGuid();

        var result = await driver.RunAsync(new CloneCampaign(source, cloneId, RemainderOnly: false, CampaignDriver.Marketer));

        Assert.Equal(RejectionCode.NotCloneable, result.Decision.Rejection!.Code);
        await using var query = store.QuerySession("shop-a");
        Assert.Null(await query.LoadCampaignStateAsync(cloneId));
    }
}
