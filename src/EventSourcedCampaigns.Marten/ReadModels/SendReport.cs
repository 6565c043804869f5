using JasperFx.Events;
using Marten.Events.Aggregation;

namespace EventSourcedCampaigns.Marten.ReadModels;

/// <summary>Delivery counts of a whole campaign or of one A/B variant.
/// Recipients = Delivered + Failed + InFlight + NotSent.</summary>
public sealed record DeliveryCounts(long Recipients, long Delivered, long Failed, long InFlight)
{
    public static DeliveryCounts None { get; } = new(0, 0, 0, 0);
    public long NotSent => Recipients - Delivered - Failed - InFlight;
    public double PercentDelivered => CampaignListProjection.Percent(Delivered, Recipients);

    internal DeliveryCounts Claimed(int recipients) => this with { InFlight = InFlight + recipients };
    /// <summary>A recorded batch leaves flight: its <paramref name="notSent"/> recipients (released after a cancel, the
    /// whole batch or the part not tried again) are neither delivered nor failed, so they count as not sent.</summary>
    internal DeliveryCounts Recorded(int delivered, int failed, int notSent = 0) =>
        this with { Delivered = Delivered + delivered, Failed = Failed + failed, InFlight = InFlight - delivered - failed - notSent };
}

/// <summary>A variant's share of the send.</summary>
public sealed record VariantReport(string Variant, DeliveryCounts Counts)
{
    /// <summary>Delivered to this variant's recipients before the cancel request (0 without a cancel).</summary>
    public long DeliveredBeforeCancel { get; init; }
    /// <summary>Delivered to this variant's recipients by batches in flight at the cancel request.</summary>
    public long DeliveredAfterCancel { get; init; }
}

/// <summary>The send report of one campaign: partial-send statistics with the dates a marketer and an auditor ask for.</summary>
public sealed record SendReport
{
    public Guid Id { get; init; }
    public string Name { get; init; } = "";
    public Channel Channel { get; init; }
    public CampaignStatus Status { get; init; }
    public DeliveryCounts Totals { get; init; } = DeliveryCounts.None;
    public IReadOnlyList<VariantReport> Variants { get; init; } = [];

    public DateTimeOffset? ScheduledAt { get; init; }
    public DateTimeOffset? SendAt { get; init; }
    public DateTimeOffset? SendStartedAt { get; init; }
    public DateTimeOffset? CompletedAt { get; init; }

    public DateTimeOffset? CancelRequestedAt { get; init; }
    /// <summary>When the cancel took effect (the cancellation date).</summary>
    public DateTimeOffset? CancelledAt { get; init; }
    public Actor? CancelledBy { get; init; }
    public CancelReason? CancelReason { get; init; }
    public long DeliveredBeforeCancel { get; init; }
    public long DeliveredAfterCancel { get; init; }
    /// <summary>Cancel requested to last in-flight batch recorded.</summary>
    public TimeSpan? CancelToStop { get; init; }
    /// <summary>Why the last schedule failed (the audience could not be resolved); cleared when scheduled again.</summary>
    public string? SchedulingFailure { get; init; }
    /// <summary>Why the campaign was paused by the system (its start came too late); null when paused by someone, or not paused.</summary>
    public string? PausedReason { get; init; }
    /// <summary>
    /// The error of the last batch that failed as a whole (the provider's words: a timeout, a refusal, a lost claim), with
    /// its number and time; null while none has. Why recipients failed one by one is in the recipient outcomes.
    /// </summary>
    public BatchFailure? LastBatchFailure { get; init; }
}

/// <summary>A batch that failed as a whole: its number, why, and when it was recorded.</summary>
public sealed record BatchFailure(int BatchNumber, string Error, DateTimeOffset FailedAt);

/// <summary>Builds <see cref="SendReport"/> from one campaign stream.</summary>
public sealed class SendReportProjection : SingleStreamProjection<SendReport, Guid>
{
    /// <summary>Campaign events that neither change a report nor its status: the daemon does not fetch them.</summary>
    internal static readonly Type[] Ignored = [typeof(CancelRejected), typeof(CancelRepeated), typeof(CampaignCloned)];

    public SendReportProjection()
    {
        // An allow list makes the daemon fetch only these types (with Evolve Marten cannot infer them and reads every event).
        foreach (var type in CampaignEvents.All.Except(Ignored)) IncludeType(type);
    }

    public override SendReport? Evolve(SendReport? report, Guid id, IEvent e)
    {
        // The status comes from the domain's one event-to-status table; this projection only keeps the report's figures.
        if (e.Data is not ICampaignEvent data || CampaignState.StatusAfter(report?.Status, data) is not { } status) return report;
        var next = Apply(report, id, data);
        return next is null ? null : next with { Status = status, PausedReason = status == CampaignStatus.Paused ? next.PausedReason : null };
    }

    private static SendReport? Apply(SendReport? report, Guid id, ICampaignEvent data)
    {
        if (data is CampaignCreated created)
            return new SendReport { Id = id, Name = created.Name, Channel = created.Channel };
        if (report is null) return null;

        return data switch
        {
            CampaignEdited x => report with { Name = x.Name },
            Scheduled x => report with { ScheduledAt = x.ScheduledAt, SendAt = x.SendAt, SchedulingFailure = null },
            SchedulingCompleted x => report with
            {
                Totals = DeliveryCounts.None with { Recipients = x.Recipients },
                Variants = [.. x.Variants.Select(v => new VariantReport(v.Variant, DeliveryCounts.None with { Recipients = v.Recipients }))],
            },
            SchedulingFailed x => report with { ScheduledAt = null, SendAt = null, Totals = DeliveryCounts.None, Variants = [], SchedulingFailure = x.Reason },
            ScheduleReverted => report with { ScheduledAt = null, SendAt = null, Totals = DeliveryCounts.None, Variants = [] },
            SchedulePaused => report with { PausedReason = null },
            SendHeldAsLate x => report with { PausedReason = PausedReasons.HeldAsLate(x) },
            SendStarted x => report with { SendStartedAt = x.StartedAt },
            BatchClaimed x => Count(report, x.Variant, c => c.Claimed(x.Recipients)),
            BatchDelivered x => Count(report, x.Variant, c => c.Recorded(x.Delivered, x.Failed, x.NotSent), x.AfterCancelRequest ? x.Delivered : 0) with
            {
                DeliveredAfterCancel = report.DeliveredAfterCancel + (x.AfterCancelRequest ? x.Delivered : 0),
            },
            BatchFailed x => Count(report, x.Variant, c => c.Recorded(0, x.Recipients)) with { LastBatchFailure = new(x.BatchNumber, x.Error, x.FailedAt) },
            BatchReleased x => Count(report, x.Variant, c => c.Recorded(0, 0, notSent: x.Recipients)),
            SendCompleted x => report with { CompletedAt = x.CompletedAt },
            CancelRequested x => report with
            {
                CancelRequestedAt = x.RequestedAt, CancelledBy = x.RequestedBy, CancelReason = x.Reason,
                DeliveredBeforeCancel = x.DeliveredBefore,
                // Each variant's share of what was delivered before the request (the variants' sum is the total's).
                Variants = [.. report.Variants.Select(v => v with { DeliveredBeforeCancel = v.Counts.Delivered })],
            },
            Cancelled x => CancelledBeforeSend(report, x.NotSent) with { CancelledAt = x.CancelledAt, CancelToStop = x.CancelledAt - x.RequestedAt },
            CancelledDuringSend x => report with { CancelledAt = x.CancelledAt, CancelToStop = x.TimeToStop },
            _ => report,
        };
    }

    /// <summary>
    /// A cancel before the send: nothing was delivered, so the recipients are the ones the campaign had at the cancel
    /// (those prepared so far when it was cancelled while Scheduling) and every one of them is not sent, as in the list
    /// and the audit. The variants keep their prepared audiences (none while Scheduling: the split is known once the
    /// whole audience is prepared). An event stored before <see cref="Cancelled.NotSent"/> existed leaves the figures as they are.
    /// </summary>
    private static SendReport CancelledBeforeSend(SendReport report, long? notSent) =>
        notSent is { } recipients ? report with { Totals = DeliveryCounts.None with { Recipients = recipients } } : report;

    private static SendReport Count(SendReport report, string variant, Func<DeliveryCounts, DeliveryCounts> change, long deliveredAfterCancel = 0) => report with
    {
        Totals = change(report.Totals),
        Variants = [.. report.Variants.Select(v => v.Variant == variant
            ? v with { Counts = change(v.Counts), DeliveredAfterCancel = v.DeliveredAfterCancel + deliveredAfterCancel }
            : v)],
    };
}
