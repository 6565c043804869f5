using EventSourcedCampaigns.IntegrationTests.Infrastructure;
using EventSourcedCampaigns.Marten;
using Marten;

namespace EventSourcedCampaigns.IntegrationTests;

/// <summary>CampaignStoreOptions.WakeDaemonOnAppend: the async daemon applies an append without waiting for its poll.</summary>
public sealed class the_async_daemon_woken_by_appends
{
    [Fact]
    public async Task applies_a_cancel_long_before_its_next_poll() => await AppliesACancelWokenAsync(appenderOfItsOwn: false);

    /// <summary>The appender in another process (here another store, with a wakeup of its own): woken through the database.</summary>
    [Fact]
    public async Task applies_another_processs_cancel_long_before_its_next_poll() => await AppliesACancelWokenAsync(appenderOfItsOwn: true);

    private static async Task AppliesACancelWokenAsync(bool appenderOfItsOwn)
    {
        var schema = TestDatabase.UniqueSchema("wakeup");
        // Polls a minute apart: within the test only the wakeup can bring the read models up to date.
        DocumentStore Store() => DocumentStore.For(opts =>
        {
            TestDatabase.Configure(opts, schema);
            opts.Projections.FastPollingTime = opts.Projections.SlowPollingTime = TimeSpan.FromMinutes(1);
        });
        await using var store = Store();
        await using var another = appenderOfItsOwn ? Store() : null;
        var appender = another ?? store;
        await store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();
        var driver = new CampaignDriver(appender, "shop-a", new TestClock());
        var id = await driver.ScheduledAsync(batches: 2);

        using var daemon = await store.BuildProjectionDaemonAsync();
        await daemon.StartAllAsync();
        await store.WaitForProjectionsAsync(TimeSpan.FromSeconds(30)); // the daemon's first look, at its start
        await driver.CancelAsync(id);

        await store.WaitForProjectionsAsync(TimeSpan.FromSeconds(20));
        await using var query = store.QuerySession("shop-a");
        Assert.Equal(CampaignStatus.Cancelled, (await query.QueryCampaignsAsync(new CampaignListQuery())).Items.Single().Status);
        await daemon.StopAllAsync();
    }
}
