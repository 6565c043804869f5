using System.Globalization;
using EventSourcedCampaigns.Decisions;
using EventSourcedCampaigns.Marten;
using Marten;
using Wolverine;
using Wolverine.Attributes;
using Wolverine.Marten;

namespace EventSourcedCampaigns.Wolverine;

/// <summary>
/// Settle campaign <paramref name="CampaignId"/>, whose send finished at <paramref name="At"/> (system): record its
/// never-sent batches in the recipient outcomes, then delete its prepared batches. Sent by the transaction that appends
/// <see cref="SendCompleted"/>, <see cref="Cancelled"/> or <see cref="CancelledDuringSend"/>.
/// </summary>
public sealed record SettleFinishedSend(Guid CampaignId, DateTimeOffset At);

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
    /// Decide a command and return the events to append with the caller's result, and the follow-up messages. A refused
    /// cancel is appended as a <see cref="CancelRejected"/> audit event; other refusals append nothing.
    /// </summary>
    public static (CommandResult Result, IReadOnlyList<ICampaignEvent> Events, OutgoingMessages FollowUps) Decide(
        CampaignCommand command, CampaignState? campaign, DateTimeOffset now, IDocumentSession session)
    {
        var decision = Decider.Decide(command, campaign, now);
        var events = Decider.EventsToAppend(decision, command, campaign, now);
        var followUps = ForgetBatchesWhenFinished(command.CampaignId, events, session);
        return (new CommandResult(decision, events.Aggregate(campaign, CampaignState.Evolve)).SequencedOnCommit(session), events, followUps);
    }

    /// <summary>
    /// The settling of a finished campaign, sent again by a step tried again (an attempt failed) whose events do not finish
    /// it: the attempt that finished it may have committed unseen (a database restart during COMMIT), and Wolverine never
    /// queued the <see cref="SettleFinishedSend"/> that commit stored, which left the never-sent recipients unrecorded and the
    /// prepared batches (recipients' addresses) kept for good. Settling is idempotent.
    /// </summary>
    public static OutgoingMessages SettleAgainAfterUnseenCommit(Envelope envelope, CampaignState? campaign, IEnumerable<ICampaignEvent> events) =>
        envelope.Attempts > 1 && !events.Any(e => e is SendCompleted or Cancelled or CancelledDuringSend) && campaign?.Phase switch
        {
            CampaignPhase.Sent s => s.CompletedAt,
            CampaignPhase.Cancelled c => c.CancelledAt,
            CampaignPhase.CancelledDuringSend c => c.CancelledAt,
            _ => (DateTimeOffset?)null,
        } is { } finishedAt
            ? [new SettleFinishedSend(campaign!.Id, finishedAt)]
            : [];

    /// <summary>
    /// Record who received what (<see cref="RecipientOutcomes"/>: the batches these events settle), then, since prepared
    /// batches hold recipients' addresses, delete them once the campaign no longer needs them. A send that ends (sent,
    /// cancelled) is settled by the returned <see cref="SettleFinishedSend"/> follow-up, after this transaction commits and
    /// outside the stream lock: recording its never-sent batches reads each of them (10,000 for a campaign of 10,000,000)
    /// and every lane and cancel of the campaign would wait for it. A finished campaign never gets batches again, so the
    /// follow-up cannot delete batches it should keep. A schedule that goes back to draft deletes its batches here: a new
    /// schedule reuses their ids. <paramref name="outcomesRecorded"/>: the batch events' outcomes are already written.
    /// <paramref name="refusals"/> and <paramref name="notSent"/>: the recipients of a delivered batch refused, and never handed over.
    /// </summary>
    public static OutgoingMessages ForgetBatchesWhenFinished(Guid campaignId, IReadOnlyList<ICampaignEvent> events, IDocumentSession session,
        IReadOnlyList<Ports.RecipientRefusal>? refusals = null, bool outcomesRecorded = false, IReadOnlyList<string>? notSent = null)
    {
        if (!outcomesRecorded) session.RecordRecipientOutcomes(campaignId, events, refusals, notSent);
        OutgoingMessages followUps = [];
        foreach (var e in events)
        {
            switch (e)
            {
                case SendCompleted s: followUps.Add(new SettleFinishedSend(campaignId, s.CompletedAt)); break;
                case Cancelled c: followUps.Add(new SettleFinishedSend(campaignId, c.CancelledAt)); break;
                case CancelledDuringSend c: followUps.Add(new SettleFinishedSend(campaignId, c.CancelledAt)); break;
                case ScheduleReverted or SchedulingFailed: DeleteBatches(campaignId, session); break;
            }
        }
        return followUps;
    }

    internal static void DeleteBatches(Guid campaignId, IDocumentSession session)
    {
        session.DeleteWhere<CampaignBatch>(b => b.CampaignId == campaignId);
        session.DeleteWhere<DispatchHeartbeat>(b => b.CampaignId == campaignId);
    }

    /// <summary>The durable message that starts the send at <paramref name="sendAt"/> (now, if that has passed).</summary>
    public static object StartSendAt(Guid campaignId, DateTimeOffset sendAt, DateTimeOffset now) =>
        sendAt <= now ? new StartSend(campaignId) : new StartSend(campaignId).ScheduledAt(sendAt);

    /// <summary>The handlers that only decide and append.</summary>
    public static (CommandResult, Events, OutgoingMessages) Run(CampaignCommand command, CampaignState? campaign, TimeProvider clock, IDocumentSession session)
    {
        var (result, events, followUps) = Decide(command, campaign, Now(clock, campaign), session);
        return (result, events.ToEvents(), followUps);
    }

    /// <summary><see cref="Run"/> for the commands that may finish a cancelled send: its outcome is chained in the tenant's audit.</summary>
    public static async Task<(CommandResult, Events, OutgoingMessages)> RunChainedAsync(CampaignCommand command, CampaignState? campaign, TimeProvider clock,
        IDocumentSession session, CancellationToken cancellation)
    {
        var (result, events, followUps) = Decide(command, campaign, Now(clock, campaign), session);
        // The campaign's row lock before the tenant's audit lock, in the order a cancel takes them: the other order deadlocks with it.
        if (events.Any(e => e is IAuditChainedEvent)) await session.LockCampaignStreamAsync(command.CampaignId, cancellation);
        return (result, (await AuditChain.LinkAsync(session, events, cancellation)).ToEvents(), followUps);
    }

    /// <summary>
    /// The door's condition (<see cref="CampaignSendingExtensions.ExpectedVersionHeader"/>): the campaign's stream still at the
    /// version its caller read, read under the row lock, so nothing appends between the check and this command's events.
    /// Checked only when <paramref name="decided"/> would change the campaign, as HTTP has it (RFC 9110 13.2.1, 13.1.1): a
    /// refusal (CampaignNotFound, NotEditable) is answered as without the condition, and a command already in effect (no
    /// events: a retry after a lost answer) overwrites nothing.
    /// </summary>
    public static async Task<(long Expected, long Actual)?> VersionMismatchAsync(Envelope envelope, IDocumentSession session, Guid campaignId,
        CommandResult decided, CancellationToken cancellation)
    {
        if (decided.Decision.Events.Count == 0
            || !envelope.Headers.TryGetValue(CampaignSendingExtensions.ExpectedVersionHeader, out var raw)
            || !long.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var expected)) return null;
        return await session.LockCampaignStreamAsync(campaignId, cancellation) is { } actual && actual != expected ? (expected, actual) : null;
    }

    public static Events ToEvents(this IEnumerable<ICampaignEvent> events) => new(events);
}

/// <summary>The follow-up of a finished send.</summary>
public static class SettlingHandler
{
    /// <summary>
    /// Settle a finished send: every batch with no outcome yet is recorded as not sent, then the prepared batches go. The
    /// outcomes of the batches that were sent or released were committed before the event that finished the send (the
    /// dispatch step writes them, or the batch's record did), so "no outcome yet" means "never sent". Idempotent.
    /// Transactional of its own: the aggregate handlers commit by their workflow, but this one's session would otherwise be
    /// saved only in hosts that set <c>AutoApplyTransactions()</c>, and elsewhere the remainder went unrecorded and the
    /// prepared batches (recipients' addresses) stayed for good.
    /// </summary>
    [Transactional]
    public static void Handle(SettleFinishedSend settle, IDocumentSession session)
    {
        session.RecordNotSentRemainder(settle.CampaignId, settle.At);
        Handling.DeleteBatches(settle.CampaignId, session);
    }
}
