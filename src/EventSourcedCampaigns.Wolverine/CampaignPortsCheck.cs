using EventSourcedCampaigns.Ports;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace EventSourcedCampaigns.Wolverine;

/// <summary>
/// Stops a node that runs the send pipeline from starting without the ports it calls. Without this the node started,
/// accepted a schedule, and the audience page failed in the background: the campaign stayed in Scheduling.
/// </summary>
internal sealed class CampaignPortsCheck(IServiceProviderIsService container, CampaignSendingOptions options) : IHostedService
{
    public Task StartAsync(CancellationToken cancellation)
    {
        if (!options.RunPipeline) return Task.CompletedTask;
        var missing = new[] { typeof(IAudienceResolver), typeof(IMessageDispatcher) }.Where(port => !container.IsService(port)).ToList();
        return missing.Count == 0 ? Task.CompletedTask : Task.FromException(new InvalidOperationException(
            $"AddCampaignSending runs the send pipeline, which needs {string.Join(" and ", missing.Select(p => p.Name))} in the " +
            "container: register your audience source and your provider (or the fakes of EventSourcedCampaigns.Testing), " +
            "or set CampaignSendingOptions.RunPipeline = false on a node that only accepts commands."));
    }

    public Task StopAsync(CancellationToken cancellation) => Task.CompletedTask;
}
