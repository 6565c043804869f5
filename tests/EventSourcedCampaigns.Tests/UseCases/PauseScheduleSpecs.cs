using EventSourcedCampaigns.Tests.Support;
using Xunit;

namespace EventSourcedCampaigns.Tests.UseCases;

public class pausing_a_scheduled_campaign
{
    public static TheoryData<CampaignStatus> NotPausable => Statuses.Except(CampaignStatus.Scheduled, CampaignStatus.Paused);

    [Fact]
    public void puts_it_on_hold() =>
        Spec.Given(Histories.Scheduled())
            .When(Commands.Pause())
            .Then(new SchedulePaused(Plan.Id, Plan.Marketer, Spec.Now))
            .AndStatus(CampaignStatus.Paused);

    [Fact]
    public void pausing_again_changes_nothing() =>
        Spec.Given(Histories.Paused()).When(Commands.Pause()).ThenNothing().AndStatus(CampaignStatus.Paused);

    [Theory, MemberData(nameof(NotPausable))]
    public void is_refused_unless_it_is_scheduled_and_not_sending(CampaignStatus status)
    {
        var refusal = Spec.Given(Histories.In(status)).When(Commands.Pause()).ThenRejected(RejectionCode.NotPausable);
        Assert.Contains(status.ToDisplay(), refusal.Message);
    }

    [Theory, MemberData(nameof(Invalid.Actors), MemberType = typeof(Invalid))]
    public void must_say_who_pauses_it(Actor? by) =>
        Spec.Given(Histories.Paused()).When(Commands.Pause() with { PausedBy = by! }).ThenRejected(RejectionCode.InvalidActor);
}
