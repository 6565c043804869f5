using System.Globalization;
using EventSourcedCampaigns.Decisions;
using EventSourcedCampaigns.Marten;
using EventSourcedCampaigns.Ports;
using Marten;
using Microsoft.Extensions.Logging;
using Wolverine;
using Wolverine.Marten;
using Wolverine.Runtime;

namespace EventSourcedCampaigns.Wolverine;

/// <summary>
/// Hand claimed batch <paramref name="BatchNumber"/> to the provider (system). Sent in the same transaction as the
/// batch's <see cref="BatchClaimed"/>, so a batch goes to the provider only once its claim is committed.
/// <paramref name="Lanes"/>: how many of the campaign's batches may be in flight; once this one is recorded its lane
/// continues with the first batch not claimed yet.
/// </summary>
public sealed record SendBatch(Guid CampaignId, int BatchNumber, int Lanes);

/// <summary>
/// The provider's answer for a batch (system): counts, or the error that failed the whole batch. <paramref name="Upcoming"/>:
/// the batches the record may claim next, as read by the dispatch step (prepared batches do not change while a campaign
/// sends), so that recording does not read them while holding the stream's row lock; <paramref name="Next"/> is the one
/// message of older versions carried. Either may be null or miss the batch the record claims: it is read then.
/// <paramref name="Refusals"/>: the recipients the provider named as refused, recorded in the recipient outcomes.
/// <paramref name="NotSent"/>: the recipients of an accepted batch never handed over, because the cancel was committed while
/// they waited to be tried again after an earlier attempt got the others through (released, as a whole batch is; their ids
/// in <paramref name="NotSentRecipients"/> for the recipient outcomes). 0 in messages from before it existed.
/// </summary>
public sealed record BatchSent(Guid CampaignId, int BatchNumber, int Lanes, int Delivered, int Failed, string? Error, BatchShape? Next = null,
    BatchOutcome Outcome = BatchOutcome.Accepted, IReadOnlyList<RecipientRefusal>? Refusals = null, bool OutcomesRecorded = false,
    int NotSent = 0, IReadOnlyList<string>? NotSentRecipients = null, IReadOnlyList<BatchShape>? Upcoming = null);

/// <summary>What became of a claimed batch.</summary>
public enum BatchOutcome
{
    /// <summary>The provider took it (or part of it): <see cref="BatchSent.Delivered"/>, <see cref="BatchSent.Failed"/> and
    /// <see cref="BatchSent.NotSent"/> say how it went.</summary>
    Accepted,
    /// <summary>It failed for good (<see cref="BatchSent.Error"/>): refused, or out of retries.</summary>
    Failed,
    /// <summary>The campaign was cancelled before its provider call began: never sent.</summary>
    Released,
}

/// <summary>
/// The send. <see cref="StartSend"/> opens <c>Lanes</c> lanes by claiming batches 1..Lanes; each batch is then
/// claimed → sent → recorded, and recording a batch claims the first batch not claimed yet in the same transaction. So
/// batches are claimed in their order whichever lane frees up first: a lane held up (retries, a lost node) holds back no
/// batch but its own, and the variants, interleaved in the batches' order, are reached alike when a cancel stops the send.
/// Once <see cref="CancelRequested"/> is committed every claim is refused (the decider's rule), so lanes end;
/// batches already claimed finish and are recorded as after the request, and the decider appends
/// <see cref="CancelledDuringSend"/> with the last of them. The lanes of one campaign all append to its stream, so
/// these handlers (and cancel) take the stream's row lock (<c>FetchForExclusiveWriting</c>) and queue up instead of
/// losing optimistic races and retrying.
/// </summary>
public static class SendingHandler
{
    public static async Task<(CommandResult, Events, OutgoingMessages)> Handle(StartSend command,
        [WriteAggregate(nameof(StartSend.CampaignId), Required = false, LoadStyle = ConcurrencyStyle.Exclusive)] CampaignState? campaign,
        CampaignSendingOptions options, TimeProvider clock, IDocumentSession session, CancellationToken cancellation)
    {
        var now = Handling.Now(clock, campaign);
        // This node's bound on a late start (the service may have been down at the send time).
        var decision = Decider.Decide(command with { MaxLateness = options.MaxStartLateness }, campaign, now);
        // Fired before the send time (another node's clock, or an older schedule): try again at the send time.
        if (decision.Rejection is { Code: RejectionCode.SendTimeNotReached } && campaign?.Phase is CampaignPhase.ReadyToSend ready)
            return (new CommandResult(decision, campaign), [], [new StartSend(command.CampaignId).ScheduledAt(ready.Schedule.SendAt)]);
        // Paused, reverted, cancelled or already started: nothing to do.
        if (decision.Events.Count == 0) return (new CommandResult(decision, campaign), [], []);
        // Too late: paused with the reason (SendHeldAsLate), nothing sent; a resume starts it again.
        if (decision.Events.Any(e => e is SendHeldAsLate))
            return (new CommandResult(decision, decision.Events.Aggregate((CampaignState?)campaign, CampaignState.Evolve)), decision.Events.ToEvents(), []);

        var state = decision.Events.Aggregate((CampaignState?)campaign, CampaignState.Evolve)!;
        var plan = ((CampaignPhase.Sending)state.Phase).Plan;
        var lanes = options.LanesFor(state);
        var (claims, sends, after) = await ClaimAsync(state, Enumerable.Range(1, Math.Min(lanes, plan.Batches)).ToArray(), lanes, now, session, cancellation);
        OutgoingMessages messages = [.. sends, ReconcilingHandler.NextWatch(command.CampaignId, options)];
        return (new CommandResult(decision, after), decision.Events.Concat(claims).ToEvents(), messages);
    }

    /// <summary>
    /// Claim prepared batches <paramref name="numbers"/> of a sending campaign, each as the head of its lane: the events,
    /// the messages that hand them to the provider once committed, and the state after the claims.
    /// </summary>
    internal static async Task<(List<ICampaignEvent> Events, List<SendBatch> Sends, CampaignState State)> ClaimAsync(CampaignState state,
        int[] numbers, int lanes, DateTimeOffset now, IQuerySession session, CancellationToken cancellation)
    {
        var shapes = numbers.Length == 0 ? [] : await session.LoadBatchShapesAsync(state.Id, numbers, cancellation);
        var (events, sends) = (new List<ICampaignEvent>(), new List<SendBatch>());
        foreach (var number in numbers)
        {
            var shape = shapes.FirstOrDefault(b => b.BatchNumber == number) ?? throw MissingBatch(CampaignBatch.IdFor(state.Id, number));
            var (claimed, send) = Claim(state, shape, lanes, now);
            events.AddRange(claimed);
            state = claimed.Aggregate((CampaignState?)state, CampaignState.Evolve)!;
            if (send is not null) sends.Add(send);
        }
        return (events, sends, state);
    }

    /// <summary>
    /// Hand a claimed batch to the provider and pass its answer on. Who received it (<see cref="RecipientOutcomes"/>) is
    /// written here, from the recipients already loaded, rather than with the batch's record: that one holds the
    /// campaign's stream lock while every lane of the campaign and a cancel wait for it (that write made a send ten times
    /// slower, docs/benchmarks.md).
    /// </summary>
    public static async Task<BatchSent?> Handle(SendBatch send, IQuerySession session, IMessageDispatcher dispatcher,
        CampaignSendingOptions options, CampaignThrottles throttles, TimeProvider clock, IMessageBus bus, CancelPrecedence precedence, HeldAnswers held,
        ILoggerFactory logs, CancellationToken cancellation)
    {
        // A node that does not run the pipeline gets a batch only when Wolverine's durability agent, which may run on any
        // node, recovers a dead sender's inbox onto it: it hands the batch to the senders (its routing sends SendBatch to
        // the hand-off queue) instead of calling its own provider.
        if (!options.RunPipeline)
        {
            await bus.PublishAsync(send);
            return null;
        }
        // An answer this node got for the batch and could not write (the step is running again) is passed on as it is.
        var answer = held.TryGet(session.TenantId, send, out var kept) ? kept
            : await DispatchAsync(send, session, dispatcher, options, throttles, clock, precedence, logs.CreateLogger(typeof(SendingHandler)), cancellation);
        if (answer is not var (sent, batch)) return null;
        // An answer read back from the batch's outcome row (this step ran before and wrote it) is passed on as it is.
        if (sent.OutcomesRecorded) return sent;
        // The outcome insert goes after a cancel running on this node. Not ended by the node stopping: the provider took the
        // batch, and a step that throws now runs again and sends it twice.
        await precedence.WaitAsync(CancellationToken.None);
        var recorded = await RecordOutcomeAsync(sent, batch, session, clock);
        held.Keep(session.TenantId, recorded, batch);
        return recorded;
    }

    /// <summary>
    /// The batch's outcome in a transaction of its own, which may fail without harm: then the record writes it. Never
    /// in the transaction that marks this step handled: if that commit failed after the provider took the batch, the
    /// step would run again and the batch would go out twice (a race trial failed with 5 provider calls for 3 batches while the outcome rode on that commit).
    /// Not ended by the node stopping either: the row is what tells the node that runs the step again not to call the provider.
    /// </summary>
    private static async Task<BatchSent> RecordOutcomeAsync(BatchSent sent, CampaignBatch batch, IQuerySession query, TimeProvider clock)
    {
        var outcome = sent.Outcome switch
        {
            BatchOutcome.Released => RecipientOutcome.NotSent,
            _ when sent.Error is not null => RecipientOutcome.Failed,
            _ => RecipientOutcome.Delivered,
        };
        try
        {
            await query.WriteBatchOutcomeAsync(batch, outcome, sent.Failed, sent.Refusals ?? [], sent.Error, clock.GetUtcNow(), sent.NotSentRecipients,
                CancellationToken.None);
            return sent with { OutcomesRecorded = true };
        }
        catch (Exception)
        {
            return sent; // never throw after the provider took the batch: a retry would send it again
        }
    }

    private static async Task<(BatchSent, CampaignBatch)?> DispatchAsync(SendBatch send, IQuerySession session, IMessageDispatcher dispatcher,
        CampaignSendingOptions options, CampaignThrottles throttles, TimeProvider clock, CancelPrecedence precedence, ILogger log,
        CancellationToken cancellation)
    {
        var (store, tenant) = (session.DocumentStore, session.TenantId);
        // The gate orders each provider call against a cancel: released if the cancel committed first. A batch with its
        // outcome row but still in flight is this step run again (its node died, or its commit failed, after that row
        // was written): the provider answered for it, or it was released, so it is never handed over again.
        (Task<DispatchResult>? Call, Gate Gate) Pass(CampaignState? current, bool recorded, DispatchRequest open) => current?.Phase switch
        {
            CampaignPhase.Sending or CampaignPhase.Cancelling when recorded && IsInFlight(current, send.BatchNumber) => (null, Gate.Recorded),
            // Nobody left to hand over (every recipient of the batch erased since it was prepared): settled without a provider call.
            CampaignPhase.Sending when IsInFlight(current, send.BatchNumber) && open.Recipients.Count == 0 => (null, Gate.NobodyLeft),
            CampaignPhase.Sending when IsInFlight(current, send.BatchNumber) => (StartCall(dispatcher, open, cancellation), Gate.Started),
            CampaignPhase.Cancelling when IsInFlight(current, send.BatchNumber) => (null, Gate.Release),
            _ => (null, Gate.Done),
        };

        // The first pass reads the batch, and the next batch's shape for the record that claims it, with the campaign: the
        // recipients are not held in memory while the step waits for the lock (docs/benchmarks.md, tenth pass).
        await precedence.WaitAsync(cancellation); // a cancel running on this node goes first (it may also release this batch)
        var (read, request, restored) = (new BatchToDispatch(null, null, null), (DispatchRequest?)null, (Settled?)null);
        (Task<DispatchResult>? Call, Gate Gate)? passed = await store.PassWithBatchAsync(tenant, send.CampaignId, send.BatchNumber,
            Upcoming(send), (dispatch, recorded) =>
            {
                read = dispatch;
                // Only a claimed batch that is not recorded yet goes on: a redelivered message of a batch already recorded
                // (or of a finished campaign, whose batches are deleted) does nothing.
                if (dispatch is not { Batch: { } b, Campaign: { } c } || !IsInFlight(c, send.BatchNumber)) return (null, Gate.Done);
                var variant = c.Variants.FirstOrDefault(v => v.Key == b.Variant)
                              ?? throw new InvalidOperationException($"Campaign {c.Id} no longer has variant '{b.Variant}' of batch {b.BatchNumber}.");
                // What attempts of this step before it ran again got through (its node stopped or died while the rest waited) is not handed over again.
                restored = new Settled(b);
                request = new DispatchRequest(c.Id, tenant, b.BatchNumber, c.Channel, variant, restored.Any ? restored.Open() : HandedOver(b.Recipients));
                // The rate limits are waited for outside the lock, then the gate is passed again.
                return throttles.Limit(tenant, c) ? (null, Gate.Throttled) : Pass(c, recorded, request);
            }, cancellation);
        if (request is null || restored is null || read is not { Batch: { } batch, Campaign: { } campaign, Upcoming: var next }) return null;
        // Recipients erased since the batch was prepared are never handed over: they count as failed, naming nobody.
        var erased = batch.Recipients.Count(CampaignBatch.IsErased);

        (BatchSent, CampaignBatch) Outcome(BatchOutcome outcome, int delivered = 0, int failed = 0, string? error = null,
            IReadOnlyList<RecipientRefusal>? refusals = null, IReadOnlyList<string>? notSent = null) =>
            (new(campaign.Id, batch.BatchNumber, send.Lanes, delivered, failed, error, null, outcome, refusals,
                NotSent: notSent?.Count ?? 0, NotSentRecipients: notSent, Upcoming: next), batch);
        // What earlier attempts got through (an adapter that names them): never handed over again, and delivered whatever
        // becomes of the rest, which fails with the reason, or is not sent if a cancel releases it. Stored before each wait
        // to try the rest again, so that the step run again after its node stopped or died meanwhile hands over only the rest.
        var settled = restored;
        // A wait keeps the claim alive: six attempts and their delays can outlast ClaimTimeout, past which the reconciler
        // would record the batch as lost with its node while the step still works on it.
        WaitWatch Watch() => new(session.DocumentStore, session.TenantId, send.CampaignId, send.BatchNumber, options, clock);
        Task KeepAsync(Exception failure) => settled.Add(failure) ? KeepProgressAsync(session, batch, settled, log) : Task.CompletedTask;
        (BatchSent, CampaignBatch) Fail(string error)
        {
            if (!settled.Any) return Outcome(BatchOutcome.Failed, failed: batch.Recipients.Length, error: error);
            // For the operator: the rest of a batch failing is not a failed batch (BatchFailed is logged with its record).
            log.LogWarning("Batch {Batch} of campaign {Campaign} (tenant {Tenant}): {Accepted} of {Recipients} recipients got through, the rest failed: {Error}",
                batch.BatchNumber, campaign.Id, tenant, settled.Accepted, batch.Recipients.Length, error);
            // The reason of the rest says what the attempts before got through: the provider's words count only the last attempt's.
            return Outcome(BatchOutcome.Accepted, settled.Accepted, batch.Recipients.Length - settled.Accepted, refusals: settled.RefusedWithTheRest(Truncate(
                string.Create(CultureInfo.InvariantCulture, $"{error} Earlier attempts got {settled.Accepted} of the batch's {batch.Recipients.Length} recipients through."))));
        }
        // What earlier attempts got through; the recipients still open, if any, were released by a cancel: not sent.
        (BatchSent, CampaignBatch) Settle() =>
            Outcome(BatchOutcome.Accepted, settled.Accepted, settled.Refused.Count + erased, refusals: settled.Refused, notSent: [.. settled.Open().Select(r => r.Id)]);

        if (passed is { Gate: Gate.Throttled })
        {
            // The rate limits (per campaign, per tenant, on this node): wait for a permit per recipient. Never fails the batch;
            // a cancel meanwhile ends the wait and the next pass releases the batch.
            await throttles.WaitForPermitsAsync(store, tenant, campaign, batch.BatchNumber, request.Recipients.Count, clock, cancellation);
            passed = null;
        }

        var (attempt, throttledFor) = (0, TimeSpan.Zero);
        while (true)
        {
            // After a wait (the rate limits, a backoff), the batch is read again while none of it went out: a recipient erased
            // meanwhile is not handed over (an audit saw one sent 8 s after its erase, its batch waiting for the rate limit).
            if (passed is null && !settled.Any && await session.LoadAsync<CampaignBatch>(batch.Id, cancellation) is { } reread
                && reread.Recipients.Length == batch.Recipients.Length && reread.Recipients.Count(CampaignBatch.IsErased) > erased)
            {
                (batch, request) = (reread, request with { Recipients = HandedOver(reread.Recipients) });
                (erased, settled) = (batch.Recipients.Length - request.Recipients.Count, new Settled(reread));
            }
            var open = settled.Any ? request with { Recipients = settled.Open() } : request;
            // Every pass after the first (after the rate limits and after every backoff below) reads the campaign alone.
            if (passed is null)
            {
                await precedence.WaitAsync(cancellation);
                if (open.Recipients.Count == 0) return Settle();
                passed = await store.PassAsync(tenant, send.CampaignId, send.BatchNumber, (current, recorded) => Pass(current, recorded, open), cancellation);
            }
            var (call, gate) = passed.Value;
            passed = null;
            if (gate == Gate.Recorded) return await RecordedAnswerAsync(session, batch, next, send.Lanes, cancellation);
            // Released: the batch, or the rest of it when an earlier attempt got part of it through; either way not sent.
            if (gate == Gate.Release) return settled.Any ? Settle() : Outcome(BatchOutcome.Released);
            if (gate == Gate.NobodyLeft) return Settle();
            if (call is null) return null;

            try
            {
                // An adapter that answers null gave no counts: what became of the batch is unknown, and asking again could send it twice.
                if (await call is not { } result) return Fail("The provider gave no answer for the batch.");
                return result.Delivered >= 0 && result.Failed >= 0 && result.Delivered + (long)result.Failed == open.Recipients.Count
                    ? Outcome(BatchOutcome.Accepted, settled.Accepted + result.Delivered, settled.Refused.Count + result.Failed + erased,
                        refusals: [.. settled.Refused, .. Refused(result, open.Recipients) ?? []])
                    // The provider took the batch: never throw now (a retry would send it again), record what is known.
                    : Fail(Truncate(string.Create(CultureInfo.InvariantCulture,
                        $"The provider reported {result.Delivered} delivered and {result.Failed} failed for a batch of {open.Recipients.Count}.")));
            }
            catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
            {
                throw; // the node is stopping: the message stays in the durable inbox and is handled again
            }
            catch (TransientDispatchException e) when (e.RetryAfter is { } retryAfter && retryAfter > TimeSpan.Zero)
            {
                // The provider's own "slow down": wait what it asks (at least CancelCheckInterval), without using up the
                // retries meant for errors, up to MaxThrottleWait in total for this batch; then it fails with the reason.
                // (A Retry-After of zero or less asks for nothing: it is retried as any transient failure is, below.)
                var wait = retryAfter > options.CancelCheckInterval ? retryAfter : options.CancelCheckInterval;
                await KeepAsync(e);
                // Subtracted, not added: TimeSpan.MaxValue from an adapter overflowed the sum, and the step threw after the
                // provider had taken part of the batch (a retry then sent those recipients again).
                if (wait > options.MaxThrottleWait - throttledFor)
                    return Fail(Truncate(ThrottledTooLong(throttledFor, retryAfter, options.MaxThrottleWait, e.Message)));
                throttledFor += wait;
                await BackoffAsync(Watch(), wait, options, cancellation);
            }
            catch (Exception e) when (e is not DispatchException { IsTransient: false } && attempt < options.DispatchRetryDelays.Length)
            {
                // Worth another try (a transient refusal, a timeout, an adapter's HttpRequestException...): wait, but
                // stop waiting as soon as the campaign is cancelled, so a batch in backoff is released at once.
                await KeepAsync(e);
                // Said while it waits, so that an outage shows in the log before batches fail.
                var delay = options.DispatchRetryDelays[attempt++];
                log.LogWarning("Batch {Batch} of campaign {Campaign} (tenant {Tenant}): attempt {Attempt} of {Attempts} failed, tried again in {Delay}: {Error}",
                    batch.BatchNumber, campaign.Id, tenant, attempt, options.DispatchRetryDelays.Length + 1, delay, Describe(e));
                await BackoffAsync(Watch(), delay, options, cancellation);
            }
            catch (Exception e)
            {
                // Permanent, or out of retries: the batch is recorded as failed with the provider's reason, never lost.
                settled.Add(e);
                return Fail(Truncate(Describe(e)));
            }
        }
    }

    private enum Gate { Started, Release, Recorded, Done, Throttled, NobodyLeft }

    /// <summary>
    /// Store what the provider took or refused of a batch before the step waits to try the rest again. Not ended by the node
    /// stopping: that is when it is needed. If it cannot be stored, the step goes on from memory, as before it was stored.
    /// </summary>
    private static async Task KeepProgressAsync(IQuerySession session, CampaignBatch batch, Settled settled, ILogger log)
    {
        try
        {
            await session.SaveDispatchProgressAsync(batch.Id, settled.Progress(), CancellationToken.None);
        }
        catch (Exception e)
        {
            log.LogWarning(e, "Batch {Batch} of campaign {Campaign}: what the provider took before the failure could not be stored; " +
                "if this step is run again, those recipients are handed over again.", batch.BatchNumber, batch.CampaignId);
        }
    }

    /// <summary>The recipients of a batch to hand to the provider: all but those erased since it was prepared.</summary>
    private static IReadOnlyList<Recipient> HandedOver(Recipient[] recipients) =>
        Array.Exists(recipients, CampaignBatch.IsErased) ? Array.FindAll(recipients, r => !CampaignBatch.IsErased(r)) : recipients;

    /// <summary>
    /// The recipients of a batch the provider took or refused on attempts that then failed (<see cref="DispatchException.Accepted"/>,
    /// <see cref="DispatchException.Refused"/>), each once and only if it is one of the batch's.
    /// </summary>
    private sealed class Settled
    {
        private readonly CampaignBatch _batch;
        // The places of the recipients still to hand over, by id. Made on the first failed attempt: most batches have none,
        // and a map of 1,000 ids would live through every step's call.
        private Dictionary<string, int>? _open;
        private readonly List<int> _accepted = [], _refused = [];

        /// <summary>What the batch's stored <see cref="CampaignBatch.Progress"/> says earlier runs of the step got through.</summary>
        public Settled(CampaignBatch batch)
        {
            _batch = batch;
            if (batch.Progress is not { } progress) return;
            foreach (var place in progress.Accepted ?? []) Take(place, _accepted);
            foreach (var refusal in progress.Refused ?? [])
                if (refusal is not null && Take(refusal.Place, _refused)) Refused.Add(new(batch.Recipients[refusal.Place].Id, refusal.Reason ?? ""));
        }

        private Dictionary<string, int> OpenPlaces => _open ??= Places();

        private Dictionary<string, int> Places()
        {
            var places = new Dictionary<string, int>(_batch.Recipients.Length);
            for (var place = 0; place < _batch.Recipients.Length; place++)
                if (!CampaignBatch.IsErased(_batch.Recipients[place])) places.TryAdd(_batch.Recipients[place].Id, place);
            return places;
        }

        /// <summary>A stored place still open (one erased since counts as erased): taken into <paramref name="into"/>.</summary>
        private bool Take(int place, List<int> into)
        {
            if (place < 0 || place >= _batch.Recipients.Length || CampaignBatch.IsErased(_batch.Recipients[place])
                || !OpenPlaces.Remove(_batch.Recipients[place].Id)) return false;
            into.Add(place);
            return true;
        }

        /// <summary>How many were taken.</summary>
        public int Accepted => _accepted.Count;

        /// <summary>Those refused, reasons kept short.</summary>
        public List<RecipientRefusal> Refused { get; } = [];

        public bool Any => Accepted + Refused.Count > 0;

        /// <summary>Take the recipients <paramref name="failure"/> names as taken or refused; whether it named any not named before.</summary>
        public bool Add(Exception failure)
        {
            if (failure is not DispatchException e) return false;
            var before = Accepted + Refused.Count;
            // An adapter may leave a list null (or put nulls in it): nobody named there, never an exception, which would
            // make the step run again and forget whom the provider already took.
            foreach (var id in e.Accepted ?? [])
                if (id is not null && OpenPlaces.Remove(id, out var place)) _accepted.Add(place);
            foreach (var refusal in e.Refused ?? [])
                if (refusal?.RecipientId is { } id && OpenPlaces.Remove(id, out var place))
                {
                    _refused.Add(place);
                    Refused.Add(refusal with { Reason = Truncate(refusal.Reason ?? "") });
                }
            return Accepted + Refused.Count > before;
        }

        /// <summary>What to store in <see cref="CampaignBatch.Progress"/>.</summary>
        public DispatchProgress Progress() => new([.. _accepted], [.. _refused.Zip(Refused, (place, r) => new PlaceRefusal(place, r.Reason))]);

        /// <summary>The recipients still to hand over, in the batch's order.</summary>
        public Recipient[] Open() =>
            _batch.Recipients.Where((r, place) => !CampaignBatch.IsErased(r) && OpenPlaces.TryGetValue(r.Id, out var open) && open == place).ToArray();

        /// <summary>The refusals, with every recipient still open refused for <paramref name="error"/>.</summary>
        public RecipientRefusal[] RefusedWithTheRest(string error) => [.. Refused, .. Open().Select(r => new RecipientRefusal(r.Id, error))];
    }

    /// <summary>
    /// The answer written in the outcome row of a batch still in flight (<see cref="RecipientOutcomes.LoadRecordedBatchOutcomesAsync"/>),
    /// to pass on instead of calling the provider again. Null when the row cannot say it: the provider counted failures it
    /// did not name (who got it is unknown); the reconciler then records the claim after <see cref="CampaignSendingOptions.ClaimTimeout"/>.
    /// </summary>
    private static async Task<(BatchSent, CampaignBatch)?> RecordedAnswerAsync(IQuerySession session, CampaignBatch batch, IReadOnlyList<BatchShape>? next, int lanes,
        CancellationToken cancellation)
    {
        var known = (await session.LoadRecordedBatchOutcomesAsync(batch.CampaignId, [batch.BatchNumber], cancellation)).SingleOrDefault();
        if (known is null || known.Unknown > 0 || known.Recipients != batch.Recipients.Length) return null;
        BatchSent Sent(BatchOutcome outcome, int delivered = 0, int failed = 0, string? error = null, int notSent = 0) =>
            new(batch.CampaignId, batch.BatchNumber, lanes, delivered, failed, error, null, outcome, OutcomesRecorded: true, NotSent: notSent, Upcoming: next);
        return (known switch
        {
            { NotSent: var notSent } when notSent == known.Recipients => Sent(BatchOutcome.Released),
            { Error: { } error } => Sent(BatchOutcome.Failed, failed: known.Recipients, error: error),
            // Delivered, possibly with a part released by a cancel.
            _ => Sent(BatchOutcome.Accepted, known.Delivered, known.Failed, notSent: known.NotSent),
        }, batch);
    }

    /// <summary>
    /// The provider's named refusals, each reason kept short (they are stored per recipient). An adapter's answer is not
    /// trusted further, since a throw here, after the provider took the batch, would have it sent again: a refusal without
    /// a recipient, of a recipient not in the batch, or repeated, is dropped (its recipient is among the failed nobody
    /// named), one without a reason keeps an empty one, and names that outnumber the failed count are all dropped (who
    /// failed is then unknown; the counts stand).
    /// </summary>
    internal static RecipientRefusal[]? Refused(DispatchResult result, IEnumerable<Recipient> handedOver)
    {
        if (result.Refusals is not { Count: > 0 } refusals) return null;
        var unnamed = handedOver.Select(r => r.Id).ToHashSet();
        var named = refusals.Where(r => r?.RecipientId is { } id && unnamed.Remove(id))
            .Select(r => r with { Reason = Truncate(r.Reason ?? "") }).ToArray();
        return named.Length is > 0 && named.Length <= result.Failed ? named : null;
    }

    private static Task<DispatchResult> StartCall(IMessageDispatcher dispatcher, DispatchRequest request, CancellationToken cancellation)
    {
        try { return dispatcher.DispatchAsync(request, cancellation).AsTask(); }
        catch (Exception e) { return Task.FromException<DispatchResult>(e); } // a provider that throws before its first await
    }

    internal static bool IsInFlight(CampaignState campaign, int batchNumber) => campaign.Phase switch
    {
        CampaignPhase.Sending s => s.Progress.InFlight.ContainsKey(batchNumber),
        CampaignPhase.Cancelling c => c.Progress.InFlight.ContainsKey(batchNumber),
        _ => false,
    };

    /// <summary>
    /// Wait <paramref name="delay"/>, or less if the campaign stops sending meanwhile (checked every
    /// <see cref="CampaignSendingOptions.CancelCheckInterval"/>), keeping the batch's claim alive for the reconciler.
    /// </summary>
    private static async Task BackoffAsync(WaitWatch watch, TimeSpan delay, CampaignSendingOptions options, CancellationToken cancellation)
    {
        var until = DateTime.UtcNow + delay;
        while (DateTime.UtcNow < until)
        {
            var step = until - DateTime.UtcNow;
            await Task.Delay(step < options.CancelCheckInterval ? step : options.CancelCheckInterval, cancellation);
            if (!await watch.StillSendingAsync(cancellation)) return;
        }
    }

    private static string Describe(Exception e) => e is DispatchException ? e.Message : $"{e.GetType().Name}: {e.Message}";

    /// <summary>Why a batch throttled too long failed: stored in its event, so in the same words whatever the node's culture.</summary>
    internal static string ThrottledTooLong(TimeSpan throttledFor, TimeSpan retryAfter, TimeSpan maxWait, string reason) =>
        throttledFor > TimeSpan.Zero
            ? string.Create(CultureInfo.InvariantCulture,
                $"The provider kept asking to slow down for {throttledFor.TotalSeconds:0} s (asked for {retryAfter.TotalSeconds:0.#} s more; at most {maxWait.TotalSeconds:0} s are waited): {reason}")
            // The first wait asked for is already past the limit (a Retry-After of an hour, a rested circuit).
            : string.Create(CultureInfo.InvariantCulture,
                $"The provider asked to wait {retryAfter.TotalSeconds:0.#} s, more than the {maxWait.TotalSeconds:0} s waited at most: {reason}");

    /// <summary>
    /// Provider errors are kept in the events; a runaway message must not bloat every claim's write model. NUL characters
    /// and unpaired surrogates go (<see cref="StorableText"/>): a provider's answer that cannot be stored would fail the
    /// dispatch step's commit and have the batch sent again.
    /// </summary>
    internal static string Truncate(string error) => StorableText.Of(error, MaxErrorLength, "…");

    /// <summary>Longest provider error kept.</summary>
    public const int MaxErrorLength = 500;

    public static async Task<(Events, OutgoingMessages)> Handle(BatchSent sent,
        [WriteAggregate(nameof(BatchSent.CampaignId), LoadStyle = ConcurrencyStyle.Exclusive)] CampaignState campaign,
        TimeProvider clock, IDocumentSession session, ILoggerFactory logs, HeldAnswers held, Envelope envelope, IWolverineRuntime runtime,
        CancellationToken cancellation)
    {
        held.Forget(session.TenantId, sent.CampaignId, sent.BatchNumber); // the answer is committed: the step will not run again
        var now = Handling.Now(clock, campaign);
        CampaignCommand record = sent.Outcome switch
        {
            BatchOutcome.Released => new ReleaseBatch(sent.CampaignId, sent.BatchNumber),
            _ when sent.Error is not null => new RecordBatchFailure(sent.CampaignId, sent.BatchNumber, sent.Error),
            _ => new RecordBatchDelivery(sent.CampaignId, sent.BatchNumber, sent.Delivered, sent.Failed, sent.NotSent),
        };
        var events = Decider.Decide(record, campaign, now).EventsOrThrow().ToList();
        // Already recorded: this is a redelivery, counted once; the first delivery continued the lane. Tried again after an
        // attempt failed, the commit that recorded it may have gone through unseen, and the lane's next hand-over with it.
        if (events.Count == 0)
        {
            if (envelope.Attempts > 1)
                await StrandedSends.ReleaseAsync(sent, campaign, session, runtime, logs.CreateLogger(typeof(SendingHandler)), cancellation);
            return ([], Handling.SettleAgainAfterUnseenCommit(envelope, campaign, events));
        }
        // For the operator: a batch that failed as a whole is in the events and on the report, and in the log.
        foreach (var failed in events.OfType<BatchFailed>())
            logs.CreateLogger(typeof(SendingHandler)).LogWarning("Batch {Batch} of campaign {Campaign} (tenant {Tenant}) failed: {Error}",
                failed.BatchNumber, sent.CampaignId, session.TenantId, failed.Error);

        var state = events.Aggregate((CampaignState?)campaign, CampaignState.Evolve)!;
        // The dispatch step wrote the batch's outcome; a message from an older version did not, and it is written here.
        var messages = Handling.ForgetBatchesWhenFinished(sent.CampaignId, events, session, sent.Refusals, sent.OutcomesRecorded, sent.NotSentRecipients);
        // The lane goes on with the first batch nobody claimed yet, while the campaign has fewer batches in flight than lanes.
        if (state.Phase is CampaignPhase.Sending sending && sending.Progress.InFlight.Count < sent.Lanes
                                                          && FirstUnclaimed(sending.Progress, sending.Plan.Batches) is { } next)
        {
            var shape = (sent.Upcoming ?? (sent.Next is { } known ? [known] : [])).FirstOrDefault(b => b.BatchNumber == next)
                        ?? (await session.LoadBatchShapesAsync(sent.CampaignId, [next], cancellation)).SingleOrDefault()
                        ?? throw MissingBatch(CampaignBatch.IdFor(sent.CampaignId, next));
            var (claimed, send) = Claim(state, shape, sent.Lanes, now);
            events.AddRange(claimed);
            if (send is not null) messages.Add(send);
        }
        // The record that stops a cancelled send appends its outcome (CancelledDuringSend), chained in the tenant's audit.
        return ((await AuditChain.LinkAsync(session, events, cancellation)).ToEvents(), messages);
    }

    /// <summary>
    /// The batches a record of <paramref name="send"/> may claim, read with it by the dispatch step. Batches are claimed in
    /// order and at most <c>Lanes</c> are in flight, this one among them, so every batch before it is claimed and the
    /// record claims one of the next <c>2 × Lanes - 1</c> (at most 63 are read: with more lanes a record may read its shape).
    /// </summary>
    private static int[] Upcoming(SendBatch send) =>
        [.. Enumerable.Range(send.BatchNumber + 1, (int)Math.Clamp(2L * send.Lanes - 1, 0, Math.Min(63, int.MaxValue - (long)send.BatchNumber)))];

    /// <summary>The first batch never claimed, if any (batches are claimed in order, whichever lane frees up).</summary>
    internal static int? FirstUnclaimed(SendProgress progress, int batches)
    {
        var (recorded, number) = (progress.Recorded.Bits, 1);
        // Eight recorded batches a byte: a 10,000-batch send looks at 1,250 bytes under the lock, not 10,000 batches.
        for (var i = 0; i < recorded.Length && recorded[i] == byte.MaxValue; i++) number += 8;
        for (; number <= batches; number++)
            if (!progress.IsClaimed(number)) return number;
        return null;
    }

    /// <summary>Claim a batch: the events, and the message that hands it to the provider once they are committed.</summary>
    private static (IReadOnlyList<ICampaignEvent> Events, SendBatch? Send) Claim(CampaignState campaign, BatchShape batch, int lanes, DateTimeOffset now)
    {
        var decision = Decider.Decide(new ClaimBatch(campaign.Id, batch.BatchNumber, batch.Variant, batch.Recipients), campaign, now);
        return decision.Rejection switch
        {
            // Claimed now. (No events: already in flight, and its SendBatch was committed with that claim.)
            null => (decision.Events, decision.Events.Count > 0 ? new SendBatch(campaign.Id, batch.BatchNumber, lanes) : null),
            // The cancel won: this batch is never sent, and the lane ends.
            { Code: RejectionCode.ClaimLostToCancel } => ([], null),
            var rejection => throw new CampaignRejectedException(rejection),
        };
    }

    private static InvalidOperationException MissingBatch(string id) =>
        new($"Prepared batch {id} is missing: it was deleted while the campaign was still sending.");
}
