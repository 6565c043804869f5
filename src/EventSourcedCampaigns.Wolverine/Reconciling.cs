using System.Globalization;
using EventSourcedCampaigns.Decisions;
using EventSourcedCampaigns.Marten;
using Marten;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Wolverine;
using Wolverine.Marten;

namespace EventSourcedCampaigns.Wolverine;

/// <summary>
/// Look after a sending campaign (system): scheduled when the send starts and again every
/// <see cref="CampaignSendingOptions.ReconcileInterval"/> until the campaign is Sent or Cancelled During Send.
/// </summary>
public sealed record ReconcileSend(Guid CampaignId);

/// <summary>
/// Look after a campaign being scheduled (system): sent with its schedule, and again every
/// <see cref="CampaignSendingOptions.ReconcileInterval"/> while that schedule is being prepared or waits for its send
/// time. <paramref name="Schedule"/>: when the schedule was made (its <c>ScheduledAt</c>, which tells it from a later one).
/// <paramref name="PreparedSeen"/>: the recipients prepared at the last look (-1 before the first).
/// </summary>
public sealed record WatchScheduling(Guid CampaignId, DateTimeOffset Schedule, long PreparedSeen = -1);

/// <summary>
/// When this node's host started. Its reconciler counts a claim as lost only once <see cref="CampaignSendingOptions.ClaimTimeout"/>
/// has passed since then as well: after every sender was down (a restart, an outage longer than the timeout), the steps
/// waiting for one (a dead node's inbox, the hand-off queue, taken over a minute or so after start) run and record their
/// batches, rather than being recorded as failed for the time no node could run them.
/// </summary>
public sealed class SendingNodeStart(TimeProvider clock) : IHostedService
{
    /// <summary>When the host started this node (until then, when the container made it).</summary>
    public DateTimeOffset At { get; private set; } = clock.GetUtcNow();

    public Task StartAsync(CancellationToken cancellation)
    {
        At = clock.GetUtcNow();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellation) => Task.CompletedTask;
}

/// <summary>
/// The reconciler: nothing stays stranded when a node dies or a message is lost. A claim with no result after
/// <see cref="CampaignSendingOptions.ClaimTimeout"/> (and no <see cref="DispatchHeartbeat"/> within that long: a batch
/// waiting for a rate limit is alive) is recorded as failed (whether its messages went out is
/// unknown, and the reason says so), unless its recipient outcomes were written (the provider answered, the node died before
/// the batch was recorded): then it is recorded as they say; a lane with no batch in flight but batches left is opened again. So every
/// campaign reaches Sent or Cancelled During Send. Runs on whichever node holds the durable scheduled message,
/// under the campaign stream's row lock, and is idempotent: running it twice changes nothing more.
/// </summary>
public static class ReconcilingHandler
{
    public static async Task<(Events, OutgoingMessages)> Handle(ReconcileSend reconcile,
        [WriteAggregate(nameof(ReconcileSend.CampaignId), Required = false, LoadStyle = ConcurrencyStyle.Exclusive)] CampaignState? campaign,
        CampaignSendingOptions options, SendingNodeStart started, TimeProvider clock, IDocumentSession session, Envelope envelope,
        CancellationToken cancellation)
    {
        if (campaign?.Phase is not (CampaignPhase.Sending or CampaignPhase.Cancelling)) return ([], Handling.SettleAgainAfterUnseenCommit(envelope, campaign, []));
        var now = Handling.Now(clock, campaign);

        var events = new List<ICampaignEvent>();
        var state = campaign;
        // Counted from this node's start too: a step that waited while no node could run it (every sender down) gets its turn.
        var stale = InFlight(campaign).Where(b => Later(b.Value.ClaimedAt, started.At) + options.ClaimTimeout <= now).OrderBy(b => b.Key).ToList();
        // A batch waiting for rate-limit permits or the provider's Retry-After is alive, not lost: it beats while it waits.
        var alive = stale.Count == 0 ? [] : (await session.LoadManyAsync<DispatchHeartbeat>(cancellation,
                stale.Select(b => CampaignBatch.IdFor(campaign.Id, b.Key)).ToArray()))
            .Where(h => h.At + options.ClaimTimeout > now).Select(h => h.Id).ToHashSet();
        var lost = stale.Where(b => !alive.Contains(CampaignBatch.IdFor(campaign.Id, b.Key))).ToList();
        // The dispatch step writes a batch's recipient outcomes before it passes the provider's answer on: a lost claim with
        // outcomes had its answer, and only its record went missing (its node died in between). It is recorded as the
        // outcomes say, so the report agrees with the recipients and a delivered batch is not counted as failed.
        var answered = (await session.LoadRecordedBatchOutcomesAsync(campaign.Id, lost.Select(b => b.Key).ToArray(), cancellation))
            .ToDictionary(o => o.BatchNumber);
        foreach (var (number, batch) in lost)
        {
            CampaignCommand record = answered.TryGetValue(number, out var known) && known.Unknown == 0 && known.Recipients == batch.Recipients
                ? known switch
                {
                    // Recipients are left not sent only by a cancel: the whole batch released, or the rest of it.
                    { NotSent: > 0 } when state.Phase is not CampaignPhase.Cancelling => Lost(campaign.Id, number, batch, options),
                    { NotSent: var notSent } when notSent == known.Recipients => new ReleaseBatch(campaign.Id, number),
                    { Error: { } error } => new RecordBatchFailure(campaign.Id, number, error),
                    _ => new RecordBatchDelivery(campaign.Id, number, known.Delivered, known.Failed, known.NotSent),
                }
                : Lost(campaign.Id, number, batch, options);
            var failed = Decider.Decide(record, state, now).EventsOrThrow();
            events.AddRange(failed);
            state = failed.Aggregate((CampaignState?)state, CampaignState.Evolve)!;
        }

        OutgoingMessages messages = [];
        if (state.Phase is CampaignPhase.Sending sending)
        {
            // Lanes with no batch in flight are opened again with the first batches nobody claimed, in order.
            var lanes = options.LanesFor(state);
            var heads = new List<int>();
            for (var progress = sending.Progress; progress.InFlight.Count + heads.Count < lanes && Unclaimed(progress, heads, sending.Plan.Batches) is { } next;)
                heads.Add(next);
            var (claims, sends, after) = await SendingHandler.ClaimAsync(state, [.. heads], lanes, now, session, cancellation);
            events.AddRange(claims);
            messages.AddRange(sends);
            state = after;
        }

        messages.AddRange(Handling.ForgetBatchesWhenFinished(campaign.Id, events, session));
        if (state.Phase is CampaignPhase.Sending or CampaignPhase.Cancelling) messages.Add(NextWatch(campaign.Id, options));
        return ((await AuditChain.LinkAsync(session, events, cancellation)).ToEvents(), messages);
    }

    /// <summary>
    /// A schedule's steps are messages that can be lost (a step dead-lettered, or queued in memory on a node that then lost
    /// it while the database restarted): a schedule that prepared nothing since the last look, one interval ago, gets its
    /// next page's step again, from where the last prepared page's last batch says the audience goes on; one whose send
    /// time is an interval past and has not started gets its start again. Either step, should the first copy run as well,
    /// finds its work done and does nothing. The watch ends once the send starts (its reconciler takes over) or the
    /// schedule ends (cancelled, reverted, scheduled again, failed).
    /// </summary>
    public static async Task<OutgoingMessages> Handle(WatchScheduling watch,
        [WriteAggregate(nameof(WatchScheduling.CampaignId), Required = false)] CampaignState? campaign,
        CampaignSendingOptions options, TimeProvider clock, IDocumentSession session, ILoggerFactory logs, CancellationToken cancellation)
    {
        switch (campaign?.Phase)
        {
            case CampaignPhase.Scheduling scheduling when scheduling.Schedule.ScheduledAt == watch.Schedule:
                OutgoingMessages messages = [NextWatch(watch with { PreparedSeen = scheduling.Prepared }, options)];
                if (scheduling.Prepared == watch.PreparedSeen && await NextPageAsync(campaign, scheduling, session, cancellation) is { } page)
                {
                    logs.CreateLogger(typeof(ReconcilingHandler)).LogWarning(
                        "Scheduling campaign {Campaign} (tenant {Tenant}) made no progress for {Interval}: its next page is sent again",
                        campaign.Id, session.TenantId, options.ReconcileInterval);
                    messages.Add(page);
                }
                return messages;
            case CampaignPhase.ReadyToSend ready when ready.Schedule.ScheduledAt == watch.Schedule:
                var due = ready.Schedule.SendAt + options.ReconcileInterval;
                if (Handling.Now(clock, campaign) < due) return [watch.ScheduledAt(due)];
                return [new StartSend(campaign.Id), NextWatch(watch, options)];
            default:
                return [];
        }
    }

    /// <summary>The step of the page after those prepared, or null when where the audience goes on is not recorded.</summary>
    private static async Task<PrepareAudiencePage?> NextPageAsync(CampaignState campaign, CampaignPhase.Scheduling scheduling, IDocumentSession session,
        CancellationToken cancellation)
    {
        if (scheduling.BatchesPrepared == 0) return new PrepareAudiencePage(campaign.Id, scheduling.Schedule.ScheduledAt, null, 0);
        var last = await session.LoadAsync<CampaignBatch>(CampaignBatch.IdFor(campaign.Id, scheduling.BatchesPrepared), cancellation);
        return last?.NextPage is { } next
            ? new PrepareAudiencePage(campaign.Id, scheduling.Schedule.ScheduledAt, next.Continuation, scheduling.Prepared)
            : null;
    }

    private static object NextWatch(WatchScheduling watch, CampaignSendingOptions options) => watch.DelayedFor(options.ReconcileInterval);

    /// <summary>The first look at a schedule.</summary>
    internal static object FirstWatch(Guid campaignId, DateTimeOffset scheduledAt, CampaignSendingOptions options) =>
        NextWatch(new WatchScheduling(campaignId, scheduledAt), options);

    private static RecordBatchFailure Lost(Guid campaignId, int number, InFlightBatch batch, CampaignSendingOptions options) =>
        new(campaignId, number, LostReason(options.ClaimTimeout, batch.ClaimedAt));

    /// <summary>Why a lost claim failed: stored in its event, so in the same words whatever the node's culture.</summary>
    internal static string LostReason(TimeSpan claimTimeout, DateTimeOffset claimedAt) => string.Create(CultureInfo.InvariantCulture,
        $"No result from the provider {claimTimeout.TotalSeconds:0.#} s after the claim (claimed at {claimedAt:O}), and none while a sending node ran that long: the provider call outlasted Sending:ClaimTimeout, or the node sending it was lost, or its step was. Whether these messages went out is unknown.");

    private static DateTimeOffset Later(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    /// <summary>The next look at a sending campaign.</summary>
    internal static object NextWatch(Guid campaignId, CampaignSendingOptions options) =>
        new ReconcileSend(campaignId).DelayedFor(options.ReconcileInterval); // by Wolverine's clock, whatever this node's says

    private static IEnumerable<KeyValuePair<int, InFlightBatch>> InFlight(CampaignState campaign) => campaign.Phase switch
    {
        CampaignPhase.Sending s => s.Progress.InFlight,
        CampaignPhase.Cancelling c => c.Progress.InFlight,
        _ => [],
    };

    /// <summary>The first batch never claimed and not about to be, if any.</summary>
    private static int? Unclaimed(SendProgress progress, List<int> claiming, int batches)
    {
        var first = SendingHandler.FirstUnclaimed(progress, batches);
        while (first is { } number && (claiming.Contains(number) || progress.IsClaimed(number))) first = number < batches ? number + 1 : null;
        return first;
    }
}
