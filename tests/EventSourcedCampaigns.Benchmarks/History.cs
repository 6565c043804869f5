using EventSourcedCampaigns.Decisions;

namespace EventSourcedCampaigns.Benchmarks;

/// <summary>Realistic campaign histories made by the decider itself, so every event is one the product would write.</summary>
public static class History
{
    public static readonly Actor Marketer = new("bench@shop.example", RequestChannel.User);

    /// <summary>A campaign that has sent <paramref name="batches"/> batches (two events each) and is still sending.</summary>
    public static (List<ICampaignEvent> Events, DateTimeOffset Now) Sending(Guid id, int batches, int plannedBatches, int batchSize = 1_000)
    {
        var now = new DateTimeOffset(2026, 11, 1, 8, 0, 0, TimeSpan.Zero);
        var events = new List<ICampaignEvent>();
        CampaignState? state = null;
        void Run(CampaignCommand command)
        {
            now = now.AddMilliseconds(10);
            var decision = Decider.Decide(command, state, now);
            foreach (var e in decision.EventsOrThrow()) { events.Add(e); state = CampaignState.Evolve(state, e); }
        }

        long recipients = (long)plannedBatches * batchSize;
        Run(new CreateCampaign(id, $"Benchmark {id:N}", Channel.Email, [new Variant("A", "Hello", "Body", 100)], Marketer));
        Run(new ScheduleCampaign(id, now.AddMinutes(1), Audience.Of("everyone"), batchSize, Marketer));
        Run(new CompleteScheduling(id, recipients, plannedBatches, [new VariantShare("A", recipients)]));
        now = now.AddMinutes(1);
        Run(new StartSend(id));
        for (var batch = 1; batch <= batches; batch++)
        {
            Run(new ClaimBatch(id, batch, "A", batchSize));
            Run(new RecordBatchDelivery(id, batch, batchSize - 3, 3));
        }
        return (events, now);
    }
}
