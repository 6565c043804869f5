using System.Collections.Immutable;
using System.Text.Json.Serialization;

namespace EventSourcedCampaigns;

/// <summary>When and to whom the campaign goes out.</summary>
public sealed record Schedule(DateTimeOffset SendAt, Audience Audience, int BatchSize, DateTimeOffset ScheduledAt);

/// <summary>The prepared audience: how many recipients, in how many batches, per variant.</summary>
public sealed record SendPlan(long Recipients, int Batches, VariantShare[] Variants);

/// <summary>A batch that was claimed and not yet recorded: it is with the provider.</summary>
public sealed record InFlightBatch(string Variant, int Recipients, DateTimeOffset ClaimedAt);

/// <summary>The accepted cancel request.</summary>
public sealed record CancelRequest(
    Actor RequestedBy, CancelReason Reason, CampaignStatus StatusAtRequest, DateTimeOffset RequestedAt, long DeliveredBefore);

/// <summary>What happened to the batches so far. Recipients = Delivered + Failed + in flight + not sent, always.</summary>
public sealed record SendProgress(
    DateTimeOffset StartedAt, long Delivered, long Failed, long DeliveredAfterRequest,
    ImmutableDictionary<int, InFlightBatch> InFlight, BatchSet Recorded)
{
    /// <summary>A send that has just started.</summary>
    public static SendProgress StartedAtTime(DateTimeOffset at) =>
        new(at, 0, 0, 0, ImmutableDictionary<int, InFlightBatch>.Empty, BatchSet.Empty);

    /// <summary>Recipients in batches that are with the provider.</summary>
    public long InFlightRecipients => InFlight.Values.Sum(b => (long)b.Recipients);

    /// <summary>Recipients not yet handed to the provider (and, once cancelled, never to be).</summary>
    public long NotSent(SendPlan plan) => plan.Recipients - Delivered - Failed - InFlightRecipients;

    /// <summary>Whether this batch was claimed (in flight or recorded).</summary>
    public bool IsClaimed(int batchNumber) => InFlight.ContainsKey(batchNumber) || Recorded.Contains(batchNumber);

    /// <summary>Record the outcome of an in-flight batch (a released batch: none delivered, none failed; the recipients
    /// neither delivered nor failed stay counted as not sent).</summary>
    public SendProgress Record(int batchNumber, int delivered, int failed, bool afterRequest) => this with
    {
        Delivered = Delivered + delivered,
        Failed = Failed + failed,
        DeliveredAfterRequest = DeliveredAfterRequest + (afterRequest ? delivered : 0),
        InFlight = InFlight.Remove(batchNumber),
        Recorded = Recorded.Add(batchNumber),
    };
}

/// <summary>The lifecycle phase of a campaign, with exactly the data each phase has.</summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "$phase")]
[JsonDerivedType(typeof(Draft), "draft")]
[JsonDerivedType(typeof(Scheduling), "scheduling")]
[JsonDerivedType(typeof(ReadyToSend), "scheduled")]
[JsonDerivedType(typeof(Paused), "paused")]
[JsonDerivedType(typeof(Sending), "sending")]
[JsonDerivedType(typeof(Cancelling), "cancelling")]
[JsonDerivedType(typeof(Sent), "sent")]
[JsonDerivedType(typeof(Cancelled), "cancelled")]
[JsonDerivedType(typeof(CancelledDuringSend), "cancelled_during_send")]
public abstract record CampaignPhase
{
    /// <summary>The status a marketer sees.</summary>
    [JsonIgnore] public abstract CampaignStatus Status { get; }

    /// <summary>Not scheduled yet: editable, nothing to cancel.</summary>
    public sealed record Draft : CampaignPhase { /// <inheritdoc />
        public override CampaignStatus Status => CampaignStatus.Draft; }

    /// <summary>The audience is being prepared into batches.</summary>
    public sealed record Scheduling(Schedule Schedule, long Prepared, long Total, int BatchesPrepared) : CampaignPhase
    { /// <inheritdoc />
        public override CampaignStatus Status => CampaignStatus.Scheduling; }

    /// <summary>Prepared, waiting for the send time (PushPushGo's "Ready").</summary>
    public sealed record ReadyToSend(Schedule Schedule, SendPlan Plan) : CampaignPhase
    { /// <inheritdoc />
        public override CampaignStatus Status => CampaignStatus.Scheduled; }

    /// <summary>Prepared, on hold.</summary>
    public sealed record Paused(Schedule Schedule, SendPlan Plan) : CampaignPhase
    { /// <inheritdoc />
        public override CampaignStatus Status => CampaignStatus.Paused; }

    /// <summary>Batches are being claimed and dispatched.</summary>
    public sealed record Sending(Schedule Schedule, SendPlan Plan, SendProgress Progress) : CampaignPhase
    { /// <inheritdoc />
        public override CampaignStatus Status => CampaignStatus.Sending; }

    /// <summary>Cancel requested mid-send: no new claims; batches in flight finish.</summary>
    public sealed record Cancelling(Schedule Schedule, SendPlan Plan, SendProgress Progress, CancelRequest Request) : CampaignPhase
    { /// <inheritdoc />
        public override CampaignStatus Status => CampaignStatus.Cancelling; }

    /// <summary>Every batch recorded. Terminal.</summary>
    public sealed record Sent(Schedule Schedule, SendPlan Plan, SendProgress Progress, DateTimeOffset CompletedAt) : CampaignPhase
    { /// <inheritdoc />
        public override CampaignStatus Status => CampaignStatus.Sent; }

    /// <summary>Cancelled before anything was sent. Terminal.</summary>
    public sealed record Cancelled(Schedule Schedule, CancelRequest Request, DateTimeOffset CancelledAt) : CampaignPhase
    { /// <inheritdoc />
        public override CampaignStatus Status => CampaignStatus.Cancelled; }

    /// <summary>Cancelled mid-send, after the last in-flight batch was recorded. Terminal.</summary>
    public sealed record CancelledDuringSend(
        Schedule Schedule, SendPlan Plan, SendProgress Progress, CancelRequest Request, DateTimeOffset CancelledAt) : CampaignPhase
    { /// <inheritdoc />
        public override CampaignStatus Status => CampaignStatus.CancelledDuringSend; }
}

/// <summary>The write model of one campaign: what decisions need, nothing more.</summary>
public sealed record CampaignState(
    Guid Id, string Name, Channel Channel, Variant[] Variants, CloneOrigin? ClonedFrom,
    CampaignPhase Phase, DateTimeOffset CreatedAt, DateTimeOffset LastChangedAt)
{
    /// <summary>The status a marketer sees.</summary>
    [JsonIgnore] public CampaignStatus Status => Phase.Status;

    /// <summary>
    /// The clone made for this campaign's remainder (the recipients a send cancelled midway did not reach), once there is
    /// one: a second would send to the same recipients again.
    /// </summary>
    public Guid? RemainderClone { get; init; }

    /// <summary>Sent, Cancelled and Cancelled During Send never change again (only clones come from them).</summary>
    [JsonIgnore] public bool IsFinished => Status is CampaignStatus.Sent or CampaignStatus.Cancelled or CampaignStatus.CancelledDuringSend;

    /// <summary>Fold one event into the state. Pure: every time comes from the event, never a clock.</summary>
    public static CampaignState? Evolve(CampaignState? state, ICampaignEvent @event) => (state, @event) switch
    {
        (null, CampaignCreated e) => new CampaignState(
            e.CampaignId, e.Name, e.Channel, e.Variants, e.ClonedFrom, new CampaignPhase.Draft(), e.CreatedAt, e.CreatedAt),
        (null, _) => null,
        ({ } s, _) => s.EvolveExisting(@event),
    };

    /// <summary>
    /// The status after <paramref name="event"/>, given the status before it (null: no campaign yet, and a null
    /// result: still none). The one event-to-status table of the domain: <see cref="Evolve"/> moves the phase
    /// exactly this way (a test holds the two together), and the read models call this instead of keeping a copy.
    /// </summary>
    public static CampaignStatus? StatusAfter(CampaignStatus? current, ICampaignEvent @event) => (current, @event) switch
    {
        (null, CampaignCreated) => CampaignStatus.Draft,
        (null, _) => null,
        (_, Scheduled) => CampaignStatus.Scheduling,
        (CampaignStatus.Scheduling, SchedulingCompleted) => CampaignStatus.Scheduled,
        (CampaignStatus.Scheduling, SchedulingFailed) => CampaignStatus.Draft,
        (CampaignStatus.Scheduled, SchedulePaused or SendHeldAsLate) => CampaignStatus.Paused,
        (CampaignStatus.Paused, ScheduleResumed) => CampaignStatus.Scheduled,
        (_, ScheduleReverted) => CampaignStatus.Draft,
        (CampaignStatus.Scheduled, SendStarted) => CampaignStatus.Sending,
        (CampaignStatus.Sending, SendCompleted) => CampaignStatus.Sent,
        (CampaignStatus.Sending, CancelRequested) => CampaignStatus.Cancelling,
        (CampaignStatus.Scheduling or CampaignStatus.Scheduled or CampaignStatus.Paused, CancelRequested) => CampaignStatus.Cancelled,
        (CampaignStatus.Cancelling, CancelledDuringSend) => CampaignStatus.CancelledDuringSend,
        // Everything else keeps the status: progress and batch events, edits, audit-only events, and events that
        // do not fit the status (never produced by the decider).
        _ => current,
    };

    private CampaignState EvolveExisting(ICampaignEvent @event) => @event switch
    {
        CampaignEdited e => this with { Name = e.Name, Variants = e.Variants, LastChangedAt = e.EditedAt },
        Scheduled e => Move(new CampaignPhase.Scheduling(new Schedule(e.SendAt, e.Audience, e.BatchSize, e.ScheduledAt), 0, 0, 0), e.ScheduledAt),
        SchedulingProgressed e when Phase is CampaignPhase.Scheduling p =>
            Move(p with { Prepared = e.RecipientsPrepared, Total = e.RecipientsTotal, BatchesPrepared = e.BatchesPrepared }, e.ProgressedAt),
        SchedulingCompleted e when Phase is CampaignPhase.Scheduling p =>
            Move(new CampaignPhase.ReadyToSend(p.Schedule, new SendPlan(e.Recipients, e.Batches, e.Variants)), e.CompletedAt),
        SchedulePaused e when Phase is CampaignPhase.ReadyToSend p => Move(new CampaignPhase.Paused(p.Schedule, p.Plan), e.PausedAt),
        SendHeldAsLate e when Phase is CampaignPhase.ReadyToSend p => Move(new CampaignPhase.Paused(p.Schedule, p.Plan), e.HeldAt),
        ScheduleResumed e when Phase is CampaignPhase.Paused p => Move(new CampaignPhase.ReadyToSend(p.Schedule, p.Plan), e.ResumedAt),
        ScheduleReverted e => Move(new CampaignPhase.Draft(), e.RevertedAt),
        SchedulingFailed e when Phase is CampaignPhase.Scheduling => Move(new CampaignPhase.Draft(), e.FailedAt),
        SendStarted e when Phase is CampaignPhase.ReadyToSend p =>
            Move(new CampaignPhase.Sending(p.Schedule, p.Plan, SendProgress.StartedAtTime(e.StartedAt)), e.StartedAt),
        BatchClaimed e when Phase is CampaignPhase.Sending p => Move(p with
        {
            Progress = p.Progress with { InFlight = p.Progress.InFlight.SetItem(e.BatchNumber, new InFlightBatch(e.Variant, e.Recipients, e.ClaimedAt)) },
        }, e.ClaimedAt),
        // Its NotSent part, like a released batch, is neither delivered nor failed: it counts as not sent.
        BatchDelivered e => WithProgress(progress => progress.Record(e.BatchNumber, e.Delivered, e.Failed, e.AfterCancelRequest), e.DeliveredAt),
        BatchFailed e => WithProgress(progress => progress.Record(e.BatchNumber, 0, e.Recipients, e.AfterCancelRequest), e.FailedAt),
        // Neither delivered nor failed: out of flight and recorded, so its recipients count as not sent.
        BatchReleased e => WithProgress(progress => progress.Record(e.BatchNumber, 0, 0, afterRequest: true), e.ReleasedAt),
        SendCompleted e when Phase is CampaignPhase.Sending p => Move(new CampaignPhase.Sent(p.Schedule, p.Plan, p.Progress, e.CompletedAt), e.CompletedAt),
        CancelRequested e => ApplyCancelRequest(e),
        Cancelled e when Phase is CampaignPhase.Cancelled p => Move(p with { CancelledAt = e.CancelledAt }, e.CancelledAt),
        CancelledDuringSend e when Phase is CampaignPhase.Cancelling p =>
            Move(new CampaignPhase.CancelledDuringSend(p.Schedule, p.Plan, p.Progress, p.Request, e.CancelledAt), e.CancelledAt),
        // A clone for the remainder cancelled before it sent passes its source's remainder on (Cloning.DraftFrom): once too.
        CampaignCloned { RemainderOnly: true } e when Phase is CampaignPhase.CancelledDuringSend
            || (Phase is CampaignPhase.Cancelled && ClonedFrom is { RemainderOnly: true }) => this with { RemainderClone = e.CloneId },
        // Audit-only events, and events that do not fit the phase (never produced by the decider).
        _ => this,
    };

    private CampaignState ApplyCancelRequest(CancelRequested e)
    {
        var request = new CancelRequest(e.RequestedBy, e.Reason, e.StatusAtRequest, e.RequestedAt, e.DeliveredBefore);
        return Phase switch
        {
            CampaignPhase.Sending p => Move(new CampaignPhase.Cancelling(p.Schedule, p.Plan, p.Progress, request), e.RequestedAt),
            CampaignPhase.Scheduling p => Move(new CampaignPhase.Cancelled(p.Schedule, request, e.RequestedAt), e.RequestedAt),
            CampaignPhase.ReadyToSend p => Move(new CampaignPhase.Cancelled(p.Schedule, request, e.RequestedAt), e.RequestedAt),
            CampaignPhase.Paused p => Move(new CampaignPhase.Cancelled(p.Schedule, request, e.RequestedAt), e.RequestedAt),
            _ => this,
        };
    }

    private CampaignState WithProgress(Func<SendProgress, SendProgress> change, DateTimeOffset at) => Phase switch
    {
        CampaignPhase.Sending p => Move(p with { Progress = change(p.Progress) }, at),
        CampaignPhase.Cancelling p => Move(p with { Progress = change(p.Progress) }, at),
        _ => this,
    };

    private CampaignState Move(CampaignPhase phase, DateTimeOffset at) =>
        this with { Phase = phase, LastChangedAt = at > LastChangedAt ? at : LastChangedAt };

    /// <summary>Fold a whole history.</summary>
    public static CampaignState? From(IEnumerable<ICampaignEvent> events) => events.Aggregate((CampaignState?)null, Evolve);
}
