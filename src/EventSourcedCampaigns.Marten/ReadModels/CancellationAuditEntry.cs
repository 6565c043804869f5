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
    /// <summary>Refused (a draft, or a fully sent campaign).</summary>
    Rejected,
}

/// <summary>One cancel request, accepted or refused, across all campaigns.</summary>
public sealed record CancellationAuditEntry
{
    /// <summary>The campaign id for an accepted request (a campaign is cancelled at most once); the event id for a refused one.</summary>
    public Guid Id { get; init; }
    public string TenantId { get; init; } = "";
    public Guid CampaignId { get; init; }
    public string ActorId { get; init; } = "";
    public RequestChannel Channel { get; init; }
    public CancelReasonCode ReasonCode { get; init; }
    public string? ReasonText { get; init; }
    public CampaignStatus StatusAtRequest { get; init; }
    public CancelOutcome Outcome { get; init; }
    public RejectionCode? RejectionCode { get; init; }
    public string? RejectionMessage { get; init; }
    public long DeliveredBefore { get; init; }
    public long DeliveredAfter { get; init; }
    public long? NotSent { get; init; }
    public DateTimeOffset RequestedAt { get; init; }
    public DateTimeOffset? EffectiveAt { get; init; }
    public TimeSpan? TimeToStop { get; init; }
}

/// <summary>Builds the cancellation audit: one entry per request, completed when the cancel takes effect.</summary>
public sealed class CancellationAuditProjection : MultiStreamProjection<CancellationAuditEntry, Guid>
{
    public CancellationAuditProjection()
    {
        Identity<IEvent<CancelRequested>>(e => e.StreamId);
        Identity<IEvent<Cancelled>>(e => e.StreamId);
        Identity<IEvent<CancelledDuringSend>>(e => e.StreamId);
        Identity<IEvent<CancelRejected>>(e => e.Id);
    }

    public override CancellationAuditEntry? Evolve(CancellationAuditEntry? entry, Guid id, IEvent e) => (entry, e.Data) switch
    {
        (_, CancelRequested x) => new CancellationAuditEntry
        {
            Id = id, TenantId = e.TenantId, CampaignId = e.StreamId, ActorId = x.RequestedBy.Id, Channel = x.RequestedBy.Channel,
            ReasonCode = x.Reason.Code, ReasonText = x.Reason.Text, StatusAtRequest = x.StatusAtRequest,
            Outcome = CancelOutcome.Stopping, DeliveredBefore = x.DeliveredBefore, RequestedAt = x.RequestedAt,
        },
        (_, CancelRejected x) => new CancellationAuditEntry
        {
            Id = id, TenantId = e.TenantId, CampaignId = e.StreamId, ActorId = x.RequestedBy.Id, Channel = x.RequestedBy.Channel,
            ReasonCode = x.Reason.Code, ReasonText = x.Reason.Text, StatusAtRequest = x.StatusAtRequest,
            Outcome = CancelOutcome.Rejected, RejectionCode = x.Code, RejectionMessage = x.Message, RequestedAt = x.RejectedAt,
        },
        ({ } current, Cancelled x) => current with
        {
            Outcome = CancelOutcome.Cancelled, NotSent = null, EffectiveAt = x.CancelledAt, TimeToStop = x.CancelledAt - x.RequestedAt,
        },
        ({ } current, CancelledDuringSend x) => current with
        {
            Outcome = CancelOutcome.CancelledDuringSend, DeliveredBefore = x.DeliveredBeforeRequest, DeliveredAfter = x.DeliveredAfterRequest,
            NotSent = x.NotSent, EffectiveAt = x.CancelledAt, TimeToStop = x.TimeToStop,
        },
        _ => entry,
    };
}
