namespace EventSourcedCampaigns.Service.Tests;

/// <summary>The web server as deployed (Kestrel, not the test server) takes the longest query the API documents.</summary>
public sealed class the_longest_documented_query
{
    [Fact]
    public async Task reaches_the_api_through_kestrel_in_any_script()
    {
        // Found by an audit: 1,000 characters of four UTF-8 bytes each are 12 KB percent-encoded, past Kestrel's 8 KB
        // request line, and Kestrel refused the name filter the OpenAPI document allows 414, with no problem body.
        await using var node = await WorkerProcess.StartAloneAsync("longquery");
        using var client = node.Client("shop-a");
        var longest = Uri.EscapeDataString(string.Concat(Enumerable.Repeat("\U0001F38D", EventSourcedCampaigns.Service.Http.QueryEndpoints.MaxTextFilterLength)));

        var campaigns = await client.GetAsync($"/api/campaigns?name={longest}&status=Draft&sort=Name&page=1&pageSize=50");
        Assert.Equal(System.Net.HttpStatusCode.OK, campaigns.StatusCode);
        var audit = await client.GetAsync($"/api/audit/cancellations.csv?actor={longest}&campaignId={Guid.NewGuid()}&channel=User" +
                                          "&from=2026-01-01T00:00:00Z&to=2027-01-01T00:00:00Z");
        Assert.Equal(System.Net.HttpStatusCode.OK, audit.StatusCode);
    }
}
