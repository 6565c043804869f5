using JasperFx.Events;
using Marten.Events.Aggregation;

namespace EventSourcedCampaigns.Marten.ReadModels;

/// <summary>One row of the Campaigns tab.</summary>
public sealed record CampaignListItem
{
    public Guid Id { get; init; }
    public string Name { get; init; } = "";
    public Channel Channel { get; init; }
    public CampaignStatus Status { get; init; }
    /// <summary>The status as a marketer reads it ("Cancelled During Send").</summary>
    public string StatusText => Status.ToDisplay();
    public DateTimeOffset? SendAt { get; init; }
    public DateTimeOffset? ScheduledAt { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
    /// <summary>Recipients prepared so far while scheduling, then the audience size.</summary>
    public long RecipientsPrepared { get; init; }
    public long Recipients { get; init; }
    public long Delivered { get; init; }
    /// <summary>Scheduling progress (0-100) while Scheduling, send progress after.</summary>
    public double ProgressPercent { get; init; }
    public CampaignActions Actions { get; init; }
    /// <summary>Why the last schedule failed (the audience could not be resolved); cleared when scheduled again.</summary>
    public string? SchedulingFailure { get; init; }
    /// <summary>Why the campaign was paused by the system (its start came too late); null when paused by someone, or not paused.</summary>
    public string? PausedReason { get; init; }
}

/// <summary>Why the system paused a campaign, in a marketer's words (the list and the report show the same text).</summary>
public static class PausedReasons
{
    /// <summary>The start came later than allowed after the send time.</summary>
    public static string HeldAsLate(SendHeldAsLate e) =>
        $"Paused by the system: the send was due at {e.HeldAt - e.Lateness:yyyy-MM-dd HH:mm} UTC but could only start {Describe(e.Lateness)} later " +
        $"(more than the {Describe(e.MaxLateness)} allowed), for example because the sending service was down. " +
        "Resume to send it now, or cancel it.";

    private static string Describe(TimeSpan span) => span switch
    {
        { TotalDays: >= 1 } => $"{(int)span.TotalDays} d {span.Hours} h",
        { TotalHours: >= 1 } => span.Minutes == 0 ? $"{(int)span.TotalHours} h" : $"{(int)span.TotalHours} h {span.Minutes} min",
        { TotalMinutes: >= 1 } => $"{(int)span.TotalMinutes} min",
        _ => $"{Math.Max(0, (int)span.TotalSeconds)} s",
    };
}

/// <summary>Builds <see cref="CampaignListItem"/> from one campaign stream.</summary>
public sealed class CampaignListProjection : SingleStreamProjection<CampaignListItem, Guid>
{
    /// <summary>Campaign events that neither change a list row nor its status: the daemon does not fetch them.</summary>
    internal static readonly Type[] Ignored = [typeof(BatchClaimed), typeof(CancelRejected), typeof(CancelRepeated), typeof(CampaignCloned)];

    public CampaignListProjection()
    {
        // An allow list makes the daemon fetch only these types (with Evolve Marten cannot infer them and reads every
        // event); leaving out the claims halves what a rebuild reads. New event types are included by default.
        foreach (var type in CampaignEvents.All.Except(Ignored)) IncludeType(type);
    }

    public override CampaignListItem? Evolve(CampaignListItem? item, Guid id, IEvent e)
    {
        // The status comes from the domain's one event-to-status table; this projection only keeps the row's figures.
        if (e.Data is not ICampaignEvent data || CampaignState.StatusAfter(item?.Status, data) is not { } status) return item;
        var next = Apply(item, id, data);
        return next is null ? null : next with
        {
            Status = status, Actions = AvailableActions.For(status),
            PausedReason = status == CampaignStatus.Paused ? next.PausedReason : null,
        };
    }

    private static CampaignListItem? Apply(CampaignListItem? item, Guid id, ICampaignEvent data)
    {
        if (data is CampaignCreated created)
            return new CampaignListItem { Id = id, Name = created.Name, Channel = created.Channel, CreatedAt = created.CreatedAt, UpdatedAt = created.CreatedAt };
        if (item is null) return null;

        return data switch
        {
            CampaignEdited x => item with { Name = x.Name, UpdatedAt = x.EditedAt },
            Scheduled x => item with
            {
                SendAt = x.SendAt, ScheduledAt = x.ScheduledAt, RecipientsPrepared = 0, Recipients = 0, ProgressPercent = 0,
                SchedulingFailure = null, UpdatedAt = x.ScheduledAt,
            },
            SchedulingProgressed x => item with
            {
                RecipientsPrepared = x.RecipientsPrepared, Recipients = x.RecipientsTotal,
                ProgressPercent = Percent(x.RecipientsPrepared, x.RecipientsTotal), UpdatedAt = x.ProgressedAt,
            },
            SchedulingCompleted x => item with { RecipientsPrepared = x.Recipients, Recipients = x.Recipients, ProgressPercent = 0, UpdatedAt = x.CompletedAt },
            SchedulingFailed x => item with
            {
                SendAt = null, ScheduledAt = null, RecipientsPrepared = 0, Recipients = 0, ProgressPercent = 0, SchedulingFailure = x.Reason,
                UpdatedAt = x.FailedAt,
            },
            SchedulePaused x => item with { PausedReason = null, UpdatedAt = x.PausedAt },
            SendHeldAsLate x => item with { PausedReason = PausedReasons.HeldAsLate(x), UpdatedAt = x.HeldAt },
            ScheduleResumed x => item with { UpdatedAt = x.ResumedAt },
            ScheduleReverted x => item with { SendAt = null, ScheduledAt = null, RecipientsPrepared = 0, Recipients = 0, ProgressPercent = 0, UpdatedAt = x.RevertedAt },
            SendStarted x => item with { UpdatedAt = x.StartedAt },
            BatchDelivered x => Delivered(item, x.Delivered, x.DeliveredAt),
            BatchFailed x => item with { UpdatedAt = x.FailedAt },
            BatchReleased x => item with { UpdatedAt = x.ReleasedAt },
            SendCompleted x => item with { UpdatedAt = x.CompletedAt },
            CancelRequested x => item with { UpdatedAt = x.RequestedAt },
            Cancelled x => CancelledBeforeSend(item, x),
            CancelledDuringSend x => item with { UpdatedAt = x.CancelledAt },
            _ => item,
        };
    }

    /// <summary>
    /// A cancel before the send: the campaign's recipients are the ones it had at the cancel (those prepared so far when
    /// it was cancelled while Scheduling, not the audience it was still resolving), none of them sent, as in the report and
    /// the audit; the progress is the send's, 0 %. An event stored before <see cref="Cancelled.NotSent"/> existed: the
    /// recipients prepared.
    /// </summary>
    private static CampaignListItem CancelledBeforeSend(CampaignListItem item, Cancelled cancelled)
    {
        var recipients = cancelled.NotSent ?? item.RecipientsPrepared;
        return item with
        {
            RecipientsPrepared = recipients, Recipients = recipients, ProgressPercent = Percent(item.Delivered, recipients), UpdatedAt = cancelled.CancelledAt,
        };
    }

    private static CampaignListItem Delivered(CampaignListItem item, int delivered, DateTimeOffset at)
    {
        var total = item.Delivered + delivered;
        return item with { Delivered = total, ProgressPercent = Percent(total, item.Recipients), UpdatedAt = at };
    }

    /// <summary>
    /// <paramref name="part"/> of <paramref name="whole"/> in percent with 2 decimals, never 100 while some are left nor 0
    /// once some are: 99,999 of 100,000 is 99.99 %, not 100 %; 1 of 1,000,000 is 0.01 %, not 0 %.
    /// </summary>
    internal static double Percent(long part, long whole)
    {
        if (whole <= 0) return 0;
        // In decimal: a half such as 1.005 % (201 of 20,000) is exact there, where a double reads 1.00499... and rounds down.
        var percent = (double)Math.Round(100m * part / whole, 2, MidpointRounding.AwayFromZero);
        return part <= 0 || part >= whole ? percent : Math.Clamp(percent, 0.01, 99.99);
    }
}
