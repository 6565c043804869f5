using System.Globalization;
using static System.FormattableString;

namespace EventSourcedCampaigns.Decisions;

/// <summary>
/// Cancel a campaign. Scheduling, Scheduled and Paused campaigns are cancelled at once. A sending campaign
/// stops claiming batches the moment <see cref="CancelRequested"/> is committed; batches already in flight
/// finish, and <see cref="CancelledDuringSend"/> follows when the last of them is recorded. A cancel without a
/// <paramref name="Reason"/> is refused (<see cref="RejectionCode.InvalidReason"/>), and the attempt is audited.
/// </summary>
public sealed record CancelCampaign(Guid CampaignId, Actor RequestedBy, CancelReason? Reason) : CampaignCommand(CampaignId);

/// <summary>The rules of cancelling, in one place.</summary>
public static class CancellingRules
{
    /// <summary>Longest free-text reason kept.</summary>
    public const int MaxReasonLength = 1_000;

    internal static Decision Decide(CancelCampaign c, CampaignState state, DateTimeOffset now)
    {
        if (Validate.Actor(c.RequestedBy) is { } badActor) return Decision.Reject(badActor.Code, badActor.Message);
        if (c.Reason is not { } given || !Enum.IsDefined(given.Code) || Validate.HasNul(given.Text) || (Kept(given).Text is { } text && CampaignLimits.LengthOf(text) > MaxReasonLength))
            return Decision.Reject(RejectionCode.InvalidReason,
                Invariant($"A cancel needs a known reason code and at most {MaxReasonLength:N0} characters of text, without NUL characters."));

        var reason = Kept(given);
        CancelRequested Requested(long delivered = 0, long failed = 0, int inFlight = 0) =>
            new(c.CampaignId, c.RequestedBy, reason, state.Status, delivered, failed, inFlight, now);

        return state.Phase switch
        {
            CampaignPhase.Draft => Decision.Reject(RejectionCode.NotCancellableDraft,
                "This campaign is a draft: nothing is scheduled, so there is nothing to cancel. Keep editing it, or schedule it when it is ready."),
            CampaignPhase.Sent => Decision.Reject(RejectionCode.NotCancellableSent,
                "This campaign has already been fully sent. Campaigns that are fully sent can't be cancelled."),
            // Nothing was sent: every recipient prepared so far (the whole audience once scheduled) is not sent.
            CampaignPhase.Scheduling { Prepared: var prepared } => Decision.Accept(Requested(), new Cancelled(c.CampaignId, now, now, prepared)),
            CampaignPhase.ReadyToSend { Plan: var plan } => Decision.Accept(Requested(), new Cancelled(c.CampaignId, now, now, plan.Recipients)),
            CampaignPhase.Paused { Plan: var plan } => Decision.Accept(Requested(), new Cancelled(c.CampaignId, now, now, plan.Recipients)),
            CampaignPhase.Sending { Progress: var p, Plan: var plan } when p.InFlight.IsEmpty =>
                Decision.Accept(Requested(p.Delivered, p.Failed), new CancelledDuringSend(
                    c.CampaignId, p.Delivered, 0, p.Failed, p.NotSent(plan), now, now, TimeSpan.Zero)),
            CampaignPhase.Sending { Progress: var p } => Decision.Accept(Requested(p.Delivered, p.Failed, p.InFlight.Count)),
            // Cancelling, Cancelled, Cancelled During Send: the same outcome again, nothing new.
            _ => Decision.NoChange,
        };
    }

    /// <summary>
    /// Longest actor id kept in the audit record of a refused request: any valid one whole (cut shorter, a refusal of an actor
    /// with a long id was not found by the audit's actor filter, which its accepted cancels were); a longer one is cut.
    /// </summary>
    public const int MaxAuditedActorIdLength = CampaignLimits.MaxActorIdLength;

    /// <summary>
    /// The audit record of a cancel attempt that the decision itself does not record: a repeat of an accepted cancel
    /// (<see cref="CancelRepeated"/>), or any refusal (<see cref="CancelRejected"/> with the rejection's code: the
    /// rules, bad input, or an unknown campaign, whose <c>StatusAtRequest</c> is null). Null when the decision's own
    /// events are the record (an accepted cancel's <see cref="CancelRequested"/>). It changes no state. The actor and
    /// reason of a refused request are copied in a safe form (<see cref="SafeText"/>).
    /// </summary>
    public static ICancelAuditEvent? AuditOf(CancelCampaign c, CampaignState? state, Decision decision, DateTimeOffset now) =>
        decision.Rejection is { } rejection ? AuditRejection(c, state, rejection, now)
        : decision.Events.Count == 0 && c.Reason is { } reason
          && state?.Status is CampaignStatus.Cancelling or CampaignStatus.Cancelled or CampaignStatus.CancelledDuringSend
            ? new CancelRepeated(c.CampaignId, c.RequestedBy, Kept(reason), state.Status, now)
            : null;

    /// <summary>The audit record of a refused cancel, whatever the refusal (the input is kept in a safe form).</summary>
    public static CancelRejected AuditRejection(CancelCampaign c, CampaignState? state, Rejection rejection, DateTimeOffset now) =>
        new(c.CampaignId, SafeActor(c.RequestedBy), SafeReason(c.Reason), state?.Status, rejection.Code, rejection.Message, now);

    private static Actor? SafeActor(Actor? actor) =>
        actor is null ? null : new Actor(SafeText(actor.Id, MaxAuditedActorIdLength) ?? "", actor.Channel);

    /// <summary>A reason as kept: its text without the spaces around it, and no text when that is blank.</summary>
    private static CancelReason Kept(CancelReason reason) =>
        reason with { Text = Validate.IsBlank(reason.Text) ? null : reason.Text.Trim() };

    /// <summary>A reason with an undefined code (a number from a client) is not kept: only the codes in the enum are ever stored.</summary>
    private static CancelReason? SafeReason(CancelReason? reason) =>
        reason is null || !Enum.IsDefined(reason.Code) ? null : new CancelReason(reason.Code, SafeText(Kept(reason).Text, MaxReasonLength));

    /// <summary>
    /// Text from a request, safe to store and show: control characters and unpaired surrogates (which PostgreSQL's
    /// jsonb refuses) replaced by U+FFFD, and cut to <paramref name="max"/> characters (code points, as the limits
    /// count them: a valid input is kept whole) plus a marker saying how many more there were.
    /// </summary>
    public static string? SafeText(string? text, int max)
    {
        if (text is null) return null;
        var chars = text.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (char.IsHighSurrogate(chars[i]) && i + 1 < chars.Length && char.IsLowSurrogate(chars[i + 1])) { i++; continue; }
            if (char.IsControl(chars[i]) || char.IsSurrogate(chars[i])) chars[i] = '\uFFFD';
        }
        var safe = new string(chars);
        var length = CampaignLimits.LengthOf(safe);
        if (length <= max) return safe;
        return safe[..Validate.EndOfFirst(safe, max)] + string.Create(CultureInfo.InvariantCulture, $"… [{length - max:N0} more characters]");
    }

    /// <summary>The effective end of a mid-send cancel, once nothing is in flight.</summary>
    internal static CancelledDuringSend Stopped(Guid campaignId, CampaignPhase.Cancelling s, DateTimeOffset now) => new(
        campaignId, s.Request.DeliveredBefore, s.Progress.DeliveredAfterRequest, s.Progress.Failed, s.Progress.NotSent(s.Plan),
        s.Request.RequestedAt, now, now - s.Request.RequestedAt);
}
