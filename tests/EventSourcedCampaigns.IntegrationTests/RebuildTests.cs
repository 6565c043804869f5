using EventSourcedCampaigns.Marten;
using EventSourcedCampaigns.IntegrationTests.Infrastructure;

namespace EventSourcedCampaigns.IntegrationTests;

public sealed class rebuilding_the_read_models
{
    [Fact]
    public async Task gives_documents_identical_to_the_live_ones()
    {
        await using var store = await TestDatabase.NewStoreAsync("rebuild");
        await ReadModelSnapshot.ProjectLiveAsync(store, async () =>
        {
            foreach (var tenant in new[] { "shop-a", "shop-b" })
            {
                var driver = new CampaignDriver(store, tenant, new TestClock());
                await driver.EveryStatusAsync();
                await driver.ReleasedAndFailedSchedulingAsync();
                await driver.CancelledBeforeSendAsync();
            }
        });
        var live = await ReadModelSnapshot.TakeAsync(store);
        Assert.Equal(26, ReadModelSnapshot.CampaignCount(live));

        await ReadModelSnapshot.RebuildAllAsync(store, TimeSpan.FromMinutes(1));

        Assert.Equal(live, await ReadModelSnapshot.TakeAsync(store));
    }

    [Fact]
    public async Task leave_the_daemon_to_go_on_from_where_the_rebuild_ended()
    {
        await using var store = await TestDatabase.NewStoreAsync("rebuild_then_live");
        var driver = new CampaignDriver(store, "shop-a", new TestClock());
        var campaigns = await driver.EveryStatusAsync(); // no daemon has run: the read models are empty
        await ReadModelSnapshot.RebuildAllAsync(store, TimeSpan.FromMinutes(1));
        Assert.Equal(campaigns.Count, ReadModelSnapshot.CampaignCount(await ReadModelSnapshot.TakeAsync(store)));
        // Each read model's progress is at the last event, so a daemon does not apply any of them again.
        var last = (await store.Advanced.FetchEventStoreStatistics()).EventSequenceNumber;
        var progress = await store.Advanced.AllProjectionProgress();
        foreach (var model in ReadModelWaiting.ReadModels)
            Assert.Equal(last, progress.Single(p => p.ShardName == model + ":All").Sequence);

        await ReadModelSnapshot.ProjectLiveAsync(store, driver.ReleasedAndFailedSchedulingAsync);
        var live = await ReadModelSnapshot.TakeAsync(store);

        // The events appended after the rebuild are applied as if it had been the live daemon all along.
        await ReadModelSnapshot.RebuildAllAsync(store, TimeSpan.FromMinutes(1));
        Assert.Equal(await ReadModelSnapshot.TakeAsync(store), live);
    }
}
