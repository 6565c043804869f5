namespace EventSourcedCampaigns;

// Every event of the campaign stream. Immutable, past tense, and stored under the name in
// [StoredEventName], which must never change once released: rename the record freely, never the name.

/// <summary>Marker for the events of a campaign stream.</summary>
public interface ICampaignEvent
{
    /// <summary>The campaign (stream) the event belongs to.</summary>
    Guid CampaignId { get; }
}

/// <summary>A draft campaign was created, possibly as a clone of another campaign.</summary>
[StoredEventName("campaign_created")]
public sealed record CampaignCreated(
    Guid CampaignId, string Name, Channel Channel, Variant[] Variants, CloneOrigin? ClonedFrom,
    Actor CreatedBy, DateTimeOffset CreatedAt) : ICampaignEvent;

/// <summary>Name or content changed (only in Draft or Paused).</summary>
[StoredEventName("campaign_edited")]
public sealed record CampaignEdited(
    Guid CampaignId, string Name, Variant[] Variants, Actor EditedBy, DateTimeOffset EditedAt) : ICampaignEvent;

/// <summary>The marketer scheduled the campaign; preparing the audience starts now.</summary>
[StoredEventName("campaign_scheduled")]
public sealed record Scheduled(
    Guid CampaignId, DateTimeOffset SendAt, Audience Audience, int BatchSize,
    Actor ScheduledBy, DateTimeOffset ScheduledAt) : ICampaignEvent;

/// <summary>Audience preparation advanced.</summary>
[StoredEventName("campaign_scheduling_progressed")]
public sealed record SchedulingProgressed(
    Guid CampaignId, long RecipientsPrepared, long RecipientsTotal, int BatchesPrepared,
    DateTimeOffset ProgressedAt) : ICampaignEvent;

/// <summary>Every recipient is in a batch; the campaign is ready to send at its send time.</summary>
[StoredEventName("campaign_scheduling_completed")]
public sealed record SchedulingCompleted(
    Guid CampaignId, long Recipients, int Batches, VariantShare[] Variants, DateTimeOffset CompletedAt) : ICampaignEvent;

/// <summary>The audience could not be resolved (for example an unknown list): the campaign is a draft again,
/// so the marketer can fix it and schedule again.</summary>
[StoredEventName("campaign_scheduling_failed")]
public sealed record SchedulingFailed(Guid CampaignId, string Reason, DateTimeOffset FailedAt) : ICampaignEvent;

/// <summary>A scheduled campaign was put on hold.</summary>
[StoredEventName("campaign_schedule_paused")]
public sealed record SchedulePaused(Guid CampaignId, Actor PausedBy, DateTimeOffset PausedAt) : ICampaignEvent;

/// <summary>A paused campaign is scheduled again.</summary>
[StoredEventName("campaign_schedule_resumed")]
public sealed record ScheduleResumed(Guid CampaignId, Actor ResumedBy, DateTimeOffset ResumedAt) : ICampaignEvent;

/// <summary>
/// The send was due to start <see cref="Lateness"/> after its time, more than the <see cref="MaxLateness"/> allowed
/// (for example because the service was down): instead of going out late, the campaign was paused, so the marketer
/// decides. Resuming sends it at once; cancelling works as for any paused campaign.
/// </summary>
[StoredEventName("campaign_send_held_as_late")]
public sealed record SendHeldAsLate(
    Guid CampaignId, DateTimeOffset SendAt, TimeSpan Lateness, TimeSpan MaxLateness, DateTimeOffset HeldAt) : ICampaignEvent;

/// <summary>The schedule was withdrawn and the campaign is a draft again (not a cancellation).</summary>
[StoredEventName("campaign_schedule_reverted")]
public sealed record ScheduleReverted(Guid CampaignId, Actor RevertedBy, DateTimeOffset RevertedAt) : ICampaignEvent;

/// <summary>The send time arrived and batches may now be claimed.</summary>
[StoredEventName("campaign_send_started")]
public sealed record SendStarted(Guid CampaignId, long Recipients, int Batches, DateTimeOffset StartedAt) : ICampaignEvent;

/// <summary>
/// The linearization point of a batch: appended (with optimistic concurrency) before the batch is
/// handed to the provider. A claim can only be appended while the campaign is Sending, so once
/// <see cref="CancelRequested"/> is committed no batch can start.
/// </summary>
[StoredEventName("campaign_batch_claimed")]
public sealed record BatchClaimed(
    Guid CampaignId, int BatchNumber, string Variant, int Recipients, DateTimeOffset ClaimedAt) : ICampaignEvent;

/// <summary>The provider accepted a claimed batch. <see cref="AfterCancelRequest"/> marks a batch that was
/// in flight when the cancel was requested. <see cref="NotSent"/>: the part of the batch never handed to the provider,
/// because the cancel was committed while it waited to be tried again after an earlier attempt got the rest through
/// (counted as not sent, as a released batch's recipients); 0 in events stored before it was recorded.
/// Delivered + Failed + NotSent = the batch's recipients.</summary>
[StoredEventName("campaign_batch_delivered")]
public sealed record BatchDelivered(
    Guid CampaignId, int BatchNumber, string Variant, int Delivered, int Failed, bool AfterCancelRequest,
    DateTimeOffset DeliveredAt, int NotSent = 0) : ICampaignEvent;

/// <summary>The provider permanently refused a claimed batch: every recipient in it counts as failed.</summary>
[StoredEventName("campaign_batch_failed")]
public sealed record BatchFailed(
    Guid CampaignId, int BatchNumber, string Variant, int Recipients, string Error, bool AfterCancelRequest,
    DateTimeOffset FailedAt) : ICampaignEvent;

/// <summary>A claimed batch whose provider call never started, released because the campaign was cancelled:
/// its recipients are counted as not sent.</summary>
[StoredEventName("campaign_batch_released")]
public sealed record BatchReleased(
    Guid CampaignId, int BatchNumber, string Variant, int Recipients, DateTimeOffset ReleasedAt) : ICampaignEvent;

/// <summary>Every batch was recorded without a cancel: the campaign is fully sent.</summary>
[StoredEventName("campaign_send_completed")]
public sealed record SendCompleted(Guid CampaignId, long Delivered, long Failed, DateTimeOffset CompletedAt) : ICampaignEvent;

/// <summary>Someone asked to cancel. Every accepted cancel starts with this event, whatever the status;
/// <see cref="Cancelled"/> or <see cref="CancelledDuringSend"/> records when it took effect.
/// An audit event (<see cref="ICancelAuditEvent"/>).</summary>
[StoredEventName("campaign_cancel_requested")]
public sealed record CancelRequested(
    Guid CampaignId, Actor RequestedBy, CancelReason Reason, CampaignStatus StatusAtRequest,
    long DeliveredBefore, long FailedBefore, int BatchesInFlight, DateTimeOffset RequestedAt,
    AuditLink? Audit = null) : ICancelAuditEvent
{
    DateTimeOffset ICancelAuditEvent.At => RequestedAt;
    IAuditChainedEvent IAuditChainedEvent.WithAudit(AuditLink link) => this with { Audit = link };
}

/// <summary>A cancel took effect before anything was sent. <see cref="NotSent"/>: the recipients the campaign had at
/// the cancel, none of whom it reached (those prepared so far when cancelled while Scheduling, the whole prepared
/// audience when Scheduled or Paused); null in events stored before it was recorded. In the audit hash chain
/// (<see cref="IAuditChainedEvent"/>), after the <see cref="CancelRequested"/> it answers.</summary>
[StoredEventName("campaign_cancelled")]
public sealed record Cancelled(Guid CampaignId, DateTimeOffset RequestedAt, DateTimeOffset CancelledAt, long? NotSent = null,
    AuditLink? Audit = null) : IAuditChainedEvent
{
    IAuditChainedEvent IAuditChainedEvent.WithAudit(AuditLink link) => this with { Audit = link };
}

/// <summary>A mid-send cancel took effect: the last batch in flight was recorded. In the audit hash chain
/// (<see cref="IAuditChainedEvent"/>): the counts after a cancel are proven as its request is.</summary>
[StoredEventName("campaign_cancelled_during_send")]
public sealed record CancelledDuringSend(
    Guid CampaignId, long DeliveredBeforeRequest, long DeliveredAfterRequest, long Failed, long NotSent,
    DateTimeOffset RequestedAt, DateTimeOffset CancelledAt, TimeSpan TimeToStop, AuditLink? Audit = null) : IAuditChainedEvent
{
    IAuditChainedEvent IAuditChainedEvent.WithAudit(AuditLink link) => this with { Audit = link };
}

/// <summary>
/// A cancel was refused: by the rules (a draft, a fully sent campaign), as bad input (no actor, an unknown reason, a
/// text too long: <see cref="RequestedBy"/> and <see cref="Reason"/> are then a truncated, cleaned copy of what was
/// sent, or null when nothing was), or because the campaign does not exist (<see cref="StatusAtRequest"/> null;
/// stored in the tenant's audit stream, there being no campaign stream). Recorded for the audit history only: it
/// changes no state.
/// </summary>
[StoredEventName("campaign_cancel_rejected")]
public sealed record CancelRejected(
    Guid CampaignId, Actor? RequestedBy, CancelReason? Reason, CampaignStatus? StatusAtRequest,
    RejectionCode Code, string Message, DateTimeOffset RejectedAt, AuditLink? Audit = null) : ICancelAuditEvent
{
    DateTimeOffset ICancelAuditEvent.At => RejectedAt;
    IAuditChainedEvent IAuditChainedEvent.WithAudit(AuditLink link) => this with { Audit = link };
}

/// <summary>A cancel of a campaign whose cancel was already accepted (Cancelling, Cancelled, Cancelled During
/// Send): the same outcome again, recorded for the audit history only; it changes no state.</summary>
[StoredEventName("campaign_cancel_repeated")]
public sealed record CancelRepeated(
    Guid CampaignId, Actor RequestedBy, CancelReason Reason, CampaignStatus StatusAtRequest,
    DateTimeOffset RepeatedAt, AuditLink? Audit = null) : ICancelAuditEvent
{
    DateTimeOffset ICancelAuditEvent.At => RepeatedAt;
    IAuditChainedEvent IAuditChainedEvent.WithAudit(AuditLink link) => this with { Audit = link };
}

/// <summary>
/// An event of a tenant's audit hash chain: every cancel attempt (<see cref="ICancelAuditEvent"/>) and the outcome of an
/// accepted one (<see cref="Cancelled"/>, <see cref="CancelledDuringSend"/>). The store chains them (<see cref="Audit"/>);
/// the decider leaves the link null.
/// </summary>
public interface IAuditChainedEvent : ICampaignEvent
{
    /// <summary>This event's place in the tenant's audit hash chain; null until the store stamps it (and in
    /// events stored before the chain, or before outcomes joined it).</summary>
    AuditLink? Audit { get; }

    /// <summary>A copy with this link.</summary>
    IAuditChainedEvent WithAudit(AuditLink link);
}

/// <summary>An event of the cancellation audit: one per cancel attempt, whatever its outcome.</summary>
public interface ICancelAuditEvent : IAuditChainedEvent
{
    /// <summary>Who asked (null: a malformed request named nobody).</summary>
    Actor? RequestedBy { get; }

    /// <summary>When the attempt was made.</summary>
    DateTimeOffset At { get; }
}

/// <summary>
/// A link of a tenant's audit hash chain: the event's <see cref="Position"/> (1, 2, ... per tenant), the SHA-256
/// (lower-case hex) of the previous audit event of the tenant (64 zeros for the first), and this event's own hash.
/// The hash input is documented in docs/security.md ("Audit integrity").
/// </summary>
public sealed record AuditLink(long Position, string PreviousHash, string Hash);

/// <summary>This finished campaign was cloned into a new draft (recorded in the source).</summary>
[StoredEventName("campaign_cloned")]
public sealed record CampaignCloned(
    Guid CampaignId, Guid CloneId, bool RemainderOnly, Actor ClonedBy, DateTimeOffset ClonedAt) : ICampaignEvent;

/// <summary>The full list of campaign event types, for registration with a store.</summary>
public static class CampaignEvents
{
    /// <summary>Every event type of the campaign stream.</summary>
    public static IReadOnlyList<Type> All { get; } =
    [
        typeof(CampaignCreated), typeof(CampaignEdited), typeof(Scheduled), typeof(SchedulingProgressed),
        typeof(SchedulingCompleted), typeof(SchedulingFailed), typeof(SchedulePaused), typeof(ScheduleResumed), typeof(ScheduleReverted),
        typeof(SendHeldAsLate),
        typeof(SendStarted), typeof(BatchClaimed), typeof(BatchDelivered), typeof(BatchFailed), typeof(BatchReleased),
        typeof(SendCompleted),
        typeof(CancelRequested), typeof(Cancelled), typeof(CancelledDuringSend), typeof(CancelRejected),
        typeof(CampaignCloned),
        // Added after the first release.
        typeof(CancelRepeated),
    ];

    /// <summary>The stored name of an event type.</summary>
    public static string StoredName(Type eventType) =>
        eventType.GetCustomAttributes(typeof(StoredEventNameAttribute), false) is [StoredEventNameAttribute a]
            ? a.Name
            : throw new ArgumentException($"{eventType.Name} has no [StoredEventName].", nameof(eventType));
}
