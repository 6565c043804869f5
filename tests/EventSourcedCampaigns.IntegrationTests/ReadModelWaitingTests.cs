using EventSourcedCampaigns.IntegrationTests.Infrastructure;
using EventSourcedCampaigns.Marten;
using JasperFx.Events.Projections;
using Marten;
using Marten.Events.Aggregation;

namespace EventSourcedCampaigns.IntegrationTests;

/// <summary>
/// <see cref="ReadModelWaiting.WaitForReadModelsAsync"/> waits for the read models the daemon builds, and only for them. No
/// daemon runs in these tests, so a wait for anything times out.
/// </summary>
public sealed class waiting_for_the_read_models
{
    [Fact]
    public async Task returns_at_once_when_they_are_inline_even_beside_an_async_projection_of_the_host()
    {
        // Found by an audit: it waited for the daemon's progress of read models that, inline, the daemon never builds.
        await using var store = await StoreAsync(ProjectionLifecycle.Inline);
        var sequence = await ScheduledAsync(store);

        await store.WaitForReadModelsAsync(sequence, TimeSpan.Zero);
    }

    [Fact]
    public async Task times_out_naming_them_when_they_are_async_and_no_daemon_runs()
    {
        await using var store = await StoreAsync(ProjectionLifecycle.Async);
        var sequence = await ScheduledAsync(store);

        var late = await Assert.ThrowsAsync<TimeoutException>(() => store.WaitForReadModelsAsync(sequence, TimeSpan.FromMilliseconds(100)));
        Assert.Contains(string.Join(", ", ReadModelWaiting.ReadModels), late.Message);
    }

    private static async Task<DocumentStore> StoreAsync(ProjectionLifecycle readModels)
    {
        var store = DocumentStore.For(opts =>
        {
            TestDatabase.Configure(opts, TestDatabase.UniqueSchema("waiting"), readModels);
            opts.Projections.Add(new CampaignEventCountProjection(), ProjectionLifecycle.Async);
            opts.Schema.For<CampaignEventCount>().MultiTenanted();
        });
        await store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();
        return store;
    }

    private static async Task<long> ScheduledAsync(IDocumentStore store)
    {
        var id = await new CampaignDriver(store, "shop-a", new TestClock()).ScheduledAsync(batches: 1);
        await using var session = store.QuerySession("shop-a");
        var sequence = await session.LastSequenceAsync(id);
        Assert.True(sequence > 0);
        return sequence;
    }

    /// <summary>A host's own read model, built by the daemon.</summary>
    public sealed class CampaignEventCount
    {
        public Guid Id { get; set; }
        public int Created { get; set; }
    }

    public sealed class CampaignEventCountProjection : SingleStreamProjection<CampaignEventCount, Guid>
    {
        public void Apply(CampaignCreated created, CampaignEventCount count) => count.Created++;
    }
}
