namespace EventSourcedCampaigns.Decisions;

/// <summary>
/// Cancel a campaign. Scheduling, Scheduled and Paused campaigns are cancelled at once. A sending campaign
/// stops claiming batches the moment <see cref="CancelRequested"/> is committed; batches already in flight
/// finish, and <see cref="CancelledDuringSend"/> follows when the last of them is recorded.
/// </summary>
public sealed record CancelCampaign(Guid CampaignId, Actor RequestedBy, CancelReason Reason) : CampaignCommand(CampaignId);

/// <summary>The rules of cancelling, in one place.</summary>
public static class CancellingRules
{
    /// <summary>Longest free-text reason kept.</summary>
    public const int MaxReasonLength = 1_000;

    internal static Decision Decide(CancelCampaign c, CampaignState state, DateTimeOffset now)
    {
        if (Validate.Actor(c.RequestedBy) is { } badActor) return Decision.Reject(badActor.Code, badActor.Message);
        if (c.Reason is null || !Enum.IsDefined(c.Reason.Code) || c.Reason.Text?.Length > MaxReasonLength)
            return Decision.Reject(RejectionCode.InvalidReason, $"A cancel needs a known reason code and at most {MaxReasonLength:N0} characters of text.");

        CancelRequested Requested(long delivered = 0, long failed = 0, int inFlight = 0) =>
            new(c.CampaignId, c.RequestedBy, c.Reason, state.Status, delivered, failed, inFlight, now);

        return state.Phase switch
        {
            CampaignPhase.Draft => Decision.Reject(RejectionCode.NotCancellableDraft,
                "This campaign is a draft: nothing is scheduled, so there is nothing to cancel. Delete it or keep editing it."),
            CampaignPhase.Sent => Decision.Reject(RejectionCode.NotCancellableSent,
                "This campaign has already been fully sent. Campaigns that are fully sent can't be cancelled."),
            CampaignPhase.Scheduling or CampaignPhase.ReadyToSend or CampaignPhase.Paused =>
                Decision.Accept(Requested(), new Cancelled(c.CampaignId, now, now)),
            CampaignPhase.Sending { Progress: var p, Plan: var plan } when p.InFlight.IsEmpty =>
                Decision.Accept(Requested(p.Delivered, p.Failed), new CancelledDuringSend(
                    c.CampaignId, p.Delivered, 0, p.Failed, p.NotSent(plan), now, now, TimeSpan.Zero)),
            CampaignPhase.Sending { Progress: var p } => Decision.Accept(Requested(p.Delivered, p.Failed, p.InFlight.Count)),
            // Cancelling, Cancelled, Cancelled During Send: the same outcome again, nothing new.
            _ => Decision.NoChange,
        };
    }

    /// <summary>The audit record of a refused cancel, or null when the refusal is not worth auditing (bad input).</summary>
    public static CancelRejected? AuditRejection(CancelCampaign c, CampaignState? state, Rejection rejection, DateTimeOffset now) =>
        state is not null && rejection.Code is RejectionCode.NotCancellableDraft or RejectionCode.NotCancellableSent
            ? new CancelRejected(c.CampaignId, c.RequestedBy, c.Reason, state.Status, rejection.Code, rejection.Message, now)
            : null;

    /// <summary>The effective end of a mid-send cancel, once nothing is in flight.</summary>
    internal static CancelledDuringSend Stopped(Guid campaignId, CampaignPhase.Cancelling s, DateTimeOffset now) => new(
        campaignId, s.Request.DeliveredBefore, s.Progress.DeliveredAfterRequest, s.Progress.Failed, s.Progress.NotSent(s.Plan),
        s.Request.RequestedAt, now, now - s.Request.RequestedAt);
}
