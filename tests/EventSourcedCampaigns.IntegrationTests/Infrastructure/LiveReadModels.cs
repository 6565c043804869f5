using JasperFx.Events.Daemon;
using Marten;

namespace EventSourcedCampaigns.IntegrationTests.Infrastructure;

/// <summary>
/// Tests against a store of their own (schema <paramref name="schema"/>) with the async daemon running, as a deployed
/// node builds the read models, and a driver for tenant shop-a.
/// </summary>
public abstract class LiveReadModels(string schema) : IAsyncLifetime
{
    private IProjectionDaemon _daemon = null!;

    protected DocumentStore Store { get; private set; } = null!;
    protected CampaignDriver Driver { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Store = await TestDatabase.NewStoreAsync(schema);
        _daemon = await Store.BuildProjectionDaemonAsync();
        await _daemon.StartAllAsync();
        Driver = new CampaignDriver(Store, "shop-a", new TestClock());
    }

    public async Task DisposeAsync()
    {
        await _daemon.StopAllAsync();
        _daemon.Dispose();
        await Store.DisposeAsync();
    }
}
