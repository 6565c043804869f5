using Bogus;
using EventSourcedCampaigns.Decisions;
using EventSourcedCampaigns.Marten;
using Marten;

namespace EventSourcedCampaigns.IntegrationTests.Infrastructure;

/// <summary>Drives campaigns of one tenant through the real store, the way the send pipeline would.</summary>
public sealed class CampaignDriver(IDocumentStore store, string tenant, TestClock clock)
{
    public static readonly Actor Marketer = new("marketer@shop.example", RequestChannel.User);
    private static readonly Faker Fake = new() { Random = new Randomizer(7) };

    public TestClock Clock => clock;
    public string Tenant => tenant;

    /// <summary>
    /// Decide and append straight to the store, to put campaigns in every state for the read-model tests. Not the
    /// command door applications use (that is Wolverine's <c>ExecuteCampaignCommandAsync</c>, tested in Sending.Tests).
    /// </summary>
    public async Task<CommandResult> RunAsync(CampaignCommand command, TimeSpan? after = null)
    {
        var now = clock.Advance(after ?? TimeSpan.FromSeconds(1));
        await using var session = store.LightweightSession(tenant);
        var stream = await session.Events.FetchForWriting<CampaignState>(command.CampaignId);
        var decision = Decider.Decide(command, stream.Aggregate, now);
        var events = Decider.EventsToAppend(decision, command, stream.Aggregate, now);
        if (events.Count == 0) return new CommandResult(decision, stream.Aggregate);
        stream.AppendMany(events.Cast<object>());
        if (command is CloneCampaign clone && !decision.IsRejected)
            session.Events.StartStream<CampaignState>(clone.CloneId, Cloning.DraftEvents(stream.Aggregate!, clone, now).Cast<object>().ToArray());
        await session.SaveChangesAsync();
        return new CommandResult(decision, events.Aggregate(stream.Aggregate, CampaignState.Evolve));
    }

    public async Task<CommandResult> RunAcceptedAsync(CampaignCommand command, TimeSpan? after = null)
    {
        var result = await RunAsync(command, after);
        if (result.Decision.Rejection is { } r) throw new CampaignRejectedException(r);
        return result;
    }

    public async Task<Guid> CreateAsync(string? name = null, Guid? id = null)
    {
        var campaignId = id ?? Guid.NewGuid();
        await RunAcceptedAsync(new CreateCampaign(campaignId, name ?? Fake.Commerce.ProductName() + " launch", Channel.Email,
            [new Variant("A", Fake.Lorem.Sentence(4), Fake.Lorem.Paragraph(), 100)], Marketer));
        return campaignId;
    }

    /// <summary>Create, schedule and prepare <paramref name="batches"/> full batches of <paramref name="batchSize"/>.</summary>
    public async Task<Guid> ScheduledAsync(int batches, int batchSize = 1_000, string? name = null)
    {
        var id = await CreateAsync(name);
        await RunAcceptedAsync(new ScheduleCampaign(id, clock.Now.AddHours(2), new Audience(["newsletter", "vip"], ["unsubscribed"]), batchSize, Marketer));
        long recipients = (long)batches * batchSize;
        await RunAcceptedAsync(new RecordSchedulingProgress(id, recipients / 2, recipients, batches / 2));
        await RunAcceptedAsync(new CompleteScheduling(id, recipients, batches, [new VariantShare("A", recipients)]));
        return id;
    }

    public async Task<Guid> SendingAsync(int batches, int batchSize = 1_000, string? name = null)
    {
        var id = await ScheduledAsync(batches, batchSize, name);
        await RunAcceptedAsync(new StartSend(id), after: TimeSpan.FromHours(2));
        return id;
    }

    public Task<CommandResult> ClaimAsync(Guid id, int batch, int recipients = 1_000) => RunAsync(new ClaimBatch(id, batch, "A", recipients));

    public Task<CommandResult> DeliverAsync(Guid id, int batch, int delivered, int failed = 0) =>
        RunAsync(new RecordBatchDelivery(id, batch, delivered, failed));

    public Task<CommandResult> CancelAsync(Guid id, Actor? by = null, string reason = "Wrong discount code") =>
        RunAsync(new CancelCampaign(id, by ?? Marketer, new CancelReason(CancelReasonCode.ContentError, reason)));
}
