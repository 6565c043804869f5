using System.Net.Http.Json;
using System.Text.Json;
using EventSourcedCampaigns.IntegrationTests.Infrastructure;

namespace EventSourcedCampaigns.Service.Tests;

/// <summary>What the probes say about the read models.</summary>
[Collection("in-process host")]
public sealed class the_readiness_probe
{
    [Fact]
    public async Task counts_the_lag_from_the_last_event_stored_so_read_models_nobody_builds_are_behind()
    {
        // An API node and no projection worker anywhere: only a daemon moves its high-water mark, so a lag counted from that
        // mark would stay 0 while the read models never change.
        await using var node = SecuredService.Start(TestDatabase.UniqueSchema("ready"), new Dictionary<string, string?>
        {
            ["Campaigns:Roles"] = "Api",
            ["Campaigns:MaxReadyLag"] = "0",
        });
        var client = node.CreateClient().SignedIn("shop-a");
        await new CampaignApi(client).CreateAsync("Nobody projects this");

        JsonElement status = default;
        for (var deadline = DateTime.UtcNow.AddSeconds(30); DateTime.UtcNow < deadline; await Task.Delay(200))
        {
            status = await client.GetFromJsonAsync<JsonElement>("/ops/projections");
            if (status.GetProperty("lag").ValueKind == JsonValueKind.Number && status.GetProperty("lag").GetInt64() > 0) break;
        }
        Assert.False(status.GetProperty("runsProjections").GetBoolean());
        Assert.True(status.GetProperty("lag").GetInt64() > 0, $"The lag stayed {status.GetProperty("lag")} with no read model built: {status}");
        Assert.StartsWith("Degraded", await client.GetStringAsync("/health/ready"));
    }
}
