using JasperFx.Events;
using Marten.Events.Projections;

namespace EventSourcedCampaigns.Marten.ReadModels;

/// <summary>What became of a cancel request.</summary>
public enum CancelOutcome
{
    /// <summary>Accepted mid-send; batches in flight are finishing.</summary>
    Stopping,
    /// <summary>Took effect before anything was sent.</summary>
    Cancelled,
    /// <summary>Took effect mid-send, once the last in-flight batch was recorded.</summary>
    CancelledDuringSend,
    /// <summary>Refused by the rules (a draft, or a fully sent campaign).</summary>
    Rejected,
    /// <summary>A cancel of a campaign whose cancel was already accepted: the same outcome, nothing changed.</summary>
    Repeated,
    /// <summary>Refused as malformed (no actor, an unknown reason, a text too long, ...): nothing changed.</summary>
    RefusedBadInput,
    /// <summary>Refused: the tenant has no campaign with this id.</summary>
    RefusedUnknownCampaign,
}

/// <summary>One cancel attempt, whatever its outcome, across all campaigns.</summary>
public sealed record CancellationAuditEntry
{
    /// <summary>The campaign id for an accepted request (a campaign is cancelled at most once); the event id for any other attempt.</summary>
    public Guid Id { get; init; }
    public string TenantId { get; init; } = "";
    public Guid CampaignId { get; init; }
    /// <summary>
    /// The campaign's current name, read from the Campaigns list with the page; null when the tenant has no such campaign
    /// (a refused cancel of an unknown id). Not stored with the entry, so that a rename shows at once: an entry loaded other
    /// than by the audit queries has it null.
    /// </summary>
    public string? CampaignName { get; init; }
    public string ActorId { get; init; } = "";
    public RequestChannel Channel { get; init; }
    /// <summary>Null for a refused attempt that gave no known reason code.</summary>
    public CancelReasonCode? ReasonCode { get; init; }
    public string? ReasonText { get; init; }
    /// <summary>Null for a cancel of a campaign that does not exist.</summary>
    public CampaignStatus? StatusAtRequest { get; init; }
    public CancelOutcome Outcome { get; init; }
    public RejectionCode? RejectionCode { get; init; }
    public string? RejectionMessage { get; init; }
    public long DeliveredBefore { get; init; }
    public long DeliveredAfter { get; init; }
    /// <summary>Recipients whose delivery failed, once the cancel took effect (0 before the send); null otherwise. With it the counts add up to the recipients.</summary>
    public long? Failed { get; init; }
    public long? NotSent { get; init; }
    public DateTimeOffset RequestedAt { get; init; }
    public DateTimeOffset? EffectiveAt { get; init; }
    public TimeSpan? TimeToStop { get; init; }
    /// <summary>The attempt's position in the tenant's audit hash chain (null for attempts stored before the chain existed).</summary>
    public long? ChainPosition { get; init; }
    /// <summary>The position of the cancel's outcome (<see cref="Cancelled"/>, <see cref="CancelledDuringSend"/>) in the same
    /// chain, which proves the counts and times after the request; null until it takes effect, and for outcomes stored before
    /// outcomes were chained.</summary>
    public long? OutcomeChainPosition { get; init; }
}

/// <summary>Builds the cancellation audit: one entry per attempt, an accepted one completed when the cancel takes effect.</summary>
public sealed class CancellationAuditProjection : MultiStreamProjection<CancellationAuditEntry, Guid>
{
    /// <summary>The events the audit reads.</summary>
    internal static readonly Type[] EventTypes = [typeof(CancelRequested), typeof(Cancelled), typeof(CancelledDuringSend), typeof(CancelRejected), typeof(CancelRepeated)];

    public CancellationAuditProjection()
    {
        Identity<IEvent<CancelRequested>>(IdentityOf);
        Identity<IEvent<Cancelled>>(IdentityOf);
        Identity<IEvent<CancelledDuringSend>>(IdentityOf);
        Identity<IEvent<CancelRejected>>(IdentityOf);
        Identity<IEvent<CancelRepeated>>(IdentityOf);
        // Without an allow list the daemon fetches every event for these five types (with Evolve Marten cannot infer
        // them): a rebuild read the whole store, about 300 events per cancel attempt, to find them.
        foreach (var type in EventTypes) IncludeType(type);
    }

    /// <summary>The entry an event belongs to: the campaign's accepted cancel, or an attempt of its own (a refused or repeated cancel).</summary>
    internal static Guid IdentityOf(IEvent e) => e.Data is CancelRejected or CancelRepeated ? e.Id : e.StreamId;

    public override CancellationAuditEntry? Evolve(CancellationAuditEntry? entry, Guid id, IEvent e) => (entry, e.Data) switch
    {
        (_, CancelRequested x) => new CancellationAuditEntry
        {
            Id = id, TenantId = e.TenantId, CampaignId = e.StreamId, ActorId = x.RequestedBy.Id, Channel = x.RequestedBy.Channel,
            ReasonCode = x.Reason.Code, ReasonText = x.Reason.Text, StatusAtRequest = x.StatusAtRequest,
            Outcome = CancelOutcome.Stopping, DeliveredBefore = x.DeliveredBefore, RequestedAt = x.RequestedAt,
            ChainPosition = x.Audit?.Position,
        },
        (_, CancelRejected x) => new CancellationAuditEntry
        {
            // A cancel of an unknown campaign is kept in the tenant's audit stream: the campaign is the one it named.
            Id = id, TenantId = e.TenantId, CampaignId = x.CampaignId, ActorId = x.RequestedBy?.Id ?? "",
            Channel = x.RequestedBy?.Channel ?? default, ReasonCode = x.Reason?.Code, ReasonText = x.Reason?.Text,
            StatusAtRequest = x.StatusAtRequest, Outcome = OutcomeOf(x.Code), RejectionCode = x.Code, RejectionMessage = x.Message,
            RequestedAt = x.RejectedAt, ChainPosition = x.Audit?.Position,
        },
        (_, CancelRepeated x) => new CancellationAuditEntry
        {
            Id = id, TenantId = e.TenantId, CampaignId = x.CampaignId, ActorId = x.RequestedBy.Id, Channel = x.RequestedBy.Channel,
            ReasonCode = x.Reason.Code, ReasonText = x.Reason.Text, StatusAtRequest = x.StatusAtRequest,
            Outcome = CancelOutcome.Repeated, RequestedAt = x.RepeatedAt, ChainPosition = x.Audit?.Position,
        },
        // Before the send: nothing delivered before or after the request (DeliveredBefore is CancelRequested's 0), and
        // every recipient the campaign had is not sent, the figure the report and the list show (null in events stored
        // before Cancelled recorded it).
        ({ } current, Cancelled x) => current with
        {
            Outcome = CancelOutcome.Cancelled, DeliveredAfter = 0, Failed = 0, NotSent = x.NotSent, EffectiveAt = x.CancelledAt,
            TimeToStop = x.CancelledAt - x.RequestedAt, OutcomeChainPosition = x.Audit?.Position,
        },
        ({ } current, CancelledDuringSend x) => current with
        {
            Outcome = CancelOutcome.CancelledDuringSend, DeliveredBefore = x.DeliveredBeforeRequest, DeliveredAfter = x.DeliveredAfterRequest,
            Failed = x.Failed, NotSent = x.NotSent, EffectiveAt = x.CancelledAt, TimeToStop = x.TimeToStop,
            OutcomeChainPosition = x.Audit?.Position,
        },
        _ => entry,
    };

    /// <summary>Refused by the rules, refused as bad input, or refused for want of a campaign.</summary>
    public static CancelOutcome OutcomeOf(RejectionCode code) => code switch
    {
        RejectionCode.NotCancellableDraft or RejectionCode.NotCancellableSent => CancelOutcome.Rejected,
        RejectionCode.CampaignNotFound => CancelOutcome.RefusedUnknownCampaign,
        _ => CancelOutcome.RefusedBadInput,
    };
}
