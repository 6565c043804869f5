using EventSourcedCampaigns.Tests.Support;
using Xunit;

namespace EventSourcedCampaigns.Tests.UseCases;

public class starting_the_send
{
    public static TheoryData<CampaignStatus> NothingToStart =>
        Statuses.Except(CampaignStatus.Scheduled, CampaignStatus.Scheduling);

    [Fact]
    public void at_the_send_time_a_scheduled_campaign_starts_sending() =>
        Spec.Given(Histories.Scheduled())
            .At(Histories.SendAt)
            .When(Commands.StartSend())
            .Then(new SendStarted(Plan.Id, Plan.Recipients, Plan.Batches, Histories.SendAt))
            .AndStatus(CampaignStatus.Sending);

    [Fact]
    public void after_the_send_time_it_starts_too() =>
        Spec.Given(Histories.Scheduled())
            .When(Commands.StartSend())
            .Then(new SendStarted(Plan.Id, Plan.Recipients, Plan.Batches, Spec.Now));

    [Fact]
    public void before_the_send_time_it_is_refused()
    {
        var sendAt = Spec.Now.AddMinutes(1);
        var refusal = Spec.Given(Histories.Scheduled(sendAt)).When(Commands.StartSend()).ThenRejected(RejectionCode.SendTimeNotReached);
        Assert.Contains(sendAt.ToString("O"), refusal.Message);
    }

    [Fact]
    public void while_the_audience_is_still_prepared_it_is_refused() =>
        Spec.Given(Histories.Scheduling()).When(Commands.StartSend()).ThenRejected(RejectionCode.SchedulingNotComplete);

    /// <summary>The send time arrives whatever happened meanwhile: paused, reverted, cancelled, already sending.</summary>
    [Theory, MemberData(nameof(NothingToStart))]
    public void does_nothing_when_the_campaign_is_not_waiting_to_send(CampaignStatus status) =>
        Spec.Given(Histories.In(status)).When(Commands.StartSend()).ThenNothing().AndStatus(status);

    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    [Fact]
    public void more_than_the_allowed_lateness_after_the_send_time_it_is_paused_instead() =>
        Spec.Given(Histories.Scheduled())
            .At(Histories.SendAt.AddHours(2))
            .When(Commands.StartSend(maxLateness: Hour))
            .Then(new SendHeldAsLate(Plan.Id, Histories.SendAt, TimeSpan.FromHours(2), Hour, Histories.SendAt.AddHours(2)))
            .AndStatus(CampaignStatus.Paused);

    [Fact]
    public void exactly_at_the_allowed_lateness_it_still_starts() =>
        Spec.Given(Histories.Scheduled())
            .At(Histories.SendAt + Hour)
            .When(Commands.StartSend(maxLateness: Hour))
            .Then(new SendStarted(Plan.Id, Plan.Recipients, Plan.Batches, Histories.SendAt + Hour))
            .AndStatus(CampaignStatus.Sending);

    [Fact]
    public void a_tick_past_the_allowed_lateness_it_is_paused() =>
        Spec.Given(Histories.Scheduled())
            .At(Histories.SendAt + Hour + TimeSpan.FromTicks(1))
            .When(Commands.StartSend(maxLateness: Hour))
            .Then(new SendHeldAsLate(Plan.Id, Histories.SendAt, Hour + TimeSpan.FromTicks(1), Hour, Histories.SendAt + Hour + TimeSpan.FromTicks(1)))
            .AndStatus(CampaignStatus.Paused);

    [Fact]
    public void with_no_lateness_bound_it_starts_however_late() =>
        Spec.Given(Histories.Scheduled())
            .At(Histories.SendAt.AddDays(30))
            .When(Commands.StartSend(maxLateness: null))
            .Then(new SendStarted(Plan.Id, Plan.Recipients, Plan.Batches, Histories.SendAt.AddDays(30)));

    [Fact]
    public void a_zero_bound_allows_only_a_start_at_the_send_time() =>
        Spec.Given(Histories.Scheduled())
            .At(Histories.SendAt.AddSeconds(1))
            .When(Commands.StartSend(maxLateness: TimeSpan.Zero))
            .Then(new SendHeldAsLate(Plan.Id, Histories.SendAt, TimeSpan.FromSeconds(1), TimeSpan.Zero, Histories.SendAt.AddSeconds(1)));

    /// <summary>The marketer resumes a campaign held as late: the start is due from the resume, so it goes out.</summary>
    [Fact]
    public void once_resumed_after_being_held_it_starts()
    {
        var resumed = Histories.Scheduled().At(Histories.SendAt.AddHours(2)).Then(Commands.StartSend(Hour)).Then(Commands.Resume());
        Assert.Equal(CampaignStatus.Scheduled, resumed.State!.Status);
        var at = resumed.Clock.AddSeconds(5);
        Spec.Given(resumed)
            .At(at)
            .When(Commands.StartSend(maxLateness: Hour))
            .Then(new SendStarted(Plan.Id, Plan.Recipients, Plan.Batches, at))
            .AndStatus(CampaignStatus.Sending);
    }

    /// <summary>An audience prepared after the send time: lateness counts from when it became ready, not from the send time.</summary>
    [Fact]
    public void lateness_counts_from_when_the_campaign_became_ready_if_that_was_after_the_send_time()
    {
        var sendAt = Histories.Start.AddMinutes(3); // scheduled at +2 min, ready at +5 min
        var ready = Histories.Scheduled(sendAt);
        var allowed = TimeSpan.FromSeconds(90);
        Spec.Given(ready).At(ready.Clock.AddMinutes(1)).When(Commands.StartSend(allowed))
            .Then(new SendStarted(Plan.Id, Plan.Recipients, Plan.Batches, ready.Clock.AddMinutes(1)));
        Spec.Given(ready).At(ready.Clock.AddMinutes(2)).When(Commands.StartSend(allowed))
            .Then(new SendHeldAsLate(Plan.Id, sendAt, TimeSpan.FromMinutes(2), allowed, ready.Clock.AddMinutes(2)));
    }

    [Fact]
    public void a_campaign_held_as_late_can_be_cancelled()
    {
        var held = Histories.Scheduled().At(Histories.SendAt.AddHours(2)).Then(Commands.StartSend(Hour));
        Assert.Equal(CampaignStatus.Paused, held.State!.Status);
        Assert.Equal(CampaignStatus.Cancelled, held.Then(Commands.Cancel()).State!.Status);
    }

    [Fact]
    public void a_negative_lateness_bound_is_refused() =>
        Spec.Given(Histories.Scheduled()).When(Commands.StartSend(TimeSpan.FromMinutes(-1))).ThenRejected(RejectionCode.InvalidLateness);

    /// <summary>A start that fires again after the campaign was held (a redelivered message) changes nothing.</summary>
    [Fact]
    public void a_second_start_of_a_held_campaign_does_nothing() =>
        Spec.Given(Histories.Scheduled().At(Histories.SendAt.AddHours(2)).Then(Commands.StartSend(Hour)))
            .When(Commands.StartSend(Hour)).ThenNothing().AndStatus(CampaignStatus.Paused);
}
