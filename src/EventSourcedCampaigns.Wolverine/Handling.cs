using EventSourcedCampaigns.Decisions;
using EventSourcedCampaigns.Marten;
using Marten;
using Wolverine;
using Wolverine.Marten;

namespace EventSourcedCampaigns.Wolverine;

/// <summary>What every campaign handler does around the decider.</summary>
internal static class Handling
{
    /// <summary>
    /// The time a decision is made: this node's clock, but never before the campaign's last change. Another node
    /// with a clock a few milliseconds ahead may have appended the last event; the pipeline must not stall on
    /// the decider's "time went backwards" rule because of that.
    /// </summary>
    public static DateTimeOffset Now(TimeProvider clock, CampaignState? campaign)
    {
        var now = clock.GetUtcNow();
        return campaign is not null && campaign.LastChangedAt > now ? campaign.LastChangedAt : now;
    }

    /// <summary>
    /// Decide a command and return the events to append with the caller's result. A refused cancel is appended
    /// as a <see cref="CancelRejected"/> audit event; other refusals append nothing.
    /// </summary>
    public static (CommandResult Result, IReadOnlyList<ICampaignEvent> Events) Decide(
        CampaignCommand command, CampaignState? campaign, DateTimeOffset now, IDocumentSession session)
    {
        var decision = Decider.Decide(command, campaign, now);
        var events = Decider.EventsToAppend(decision, command, campaign, now);
        ForgetBatchesWhenFinished(command.CampaignId, events, session);
        return (new CommandResult(decision, events.Aggregate(campaign, CampaignState.Evolve)), events);
    }

    /// <summary>
    /// Record who received what (<see cref="RecipientOutcomes"/>: the batches these events settle, and, when the send
    /// finishes, every batch never sent), then, since prepared batches hold recipients' addresses, delete them once the
    /// campaign no longer needs them (sent, cancelled, or back to draft). The outcomes read the batches, so they are
    /// queued first, in the same transaction.
    /// </summary>
    public static void ForgetBatchesWhenFinished(Guid campaignId, IReadOnlyList<ICampaignEvent> events, IDocumentSession session,
        IReadOnlyList<Ports.RecipientRefusal>? refusals = null)
    {
        session.RecordRecipientOutcomes(campaignId, events, refusals);
        if (events.Any(e => e is SendCompleted or Cancelled or CancelledDuringSend or ScheduleReverted or SchedulingFailed))
        {
            session.DeleteWhere<CampaignBatch>(b => b.CampaignId == campaignId);
            session.DeleteWhere<DispatchHeartbeat>(b => b.CampaignId == campaignId);
        }
    }

    /// <summary>The durable message that starts the send at <paramref name="sendAt"/> (now, if that has passed).</summary>
    public static object StartSendAt(Guid campaignId, DateTimeOffset sendAt, DateTimeOffset now) =>
        sendAt <= now ? new StartSend(campaignId) : new StartSend(campaignId).ScheduledAt(sendAt);

    /// <summary>The handlers that only decide and append.</summary>
    public static (CommandResult, Events) Run(CampaignCommand command, CampaignState? campaign, TimeProvider clock, IDocumentSession session)
    {
        var (result, events) = Decide(command, campaign, Now(clock, campaign), session);
        return (result, events.ToEvents());
    }

    public static Events ToEvents(this IEnumerable<ICampaignEvent> events) => new(events);
}
