using EventSourcedCampaigns.Marten;
using EventSourcedCampaigns.Marten.ReadModels;
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

    /// <summary>The send report of campaign <paramref name="id"/> of shop-a.</summary>
    protected async Task<SendReport> Report(Guid id)
    {
        await using var query = Store.QuerySession("shop-a");
        return (await query.LoadSendReportAsync(id))!;
    }

    /// <summary>The Campaigns list's item of campaign <paramref name="id"/> of shop-a.</summary>
    protected async Task<CampaignListItem> ListItem(Guid id)
    {
        await using var query = Store.QuerySession("shop-a");
        return (await query.QueryCampaignsAsync(new CampaignListQuery(PageSize: 100))).Items.Single(x => x.Id == id);
    }
}
