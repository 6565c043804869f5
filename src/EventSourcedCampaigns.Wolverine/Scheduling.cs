using System.Globalization;
using EventSourcedCampaigns.Decisions;
using EventSourcedCampaigns.Marten;
using EventSourcedCampaigns.Ports;
using Marten;
using Microsoft.Extensions.Logging;
using Wolverine;
using Wolverine.Marten;

namespace EventSourcedCampaigns.Wolverine;

/// <summary>
/// Resolve the next page of a campaign's audience into batches (system). One page per durable message: a cancel
/// is seen within one page, and after a crash scheduling resumes at the page that was not committed.
/// <paramref name="ScheduledAt"/> identifies the schedule, so a page of a schedule that was reverted does nothing;
/// <paramref name="PreparedBefore"/> makes a redelivered page a no-op.
/// </summary>
public sealed record PrepareAudiencePage(Guid CampaignId, DateTimeOffset ScheduledAt, string? Continuation, long PreparedBefore);

/// <summary>
/// Scheduling: the marketer's schedule starts audience preparation; each page of recipients becomes batches
/// (stored as <see cref="CampaignBatch"/> documents) and a <see cref="SchedulingProgressed"/>; the last page
/// completes scheduling and schedules the send at its time.
/// </summary>
public static class SchedulingHandler
{
    public static (CommandResult, Events, OutgoingMessages) Handle(ScheduleCampaign command,
        [WriteAggregate(nameof(ScheduleCampaign.CampaignId), Required = false, LoadStyle = ConcurrencyStyle.Exclusive)] CampaignState? campaign, TimeProvider clock, IDocumentSession session,
        Envelope envelope, CampaignSendingOptions options)
    {
        var (result, events, followUps) = Handling.Decide(command, campaign, Handling.Now(clock, campaign), session);
        // Tried again after its commit went through unseen (see AfterUnseenCommitAsync): the schedule is in effect, no page
        // has run, and the first page's step that commit stored was never queued.
        if (events.Count == 0 && envelope.Attempts > 1 && campaign?.Phase is CampaignPhase.Scheduling { Prepared: 0, BatchesPrepared: 0 } fresh
            && result.Decision.Rejection is null)
            return (result, [], [new PrepareAudiencePage(command.CampaignId, fresh.Schedule.ScheduledAt, null, 0)]);
        if (events.OfType<Scheduled>().SingleOrDefault() is not { } scheduled) return (result, events.ToEvents(), followUps);
        session.DeleteWhere<CampaignBatch>(b => b.CampaignId == command.CampaignId); // batches of an earlier, reverted schedule
        return (result, events.ToEvents(),
            [new PrepareAudiencePage(command.CampaignId, scheduled.ScheduledAt, null, 0), ReconcilingHandler.FirstWatch(command.CampaignId, scheduled.ScheduledAt, options)]);
    }

    public static async Task<(Events, OutgoingMessages)> Handle(PrepareAudiencePage page,
        [WriteAggregate(nameof(PrepareAudiencePage.CampaignId))] CampaignState campaign,
        IAudienceResolver audience, CampaignSendingOptions options, TimeProvider clock, IDocumentSession session, ILoggerFactory logs,
        Envelope envelope, CancellationToken cancellation)
    {
        // Cancelled, reverted (and perhaps scheduled again), or a page delivered twice: scheduling stops here, unless this
        // step is tried again after its own commit went through unseen.
        if (campaign.Phase is not CampaignPhase.Scheduling scheduling
            || scheduling.Schedule.ScheduledAt != page.ScheduledAt || scheduling.Prepared != page.PreparedBefore)
            return envelope.Attempts > 1 ? ([], await AfterUnseenCommitAsync(page, campaign, clock, session, cancellation)) : ([], []);

        // The version this page decides on, to tell after the audience is resolved whether a command came in between.
        var loaded = (await session.Events.FetchStreamStateAsync(campaign.Id, cancellation))?.Version;
        var batchSize = scheduling.Schedule.BatchSize;
        var now = Handling.Now(clock, campaign);
        // A clone for the remainder goes to the recipients its source did not reach, whatever lists it was scheduled with.
        var resolver = campaign.ClonedFrom is { RemainderOnly: true } origin ? new RemainderAudience(session, origin.SourceCampaignId) : audience;
        var (resolved, failure) = await ResolveAsync(resolver, session.TenantId, scheduling.Schedule.Audience, page.Continuation,
            batchSize * options.BatchesPerPage, options, cancellation);
        // The audience is resolved without the campaign's row lock, so that a slow audience source holds no cancel back; the
        // lock is taken before anything is written (a cancel meanwhile is waited for). A command that committed meanwhile (a
        // revert, a cancel: everyday actions) sends the page round again, to be decided on the campaign as it is now, instead
        // of failing its append as a lost race, which Marten and Wolverine log as errors with their stack traces.
        if (await session.LockCampaignStreamAsync(campaign.Id, cancellation) != loaded) return ([], [page]);
        if (resolved is null)
        {
            // Visible, with its reason, instead of a silent 0%: the campaign goes back to Draft to be fixed.
            var failed = Decider.Decide(new FailScheduling(campaign.Id, page.ScheduledAt, failure!), campaign, now).EventsOrThrow();
            logs.CreateLogger(typeof(SchedulingHandler)).LogWarning("Scheduling campaign {Campaign} (tenant {Tenant}) failed: {Reason}",
                campaign.Id, session.TenantId, failure);
            return (failed.ToEvents(), Handling.ForgetBatchesWhenFinished(campaign.Id, failed, session));
        }
        var batches = Batching.Split(campaign.Id, campaign.Variants, resolved.Recipients, scheduling.Prepared, scheduling.BatchesPrepared + 1, batchSize);
        if (!resolved.IsLast && batches.Count > 0) batches[^1] = batches[^1] with { NextPage = new AudienceCursor(page.PreparedBefore, resolved.Continuation!) };
        if (batches.Count > 0) session.Store(batches.ToArray());

        var prepared = scheduling.Prepared + resolved.Recipients.Count;
        var batchCount = scheduling.BatchesPrepared + batches.Count;
        var events = Decider.Decide(new RecordSchedulingProgress(campaign.Id, prepared, Math.Max(resolved.TotalRecipients, prepared), batchCount), campaign, now)
            .EventsOrThrow().ToList();
        if (!resolved.IsLast)
            return (events.ToEvents(), [new PrepareAudiencePage(campaign.Id, page.ScheduledAt, resolved.Continuation, prepared)]);

        var progressed = events.Aggregate((CampaignState?)campaign, CampaignState.Evolve)!;
        // Nobody to send to: the campaign goes back to Draft with the reason shown, never as a silent 0%.
        if (prepared == 0)
        {
            var nobody = campaign.ClonedFrom is { RemainderOnly: true } source
                ? $"Nobody is left to send to: campaign {source.SourceCampaignId} sent to every recipient it had."
                : "Nobody is left to send to: the audience is empty once its exclusions apply.";
            events.AddRange(Decider.Decide(new FailScheduling(campaign.Id, page.ScheduledAt, nobody), progressed, now).EventsOrThrow());
            return (events.ToEvents(), Handling.ForgetBatchesWhenFinished(campaign.Id, events, session));
        }
        events.AddRange(Decider.Decide(new CompleteScheduling(campaign.Id, prepared, batchCount, Batching.Shares(campaign.Variants, prepared)), progressed, now)
            .EventsOrThrow());
        return (events.ToEvents(), [Handling.StartSendAt(campaign.Id, scheduling.Schedule.SendAt, now)]);
    }

    /// <summary>
    /// The next step of a page step tried again (an attempt failed) that finds its own page prepared: that attempt's commit
    /// went through while its connection dropped (a database restart during COMMIT), and Wolverine queues a commit's
    /// messages only once it sees the commit, so the step it queued never ran and scheduling would stay where it is. It is
    /// sent again: the next page, from where the page's last batch says the audience goes on, or the send of the campaign
    /// the page finished scheduling. Should the first copy run after all, the later one finds its page prepared and does
    /// nothing (and, not tried again, sends nothing).
    /// </summary>
    private static async Task<OutgoingMessages> AfterUnseenCommitAsync(PrepareAudiencePage page, CampaignState campaign, TimeProvider clock,
        IDocumentSession session, CancellationToken cancellation)
    {
        switch (campaign.Phase)
        {
            case CampaignPhase.Scheduling scheduling when scheduling.Schedule.ScheduledAt == page.ScheduledAt && scheduling.Prepared > page.PreparedBefore:
                var last = await session.LoadAsync<CampaignBatch>(CampaignBatch.IdFor(campaign.Id, scheduling.BatchesPrepared), cancellation);
                // Only when the page prepared last is this step's: a later page means its own next step did run.
                return last?.NextPage is { } next && next.PageStart == page.PreparedBefore
                    ? [new PrepareAudiencePage(campaign.Id, page.ScheduledAt, next.Continuation, scheduling.Prepared)]
                    : [];
            case CampaignPhase.ReadyToSend ready when ready.Schedule.ScheduledAt == page.ScheduledAt:
                return [Handling.StartSendAt(campaign.Id, ready.Schedule.SendAt, Handling.Now(clock, campaign))];
            default:
                return [];
        }
    }

    /// <summary>
    /// One page of the audience, or why it cannot be resolved: an unknown list at once, any other error once the
    /// retries (<see cref="CampaignSendingOptions.AudienceRetryDelays"/>) are used up.
    /// </summary>
    private static async Task<(AudiencePage? Page, string? Failure)> ResolveAsync(IAudienceResolver audience, string tenantId,
        Audience lists, string? continuation, int pageSize, CampaignSendingOptions options, CancellationToken cancellation)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                var page = await audience.ResolvePageAsync(tenantId, lists, continuation, pageSize, cancellation);
                if (page?.Recipients is null) return (null, "The audience gave no page (null) where a page of recipients was asked for.");
                // A recipient without an id could be neither recorded nor erased (an empty id marks an erased one: CampaignBatch.IsErased).
                if (page.Recipients.Any(r => r is null || CampaignBatch.IsErased(r)))
                    return (null, "The audience gave a page with a recipient without an id: every recipient needs a stable id.");
                // Twice in a page would be two messages to one person (across pages it is the resolver's contract alone). The
                // reason names positions, not the id: it is kept in the events, which an erase does not rewrite.
                var first = new Dictionary<string, int>(StringComparer.Ordinal);
                for (var i = 0; i < page.Recipients.Count; i++)
                    if (!first.TryAdd(page.Recipients[i].Id, i))
                        return (null, string.Create(CultureInfo.InvariantCulture,
                            $"The audience gave one recipient twice in a page (places {first[page.Recipients[i].Id] + 1} and {i + 1} of {page.Recipients.Count}): every recipient appears once, or they would get the message twice."));
                return (page, null);
            }
            catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
            {
                throw; // the node is stopping: the page stays in the durable inbox
            }
            catch (Exception e) when (e is UnknownSegmentException or InvalidContinuationException || attempt >= options.AudienceRetryDelays.Length)
            {
                return (null, SendingHandler.Truncate(e is UnknownSegmentException or InvalidContinuationException
                    ? e.Message
                    : $"The audience could not be resolved after {attempt + 1} attempts: {e.GetType().Name}: {e.Message}"));
            }
            catch (Exception)
            {
                await Task.Delay(options.AudienceRetryDelays[attempt], cancellation);
            }
        }
    }

    /// <summary>For callers that prepare the audience themselves: completing scheduling schedules the send.</summary>
    public static (CommandResult, Events, OutgoingMessages) Handle(CompleteScheduling command,
        [WriteAggregate(nameof(CompleteScheduling.CampaignId), Required = false, LoadStyle = ConcurrencyStyle.Exclusive)] CampaignState? campaign, TimeProvider clock, IDocumentSession session)
    {
        var now = Handling.Now(clock, campaign);
        var (result, events, messages) = Handling.Decide(command, campaign, now, session);
        if (events.OfType<SchedulingCompleted>().Any() && result.State?.Phase is CampaignPhase.ReadyToSend ready)
            messages.Add(Handling.StartSendAt(command.CampaignId, ready.Schedule.SendAt, now));
        return (result, events.ToEvents(), messages);
    }
}

/// <summary>How recipients become batches and A/B variants.</summary>
public static class Batching
{
    /// <summary>
    /// The variant of the audience's recipient number <paramref name="ordinal"/> (0-based, in resolution order). Every run
    /// of 100 recipients is split exactly by the percentages, with the variants interleaved, and no state is needed across
    /// pages. Within a run, the first n recipients give each variant its share of n rounded down or up, never further
    /// off (50/50 of 5 recipients is 3 and 2, not 4 and 1; 1% of 3 recipients is none, 99% all 3).
    /// </summary>
    public static int VariantIndex(Variant[] variants, long ordinal) => Order(variants)[ordinal % 100];

    /// <summary>
    /// The variant of each position of a run of 100: the next recipient goes to a variant still below its share rounded
    /// up, the one whose share rounded down would be missed soonest (earliest deadline first), the first on a tie.
    /// </summary>
    private static int[] Order(Variant[] variants)
    {
        var counts = new int[variants.Length];
        var order = new int[100];
        for (var n = 1; n <= 100; n++)
        {
            int best = -1, bestDue = int.MaxValue;
            for (var i = 0; i < variants.Length; i++)
            {
                var split = variants[i].SplitPercent;
                if (split <= 0 || 100 * counts[i] >= n * split) continue; // at its share rounded up already
                var due = (100 * (counts[i] + 1) + split - 1) / split; // the position by which its next recipient is due
                if (due < bestDue) (best, bestDue) = (i, due);
            }
            if (best < 0) best = variants.Length - 1; // splits that do not add up to 100 (refused when the campaign is created)
            counts[best]++;
            order[n - 1] = best;
        }
        return order;
    }

    /// <summary>How many of the first <paramref name="recipients"/> go to each variant.</summary>
    public static VariantShare[] Shares(Variant[] variants, long recipients)
    {
        var order = Order(variants);
        var counts = variants.Select(v => recipients / 100 * v.SplitPercent).ToArray();
        for (var n = recipients / 100 * 100; n < recipients; n++) counts[order[n % 100]]++;
        return variants.Select((v, i) => new VariantShare(v.Key, counts[i])).ToArray();
    }

    /// <summary>
    /// One page of recipients as batches of at most <paramref name="batchSize"/>, one variant per batch. The variants'
    /// batches are interleaved in proportion to their number (A, B, C, A, B, C... for an even split), not one variant's
    /// after another's, so a send stopped part way (a cancel) has reached every variant alike.
    /// </summary>
    public static List<CampaignBatch> Split(Guid campaignId, Variant[] variants, IReadOnlyList<Recipient> recipients,
        long firstOrdinal, int firstBatchNumber, int batchSize)
    {
        var order = Order(variants);
        var groups = variants.Select(_ => new List<Recipient>()).ToArray();
        for (var i = 0; i < recipients.Count; i++) groups[order[(firstOrdinal + i) % 100]].Add(recipients[i]);
        var interleaved = new List<(double At, int Variant, Recipient[] Chunk)>();
        for (var v = 0; v < variants.Length; v++)
        {
            var chunks = groups[v].Chunk(batchSize).ToArray();
            for (var k = 0; k < chunks.Length; k++) interleaved.Add(((k + 0.5) / chunks.Length, v, chunks[k]));
        }
        var batches = new List<CampaignBatch>();
        var number = firstBatchNumber;
        foreach (var (_, v, chunk) in interleaved.OrderBy(b => b.At).ThenBy(b => b.Variant))
            batches.Add(new CampaignBatch(CampaignBatch.IdFor(campaignId, number), campaignId, number++, variants[v].Key, chunk));
        return batches;
    }
}
