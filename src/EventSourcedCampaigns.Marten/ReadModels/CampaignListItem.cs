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
}

/// <summary>Builds <see cref="CampaignListItem"/> from one campaign stream.</summary>
public sealed class CampaignListProjection : SingleStreamProjection<CampaignListItem, Guid>
{
    public override CampaignListItem? Evolve(CampaignListItem? item, Guid id, IEvent e)
    {
        if (e.Data is CampaignCreated created)
            return WithStatus(new CampaignListItem { Id = id, Name = created.Name, Channel = created.Channel, CreatedAt = created.CreatedAt }, CampaignStatus.Draft, created.CreatedAt);
        if (item is null) return null;

        return e.Data switch
        {
            CampaignEdited x => item with { Name = x.Name, UpdatedAt = x.EditedAt },
            Scheduled x => WithStatus(item with { SendAt = x.SendAt, ScheduledAt = x.ScheduledAt, RecipientsPrepared = 0, Recipients = 0, ProgressPercent = 0 },
                CampaignStatus.Scheduling, x.ScheduledAt),
            SchedulingProgressed x => item with
            {
                RecipientsPrepared = x.RecipientsPrepared, Recipients = x.RecipientsTotal,
                ProgressPercent = Percent(x.RecipientsPrepared, x.RecipientsTotal), UpdatedAt = x.ProgressedAt,
            },
            SchedulingCompleted x => WithStatus(item with { RecipientsPrepared = x.Recipients, Recipients = x.Recipients, ProgressPercent = 0 }, CampaignStatus.Scheduled, x.CompletedAt),
            SchedulePaused x => WithStatus(item, CampaignStatus.Paused, x.PausedAt),
            ScheduleResumed x => WithStatus(item, CampaignStatus.Scheduled, x.ResumedAt),
            ScheduleReverted x => WithStatus(item with { SendAt = null, ScheduledAt = null, ProgressPercent = 0 }, CampaignStatus.Draft, x.RevertedAt),
            SendStarted x => WithStatus(item, CampaignStatus.Sending, x.StartedAt),
            BatchDelivered x => Delivered(item, x.Delivered, x.DeliveredAt),
            BatchFailed x => item with { UpdatedAt = x.FailedAt },
            SendCompleted x => WithStatus(item, CampaignStatus.Sent, x.CompletedAt),
            CancelRequested x => WithStatus(item, x.StatusAtRequest == CampaignStatus.Sending ? CampaignStatus.Cancelling : item.Status, x.RequestedAt),
            Cancelled x => WithStatus(item, CampaignStatus.Cancelled, x.CancelledAt),
            CancelledDuringSend x => WithStatus(item, CampaignStatus.CancelledDuringSend, x.CancelledAt),
            _ => item,
        };
    }

    private static CampaignListItem Delivered(CampaignListItem item, int delivered, DateTimeOffset at)
    {
        var total = item.Delivered + delivered;
        return item with { Delivered = total, ProgressPercent = Percent(total, item.Recipients), UpdatedAt = at };
    }

    private static CampaignListItem WithStatus(CampaignListItem item, CampaignStatus status, DateTimeOffset at) =>
        item with { Status = status, Actions = AvailableActions.For(status), UpdatedAt = at };

    internal static double Percent(long part, long whole) => whole <= 0 ? 0 : Math.Round(100.0 * part / whole, 2);
}
