using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace EventSourcedCampaigns.Service.Operations;

/// <summary>Ready when the database answers, no projection shard is paused, and the read models are within the allowed lag.</summary>
public sealed class ProjectionReadiness(ProjectionMonitor monitor, IOptions<ServiceSettings> settings, TimeProvider clock) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var s = monitor.Current;
        var data = new Dictionary<string, object>
        {
            ["highWaterMark"] = s.HighWaterMark, ["lag"] = s.Lag ?? -1, ["runsProjections"] = s.RunsProjections,
            ["checkedAt"] = s.CheckedAt,
        };
        var result = s switch
        {
            { Reachable: false } => HealthCheckResult.Unhealthy($"Database unreachable: {s.Error}", data: data),
            _ when clock.GetUtcNow() - s.CheckedAt > TimeSpan.FromSeconds(10) => HealthCheckResult.Unhealthy("Projection progress is stale.", data: data),
            { AnyPaused: true } => HealthCheckResult.Unhealthy("A projection shard is paused after an error; see the logs.", data: data),
            { Lag: { } lag } when lag > settings.Value.MaxReadyLag => HealthCheckResult.Degraded($"Read models are {lag:N0} events behind.", data: data),
            _ => HealthCheckResult.Healthy("Projections are up to date.", data),
        };
        return Task.FromResult(result);
    }
}
