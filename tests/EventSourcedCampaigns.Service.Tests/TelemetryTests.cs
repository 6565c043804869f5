using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using EventSourcedCampaigns.IntegrationTests.Infrastructure;
using EventSourcedCampaigns.Marten.Telemetry;
using Marten;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourcedCampaigns.Service.Tests;

/// <summary>The worker's own meter reports cancels, refusals, cancel-to-stop and projection lag from the event stream.</summary>
[Collection("in-process host")] // the meter is process-wide: no other in-process worker may feed it meanwhile
public sealed class the_campaign_metrics
{
    [Fact]
    public async Task count_cancels_and_time_to_stop_from_the_events()
    {
        var measurements = new ConcurrentBag<(string Instrument, double Value, string? Tag)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == CampaignMetrics.MeterName) l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((i, value, tags, _) => measurements.Add((i.Name, value, Tag(tags))));
        listener.SetMeasurementEventCallback<double>((i, value, tags, _) => measurements.Add((i.Name, value, Tag(tags))));
        listener.Start();

        await using var factory = new ServiceFactory().WithWebHostBuilder(web =>
        {
            web.UseSetting("Campaigns:ConnectionString", TestDatabase.ConnectionString);
            web.UseSetting("Campaigns:Schema", TestDatabase.UniqueSchema("metrics"));
            web.TrustTestTokens();
            web.UseSetting("Campaigns:DaemonMode", "Solo");
        });
        _ = factory.CreateClient(); // starts the host, its daemon and the metrics subscription
        var store = factory.Services.GetRequiredService<IDocumentStore>();
        // The subscription starts "from the present": wait until it runs before the events (the schema is new, so the
        // present it starts from is before the first of them).
        await factory.Services.GetRequiredService<JasperFx.Events.Daemon.IProjectionCoordinator>().DaemonForMainDatabase()
            .WaitForShardToBeRunning("CampaignMetrics:All", TimeSpan.FromSeconds(60));
        await new CampaignDriver(store, "shop-a", new TestClock(DateTimeOffset.UtcNow.AddDays(-1))).EveryStatusAsync();

        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((measurements.Count(m => m.Instrument == "campaigns.cancel.to_stop") < 1
                || measurements.Where(m => m.Instrument == "campaigns.cancels.requested").Sum(m => m.Value) < 3) && DateTime.UtcNow < deadline)
            await Task.Delay(200);
        listener.RecordObservableInstruments();

        // EveryStatusAsync: cancels of a scheduled, a mid-send and a still-stopping campaign, one refused on a sent one.
        Assert.Equal(3, measurements.Where(m => m.Instrument == "campaigns.cancels.requested").Sum(m => m.Value));
        Assert.Equal(["Scheduled", "Sending", "Sending"], measurements.Where(m => m.Instrument == "campaigns.cancels.requested").Select(m => m.Tag!).Order());
        Assert.Equal("NotCancellableSent", measurements.Single(m => m.Instrument == "campaigns.cancels.rejected").Tag);
        // The test clock moves 1 s a command. A subscription page may be delivered again (at least once: a CI run saw this
        // stop recorded twice), so every recording is checked, not their number.
        Assert.Contains(measurements, m => m.Instrument == "campaigns.cancel.to_stop");
        Assert.All(measurements.Where(m => m.Instrument == "campaigns.cancel.to_stop"), m => Assert.Equal(1, m.Value));
        // At least the four cancel events counted above: the subscription starts "from the present", so on a loaded
        // machine it may begin after the campaigns' earlier events (a bound of 50 failed a CI run that way).
        Assert.True(measurements.Where(m => m.Instrument == "campaigns.events.processed").Sum(m => m.Value) >= 4);
        Assert.Contains(measurements, m => m.Instrument == "campaigns.projection.lag");
    }

    private static string? Tag(ReadOnlySpan<KeyValuePair<string, object?>> tags) => tags.Length > 0 ? tags[0].Value?.ToString() : null;
}
