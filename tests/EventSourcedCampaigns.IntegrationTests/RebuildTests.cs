using EventSourcedCampaigns.IntegrationTests.Infrastructure;

namespace EventSourcedCampaigns.IntegrationTests;

public sealed class rebuilding_the_read_models
{
    [Fact]
    public async Task gives_documents_identical_to_the_live_ones()
    {
        await using var store = await TestDatabase.NewStoreAsync("rebuild");
        using (var daemon = await store.BuildProjectionDaemonAsync())
        {
            await daemon.StartAllAsync();
            foreach (var tenant in new[] { "shop-a", "shop-b" })
            {
                var driver = new CampaignDriver(store, tenant, new TestClock());
                await driver.EveryStatusAsync();
                await driver.ReleasedAndFailedSchedulingAsync();
            }
            await store.WaitForProjectionsAsync();
            await daemon.StopAllAsync();
        }
        var live = await ReadModelSnapshot.TakeAsync(store);
        Assert.Equal(20, ReadModelSnapshot.CampaignCount(live));

        await ReadModelSnapshot.RebuildAllAsync(store, TimeSpan.FromMinutes(1));

        Assert.Equal(live, await ReadModelSnapshot.TakeAsync(store));
    }
}
