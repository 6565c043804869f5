using EventSourcedCampaigns.Tests.Support;
using Xunit;

namespace EventSourcedCampaigns.Tests.Properties;

/// <summary>
/// <see cref="CampaignState.StatusAfter"/> is the one event-to-status table (the read models use it);
/// <see cref="CampaignState.Evolve"/> must move the phase exactly the same way, for every status and every event,
/// including events that do not fit the status.
/// </summary>
public class the_status_table
{
    private static readonly CancelReason Reason = new(CancelReasonCode.Other, "checking the table");

    /// <summary>One event of every type.</summary>
    public static readonly ICampaignEvent[] OneOfEach =
    [
        new CampaignCreated(Plan.Id, Plan.Name, Channel.Email, Plan.Variants, null, Plan.Marketer, Spec.Now),
        new CampaignEdited(Plan.Id, "Renamed", Plan.Variants, Plan.Marketer, Spec.Now),
        new Scheduled(Plan.Id, Spec.Now.AddDays(1), Plan.Audience, Plan.BatchSize, Plan.Marketer, Spec.Now),
        new SchedulingProgressed(Plan.Id, 100, Plan.Recipients, 0, Spec.Now),
        new SchedulingCompleted(Plan.Id, Plan.Recipients, Plan.Batches, Plan.Shares, Spec.Now),
        new SchedulingFailed(Plan.Id, "The list 'seg_vip' does not exist.", Spec.Now),
        new SchedulePaused(Plan.Id, Plan.Marketer, Spec.Now),
        new ScheduleResumed(Plan.Id, Plan.Marketer, Spec.Now),
        new ScheduleReverted(Plan.Id, Plan.Marketer, Spec.Now),
        new SendHeldAsLate(Plan.Id, Spec.Now.AddHours(-2), TimeSpan.FromHours(2), TimeSpan.FromHours(1), Spec.Now),
        new SendStarted(Plan.Id, Plan.Recipients, Plan.Batches, Spec.Now),
        new BatchClaimed(Plan.Id, 4, "B", 1_000, Spec.Now),
        new BatchDelivered(Plan.Id, 2, "B", 990, 10, false, Spec.Now),
        new BatchFailed(Plan.Id, 2, "B", 1_000, "550 rejected", false, Spec.Now),
        new BatchReleased(Plan.Id, 2, "B", 1_000, Spec.Now),
        new SendCompleted(Plan.Id, 4_455, 45, Spec.Now),
        new CancelRequested(Plan.Id, Plan.Marketer, Reason, CampaignStatus.Sending, 990, 10, 2, Spec.Now),
        new Cancelled(Plan.Id, Spec.Now, Spec.Now),
        new CancelledDuringSend(Plan.Id, 990, 0, 10, 3_500, Spec.Now, Spec.Now, TimeSpan.Zero),
        new CancelRejected(Plan.Id, Plan.Marketer, Reason, CampaignStatus.Draft, RejectionCode.NotCancellableDraft, "a draft", Spec.Now),
        new CampaignCloned(Plan.Id, Commands.CloneId, false, Plan.Marketer, Spec.Now),
        new CancelRepeated(Plan.Id, Plan.Marketer, Reason, CampaignStatus.Cancelled, Spec.Now),
    ];

    [Fact]
    public void covers_every_event_type() =>
        Assert.Equal(CampaignEvents.All.OrderBy(t => t.Name), OneOfEach.Select(e => e.GetType()).OrderBy(t => t.Name));

    [Fact]
    public void with_no_campaign_only_a_creation_gives_one()
    {
        foreach (var e in OneOfEach)
            Assert.Equal(CampaignState.Evolve(null, e)?.Status, CampaignState.StatusAfter(null, e));
        Assert.Equal(CampaignStatus.Draft, CampaignState.StatusAfter(null, OneOfEach[0]));
    }

    [Theory, MemberData(nameof(Statuses.All), MemberType = typeof(Statuses))]
    public void is_how_the_write_model_moves(CampaignStatus status)
    {
        var state = Histories.In(status).State!;
        foreach (var e in OneOfEach)
            Assert.True(CampaignState.Evolve(state, e)!.Status == CampaignState.StatusAfter(status, e),
                $"{status} + {e.GetType().Name}: the write model goes to {CampaignState.Evolve(state, e)!.Status}, the table says {CampaignState.StatusAfter(status, e)}.");
    }

    [Theory]
    [InlineData(CampaignStatus.Scheduling, nameof(SchedulingFailed), CampaignStatus.Draft)]
    [InlineData(CampaignStatus.Sending, nameof(CancelRequested), CampaignStatus.Cancelling)]
    [InlineData(CampaignStatus.Paused, nameof(CancelRequested), CampaignStatus.Cancelled)]
    [InlineData(CampaignStatus.Scheduled, nameof(SendHeldAsLate), CampaignStatus.Paused)]
    [InlineData(CampaignStatus.Sending, nameof(SendHeldAsLate), CampaignStatus.Sending)]
    [InlineData(CampaignStatus.Cancelling, nameof(BatchReleased), CampaignStatus.Cancelling)]
    [InlineData(CampaignStatus.Cancelling, nameof(CancelledDuringSend), CampaignStatus.CancelledDuringSend)]
    [InlineData(CampaignStatus.Sent, nameof(CancelRejected), CampaignStatus.Sent)]
    [InlineData(CampaignStatus.Cancelling, nameof(CancelRepeated), CampaignStatus.Cancelling)]
    public void reads_like_the_lifecycle(CampaignStatus before, string @event, CampaignStatus after) =>
        Assert.Equal(after, CampaignState.StatusAfter(before, OneOfEach.Single(e => e.GetType().Name == @event)));
}
