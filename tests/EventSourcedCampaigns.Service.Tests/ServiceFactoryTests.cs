using Marten;
using Marten.Events.Daemon.Coordination;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using IProjectionCoordinator = Marten.Events.Daemon.Coordination.IProjectionCoordinator;

namespace EventSourcedCampaigns.Service.Tests;

/// <summary>
/// The in-process host is stopped once (<see cref="ServiceFactory"/>): a plain WebApplicationFactory stopped it on two
/// threads at once, every time, and a second StopAsync of Marten's projection coordinator racing the first one could
/// throw ObjectDisposedException out of the test's DisposeAsync.
/// </summary>
[Collection("in-process host")]
public sealed class the_in_process_host
{
    [Fact]
    public async Task is_stopped_once_so_the_projection_coordinator_is_never_stopped_twice_at_a_time()
    {
        var factory = LocalService.Start("stoponce", contacts: 100).WithWebHostBuilder(web => web.ConfigureTestServices(services =>
        {
            services.Remove(services.Single(d => d.ServiceType == typeof(IProjectionCoordinator) && d.ImplementationType == typeof(ProjectionCoordinator)));
            services.AddSingleton<IProjectionCoordinator, CountingCoordinator>();
        }));
        var coordinator = Assert.IsType<CountingCoordinator>(factory.Services.GetRequiredService<IProjectionCoordinator>());
        await coordinator.DaemonForMainDatabase().WaitForShardToBeRunning("CampaignListItem:All", TimeSpan.FromSeconds(60));

        await factory.DisposeAsync();

        Assert.True(coordinator.Stops >= 1, "the coordinator was not stopped");
        Assert.Equal(1, coordinator.MostStopsAtOnce);
    }

    /// <summary>Marten's coordinator, counting how many of its StopAsync calls run at the same time.</summary>
    private sealed class CountingCoordinator(IDocumentStore store, ILogger<ProjectionCoordinator> logger) : ProjectionCoordinator(store, logger)
    {
        private int _running, _most, _stops;
        public int MostStopsAtOnce => Volatile.Read(ref _most);
        public int Stops => Volatile.Read(ref _stops);

        public override async Task StopAsync(CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _stops);
            var running = Interlocked.Increment(ref _running);
            int most;
            while (running > (most = Volatile.Read(ref _most)) && Interlocked.CompareExchange(ref _most, running, most) != most) { }
            try
            {
                await base.StopAsync(cancellationToken);
            }
            finally
            {
                Interlocked.Decrement(ref _running);
            }
        }
    }
}
