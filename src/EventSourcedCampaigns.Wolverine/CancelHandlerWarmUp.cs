using EventSourcedCampaigns.Decisions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Wolverine.Runtime;

namespace EventSourcedCampaigns.Wolverine;

/// <summary>
/// Builds the cancel's handler as soon as the node has started. Wolverine generates and compiles a handler's code on its
/// first message; without this, the first cancel after every start waited for that (0.4-0.7 s under load,
/// docs/benchmarks.md), while the marketer who clicked Cancel watched the campaign keep sending.
/// </summary>
internal sealed class CancelHandlerWarmUp(IWolverineRuntime runtime, IHostApplicationLifetime lifetime, ILogger<CancelHandlerWarmUp> logger)
    : IHostedService
{
    public Task StartAsync(CancellationToken cancellation)
    {
        // Once every hosted service (Wolverine's own included) has started; off the start-up path.
        lifetime.ApplicationStarted.Register(() => Task.Run(Build));
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellation) => Task.CompletedTask;

    private void Build()
    {
        try
        {
            runtime.FindInvoker(typeof(CancelCampaign)); // what InvokeAsync looks up, and builds on first use
        }
        catch (Exception e)
        {
            // Not fatal: the first cancel builds it, and fails the same way if it cannot.
            logger.LogWarning(e, "Could not build the cancel handler ahead of the first cancel.");
        }
    }
}
