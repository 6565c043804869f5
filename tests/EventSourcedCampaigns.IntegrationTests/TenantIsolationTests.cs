using EventSourcedCampaigns.IntegrationTests.Infrastructure;
using EventSourcedCampaigns.Marten;
using EventSourcedCampaigns.Marten.ReadModels;
using JasperFx.Events.Projections;

namespace EventSourcedCampaigns.IntegrationTests;

public sealed class tenant_isolation
{
    [Fact]
    public async Task a_tenant_can_neither_see_nor_cancel_another_tenants_campaign()
    {
        await using var store = await TestDatabase.NewStoreAsync("tenants", ProjectionLifecycle.Inline);
        var clock = new TestClock();
        var a = new CampaignDriver(store, "shop-a", clock);
        var b = new CampaignDriver(store, "shop-b", clock);
        var campaign = await a.ScheduledAsync(batches: 2);

        var cancelByB = await b.CancelAsync(campaign);
        Assert.Equal(RejectionCode.CampaignNotFound, cancelByB.Decision.Rejection!.Code);

        await using (var asB = store.QuerySession("shop-b"))
        {
            Assert.Null(await asB.LoadCampaignStateAsync(campaign));
            Assert.Null(await asB.LoadSendReportAsync(campaign));
            Assert.Empty((await asB.QueryCampaignsAsync(new CampaignListQuery())).Items);
            // B's attempt is B's to audit (as a cancel of a campaign B does not have), and only B's.
            var attempt = Assert.Single((await asB.QueryCancellationAuditAsync(new CancellationAuditQuery())).Items);
            Assert.Equal((CancelOutcome.RefusedUnknownCampaign, "shop-b", campaign), (attempt.Outcome, attempt.TenantId, attempt.CampaignId));
        }
        await using (var asA = store.QuerySession("shop-a"))
        {
            Assert.Equal(CampaignStatus.Scheduled, (await asA.LoadCampaignStateAsync(campaign))!.Status);
            Assert.Equal(CampaignStatus.Scheduled, (await asA.QueryCampaignsAsync(new CampaignListQuery())).Items.Single().Status);
            Assert.Empty((await asA.QueryCancellationAuditAsync(new CancellationAuditQuery())).Items);
        }
    }

    [Fact]
    public async Task the_same_campaign_id_in_two_tenants_are_two_campaigns()
    {
        await using var store = await TestDatabase.NewStoreAsync("tenants_same_id", ProjectionLifecycle.Inline);
        var clock = new TestClock();
        var id = Guid.NewGuid();
        await new CampaignDriver(store, "shop-a", clock).CreateAsync("A's campaign", id);
        await new CampaignDriver(store, "shop-b", clock).CreateAsync("B's campaign", id);

        await using var asA = store.QuerySession("shop-a");
        await using var asB = store.QuerySession("shop-b");
        Assert.Equal("A's campaign", (await asA.LoadCampaignStateAsync(id))!.Name);
        Assert.Equal("B's campaign", (await asB.LoadCampaignStateAsync(id))!.Name);
    }
}
