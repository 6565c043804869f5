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
    private Task _build = Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellation)
    {
        // Once every hosted service (Wolverine's own included) has started; off the start-up path.
        lifetime.ApplicationStarted.Register(() => _build = Task.Run(Build));
        return Task.CompletedTask;
    }

    /// <summary>Waits for a build still running: a node stopped just after it started would dispose Wolverine under it.</summary>
    public async Task StopAsync(CancellationToken cancellation)
    {
        try
        {
            await _build.WaitAsync(cancellation);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            // The host's stop timeout: it goes on without the build.
        }
    }

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
