using System.Diagnostics.Metrics;
using JasperFx.Events;
using JasperFx.Events.Daemon;
using JasperFx.Events.Projections;
using Marten;
using Marten.Subscriptions;

namespace EventSourcedCampaigns.Marten.Telemetry;

/// <summary>The library's own meter, "EventSourcedCampaigns": add it to your OpenTelemetry metrics.</summary>
public static class CampaignMetrics
{
    /// <summary>The meter name.</summary>
    public const string MeterName = "EventSourcedCampaigns";

    private static readonly Meter Meter = new(MeterName);

    internal static readonly Counter<long> EventsProcessed =
        Meter.CreateCounter<long>("campaigns.events.processed", "{event}", "Campaign events seen by the metrics subscription.");
    internal static readonly Counter<long> CancelsRequested =
        Meter.CreateCounter<long>("campaigns.cancels.requested", "{cancel}", "Accepted cancel requests, by status at request.");
    internal static readonly Counter<long> CancelsRejected =
        Meter.CreateCounter<long>("campaigns.cancels.rejected", "{cancel}", "Refused cancel requests, by reason.");
    internal static readonly Histogram<double> CancelToStop =
        Meter.CreateHistogram("campaigns.cancel.to_stop", "s", "Cancel requested to last in-flight batch recorded.", tags: null,
            // In seconds: the default boundaries (0, 5, 10, 25... 10,000) are for milliseconds and put every stop under 5 s in one bucket.
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 600] });

    /// <summary>Projection lag in events (high-water mark minus the slowest campaign projection), set by the worker.</summary>
    public static void ObserveProjectionLag(Func<long?> lag) =>
        Meter.CreateObservableGauge("campaigns.projection.lag", () => lag() ?? 0, "{event}", "High-water mark minus the slowest read model.");
}

/// <summary>Feeds <see cref="CampaignMetrics"/> from the event stream, from the moment the worker starts (no replay of history).</summary>
public sealed class CampaignMetricsSubscription : SubscriptionBase
{
    public CampaignMetricsSubscription()
    {
        Name = "CampaignMetrics";
        Options.SubscribeFromPresent();
        foreach (var type in CampaignEvents.All) IncludeType(type);
    }

    public override Task<IChangeListener> ProcessEventsAsync(EventRange page, ISubscriptionController controller,
        IDocumentOperations operations, CancellationToken cancellationToken)
    {
        foreach (var e in page.Events)
        {
            CampaignMetrics.EventsProcessed.Add(1, new KeyValuePair<string, object?>("event", e.EventTypeName));
            switch (e.Data)
            {
                case CancelRequested x:
                    CampaignMetrics.CancelsRequested.Add(1, new KeyValuePair<string, object?>("status", x.StatusAtRequest.ToString()));
                    break;
                case CancelRejected x:
                    CampaignMetrics.CancelsRejected.Add(1, new KeyValuePair<string, object?>("code", x.Code.ToString()));
                    break;
                case CancelledDuringSend x:
                    CampaignMetrics.CancelToStop.Record(x.TimeToStop.TotalSeconds);
                    break;
            }
        }
        return Task.FromResult(NullChangeListener.Instance);
    }
}
