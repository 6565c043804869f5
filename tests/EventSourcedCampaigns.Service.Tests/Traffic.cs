using EventSourcedCampaigns.Benchmarks;
using EventSourcedCampaigns.Decisions;
using Marten;

namespace EventSourcedCampaigns.Service.Tests;

/// <summary>Campaign event traffic made by the decider (about 100 events a campaign), appended in bulk.</summary>
public static class Traffic
{
    public static async Task<int> AppendAsync(IDocumentStore store, int campaigns, int perTransaction = 20)
    {
        var appended = 0;
        for (var first = 0; first < campaigns; first += perTransaction)
        {
            await using var session = store.LightweightSession($"tenant-{first / perTransaction % 3}");
            for (var i = first; i < Math.Min(first + perTransaction, campaigns); i++)
            {
                var id = Guid.NewGuid();
                var (events, now) = History.Sending(id, batches: 50, plannedBatches: 60, batchSize: 100);
                if (i % 3 == 0)
                    events.AddRange(Decider.Decide(new CancelCampaign(id, History.Marketer, new CancelReason(CancelReasonCode.MarketerRequest)),
                        CampaignState.From(events), now).EventsOrThrow());
                session.Events.StartStream<CampaignState>(id, events.Cast<object>().ToArray());
                appended += events.Count;
            }
            await session.SaveChangesAsync();
        }
        return appended;
    }
}
