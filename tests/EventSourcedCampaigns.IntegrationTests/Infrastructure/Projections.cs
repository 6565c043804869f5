using Marten;
using Marten.Events;

namespace EventSourcedCampaigns.IntegrationTests.Infrastructure;

public static class Projections
{
    /// <summary>Wait, bounded, until the async projections caught up; fail with a clear message otherwise.</summary>
    public static async Task WaitForProjectionsAsync(this IDocumentStore store, TimeSpan? timeout = null)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(60);
        try
        {
            await store.WaitForNonStaleProjectionDataAsync(limit);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"The async projections did not catch up within {limit.TotalSeconds:0}s: is the daemon running and healthy?", ex);
        }
    }
}
