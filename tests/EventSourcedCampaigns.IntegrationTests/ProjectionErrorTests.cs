using EventSourcedCampaigns.Decisions;
using EventSourcedCampaigns.IntegrationTests.Infrastructure;
using EventSourcedCampaigns.Marten;
using Marten;
using Npgsql;

namespace EventSourcedCampaigns.IntegrationTests;

public sealed class a_projection_that_hits_a_bad_event
{
    [Fact]
    public async Task stops_loudly_instead_of_skipping_it()
    {
        await using var store = await TestDatabase.NewStoreAsync("projection_errors");
        var driver = new CampaignDriver(store, "shop-a", new TestClock());
        var id = await driver.CreateAsync("Before the bad event");
        await driver.RunAcceptedAsync(new EditCampaign(id, "Renamed", [new Variant("A", "Hi", "Body", 100)], CampaignDriver.Marketer));
        await driver.RunAcceptedAsync(new EditCampaign(id, "After the bad event", [new Variant("A", "Hi", "Body", 100)], CampaignDriver.Marketer));

        // Corrupt the first edit as a buggy writer or a bad migration would.
        await using (var connection = new NpgsqlConnection(TestDatabase.ConnectionString))
        {
            await connection.OpenAsync();
            var schema = store.Options.Events.DatabaseSchemaName;
            await using var corrupt = new NpgsqlCommand(
                $"update {schema}.mt_events set data = '{{\"CampaignId\": 42}}'::jsonb where seq_id = (select min(seq_id) from {schema}.mt_events where type = 'campaign_edited')",
                connection);
            Assert.Equal(1, await corrupt.ExecuteNonQueryAsync());
        }

        using var daemon = await store.BuildProjectionDaemonAsync();
        await daemon.StartAllAsync();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!daemon.HasAnyPaused() && DateTime.UtcNow < deadline) await Task.Delay(200);

        Assert.True(daemon.HasAnyPaused(), "The daemon should have paused the shard that hit the bad event.");
        await using var query = store.QuerySession("shop-a");
        var item = (await query.QueryCampaignsAsync(new CampaignListQuery())).Items.SingleOrDefault();
        Assert.NotEqual("After the bad event", item?.Name); // nothing past the bad event was applied
        await daemon.StopAllAsync();
    }
}
