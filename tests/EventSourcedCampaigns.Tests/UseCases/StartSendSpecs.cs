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
}
