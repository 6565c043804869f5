using Microsoft.AspNetCore.Mvc.Testing;
using static EventSourcedCampaigns.Service.Tests.CampaignApi;

namespace EventSourcedCampaigns.Service.Tests;

/// <summary>The local provider set to refuse every batch for good (<c>Campaigns:Local:PermanentFailureRate</c>).</summary>
[Collection("in-process host")]
public sealed class a_local_provider_refusing_batches_over_http : IAsyncLifetime
{
    private const long Contacts = 300;
    private WebApplicationFactory<Program> _factory = null!;
    private CampaignApi _api = null!;

    public Task InitializeAsync()
    {
        _factory = LocalService.Start("refusing", Contacts,
            ("Campaigns:Local:PermanentFailureRate", "1"), ("Campaigns:Local:RecipientFailureRate", "0"));
        _api = new CampaignApi(_factory.CreateClient().SignedIn("shop-a"));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    [Fact]
    public async Task records_every_batch_as_failed_in_the_report_and_the_recipients()
    {
        var id = (await _api.CreateAsync($"refused-{Guid.NewGuid():N}"[..20])).CampaignId;
        await _api.ScheduleAsync(id, DateTimeOffset.UtcNow.AddSeconds(2), "everyone", batchSize: 50);

        var report = await _api.WaitForReportAsync(id, r => Status(r) == "Sent", TimeSpan.FromSeconds(60), "the send");

        AssertTotalsAddUp(report);
        Assert.Equal((Contacts, 0L, Contacts, 0.0),
            (Count(report, "recipients"), Count(report, "delivered"), Count(report, "failed"), report.GetProperty("totals").GetProperty("percentDelivered").GetDouble()));
        var failed = await _api.GetAsync($"/api/campaigns/{id}/recipients?outcome=Failed&pageSize=1");
        Assert.Equal(Contacts, failed.GetProperty("total").GetInt64());
        Assert.Contains("sender not verified", failed.GetProperty("items")[0].GetProperty("reason").GetString());
    }
}
