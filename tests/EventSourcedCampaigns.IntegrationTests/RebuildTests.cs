using System.Text.Json;
using EventSourcedCampaigns.IntegrationTests.Infrastructure;
using EventSourcedCampaigns.Marten.ReadModels;
using Marten;

namespace EventSourcedCampaigns.IntegrationTests;

public sealed class rebuilding_the_read_models
{
    [Fact]
    public async Task gives_documents_identical_to_the_live_ones()
    {
        await using var store = await TestDatabase.NewStoreAsync("rebuild");
        using var daemon = await store.BuildProjectionDaemonAsync();
        await daemon.StartAllAsync();
        foreach (var tenant in new[] { "shop-a", "shop-b" })
            await new CampaignDriver(store, tenant, new TestClock()).EveryStatusAsync();
        await store.WaitForProjectionsAsync();
        var live = await AllReadModelsAsync(store);
        Assert.Equal(16, JsonDocument.Parse(live).RootElement.GetProperty("List").GetArrayLength());

        await daemon.StopAllAsync();
        var timeout = TimeSpan.FromMinutes(1);
        await daemon.RebuildProjectionAsync<CampaignListProjection>(timeout, CancellationToken.None);
        await daemon.RebuildProjectionAsync<SendReportProjection>(timeout, CancellationToken.None);
        await daemon.RebuildProjectionAsync<CancellationAuditProjection>(timeout, CancellationToken.None);

        Assert.Equal(live, await AllReadModelsAsync(store));
    }

    private static async Task<string> AllReadModelsAsync(IDocumentStore store)
    {
        await using var query = store.QuerySession();
        var list = await query.Query<CampaignListItem>().Where(x => x.AnyTenant()).OrderBy(x => x.Id).ToListAsync();
        var reports = await query.Query<SendReport>().Where(x => x.AnyTenant()).OrderBy(x => x.Id).ToListAsync();
        var audit = await query.Query<CancellationAuditEntry>().Where(x => x.AnyTenant()).OrderBy(x => x.RequestedAt).ThenBy(x => x.TenantId).ToListAsync();
        // Audit ids of refused cancels are event ids, which a rebuild keeps; everything else is compared as is.
        return JsonSerializer.Serialize(new { List = list, Reports = reports, Audit = audit });
    }
}
