using EventSourcedCampaigns.IntegrationTests.Infrastructure;
using EventSourcedCampaigns.Marten;
using JasperFx.Events.Daemon;
using Marten;
using Marten.Events;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Wolverine;
using Wolverine.Marten;

namespace EventSourcedCampaigns.IntegrationTests;

/// <summary>HotCold leader election with the library's Events.UseAdvisoryLockTransaction, inside a Wolverine host.</summary>
public sealed class the_hot_cold_async_daemon
{
    [Fact]
    public async Task builds_the_read_models_in_a_wolverine_host()
    {
        var schema = TestDatabase.UniqueSchema("hotcold");
        using var host = await Host.CreateDefaultBuilder()
            .ConfigureServices(services =>
            {
                services.AddMarten(opts => TestDatabase.Configure(opts, schema))
                    .AddAsyncDaemon(DaemonMode.HotCold)
                    .ApplyAllDatabaseChangesOnStartup()
                    .IntegrateWithWolverine();
                services.AddWolverine(opts => opts.Durability.Mode = DurabilityMode.Solo);
            })
            .StartAsync();

        var store = host.Services.GetRequiredService<IDocumentStore>();
        var driver = new CampaignDriver(store, "shop-a", new TestClock());
        var id = await driver.ScheduledAsync(batches: 3);
        await driver.CancelAsync(id);

        await host.WaitForNonStaleProjectionDataAsync(TimeSpan.FromSeconds(60));
        await using var query = store.QuerySession("shop-a");
        Assert.Equal(CampaignStatus.Cancelled, (await query.QueryCampaignsAsync(new CampaignListQuery())).Items.Single().Status);
        Assert.Equal(CampaignStatus.Cancelled, (await query.LoadSendReportAsync(id))!.Status);
        await host.StopAsync();
    }
}
