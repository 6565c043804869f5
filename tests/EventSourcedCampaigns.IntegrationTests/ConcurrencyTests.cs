using EventSourcedCampaigns.Decisions;
using EventSourcedCampaigns.IntegrationTests.Infrastructure;
using EventSourcedCampaigns.Marten;

namespace EventSourcedCampaigns.IntegrationTests;

public sealed class conflicting_commands_on_one_campaign
{
    [Fact]
    public async Task exactly_one_wins_and_the_loser_gets_a_campaign_concurrency_exception()
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

        // Through the library's command path the loser sees the documented exception and nothing is applied.
        var racers = Enumerable.Range(2, 3).Select(batch => Task.Run(async () =>
        {
            await using var session = store.LightweightSession("shop-a");
            try { return (await session.HandleAsync(new ClaimBatch(id, batch, "A", 10), now)).IsRejected ? "rejected" : "won"; }
            catch (CampaignConcurrencyException) { return "conflict"; }
        })).ToArray();
        var outcomes = await Task.WhenAll(racers);
        Assert.Contains("won", outcomes);
        Assert.DoesNotContain("rejected", outcomes);

        await using var query = store.QuerySession("shop-a");
        var state = (await query.LoadCampaignStateAsync(id))!;
        var sending = Assert.IsType<CampaignPhase.Sending>(state.Phase);
        Assert.Equal(1 + outcomes.Count(o => o == "won"), sending.Progress.InFlight.Count);
        var events = await query.Events.FetchStreamAsync(id);
        Assert.Equal(sending.Progress.InFlight.Count, events.Count(e => e.Data is BatchClaimed));
    }
}
