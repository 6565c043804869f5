using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace EventSourcedCampaigns.Service.Tests;

/// <summary>
/// The service in this process (WebApplicationFactory of its Program), whose host is stopped once, by Program's Main.
/// Every in-process test host is one (the dashboard tests link this file).
/// </summary>
/// <remarks>
/// Program's Main runs the host itself (JasperFx's run command with AutoStartHost, or IHost.RunAsync): when
/// ApplicationStopping fires, Main calls Host.StopAsync and then disposes the host. WebApplicationFactory.DisposeAsync
/// calls Host.StopAsync as well, and that call is what fires ApplicationStopping, so two Host.StopAsync ran at once on
/// two threads, each stopping every hosted service, and Main could dispose the host while the factory's stop was still
/// running (dotnet/aspnetcore#40271). Marten's projection coordinator (JasperFx.Events' ProjectionCoordinatorBase) is not
/// written for that: its StopAsync checks, cancels, drains and disposes its CancellationTokenSource without a lock, so a
/// second stop can cancel the source the first has just disposed; the ObjectDisposedException failed the factory's
/// DisposeAsync once in about ten CI runs. The service itself is stopped once (on SIGTERM: Main's one StopAsync, then
/// the disposal). So here, as there, Main stops the host: the factory's StopAsync only asks it to and waits until it has,
/// and the host is disposed after that.
/// </remarks>
public sealed class ServiceFactory : WebApplicationFactory<Program>
{
    /// <summary>Longer than the service may take to stop (its drain time, 10 s by default, plus 5 s).</summary>
    private static readonly TimeSpan StopPatience = TimeSpan.FromMinutes(1);

    public ServiceFactory() => JasperFx.CommandLine.JasperFxEnvironment.AutoStartHost = true; // Program ends in RunJasperFxCommands

    // Derived factories (WithWebHostBuilder) create their host through this method too.
    protected override IHost CreateHost(IHostBuilder builder) => new StoppedByMain(base.CreateHost(builder));

    private sealed class StoppedByMain(IHost host) : IHost
    {
        // Resolved now: once Main has disposed the host, its services cannot be resolved any more.
        private readonly IHostApplicationLifetime _lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();

        public IServiceProvider Services => host.Services;

        public Task StartAsync(CancellationToken cancellationToken = default) => host.StartAsync(cancellationToken);

        /// <summary>
        /// Asks Main to stop the host and waits until every hosted service has been stopped (ApplicationStopped). A service
        /// that fails to stop fails Main's StopAsync, as in the service: it is in the host's output, not thrown here.
        /// </summary>
        public async Task StopAsync(CancellationToken cancellationToken = default)
        {
            var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using var registration = _lifetime.ApplicationStopped.Register(() => stopped.TrySetResult());
            _lifetime.StopApplication();
            try
            {
                await stopped.Task.WaitAsync(StopPatience, cancellationToken);
            }
            catch (TimeoutException e)
            {
                throw new TimeoutException($"Program's Main did not stop the service's host within {StopPatience.TotalSeconds:0} s.", e);
            }
        }

        /// <summary>
        /// After StopAsync. Main disposes the host too, once its StopAsync has returned; the container disposes its
        /// services once, whichever call comes first.
        /// </summary>
        public void Dispose() => host.Dispose();
    }
}
