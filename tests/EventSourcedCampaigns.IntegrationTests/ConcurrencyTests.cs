using EventSourcedCampaigns.Decisions;
using EventSourcedCampaigns.IntegrationTests.Infrastructure;
using EventSourcedCampaigns.Marten;

namespace EventSourcedCampaigns.IntegrationTests;

public sealed class conflicting_commands_on_one_campaign
{
    [Fact]
    public async Task exactly_one_wins_and_the_loser_is_refused_by_the_store()
    {
        await using var store = await TestDatabase.NewStoreAsync("concurrency");
        var driver = new CampaignDriver(store, "shop-a", new TestClock());
        var id = await driver.SendingAsync(batches: 4, batchSize: 10);
        var now = driver.Clock.Advance(TimeSpan.FromSeconds(1));

        // Both load the same version; the claim commits first, the cancel decided on the stale state loses.
        await using var claimer = store.LightweightSession("shop-a");
        await using var canceller = store.LightweightSession("shop-a");
        var claimStream = await claimer.Events.FetchForWriting<CampaignState>(id);
        var cancelStream = await canceller.Events.FetchForWriting<CampaignState>(id);
        claimStream.AppendMany(Decider.Decide(new ClaimBatch(id, 1, "A", 10), claimStream.Aggregate, now).EventsOrThrow());
        cancelStream.AppendMany(Decider.Decide(new CancelCampaign(id, CampaignDriver.Marketer, new CancelReason(CancelReasonCode.Other)), cancelStream.Aggregate, now).EventsOrThrow());
        await claimer.SaveChangesAsync();
        await Assert.ThrowsAnyAsync<JasperFx.ConcurrencyException>(() => canceller.SaveChangesAsync());
    }
}
