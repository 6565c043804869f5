using EventSourcedCampaigns.Tests.Support;
using Xunit;

namespace EventSourcedCampaigns.Tests.UseCases;

public class resuming_a_paused_campaign
{
    public static TheoryData<CampaignStatus> NotResumable => Statuses.Except(CampaignStatus.Paused, CampaignStatus.Scheduled);

    [Fact]
    public void schedules_it_again_with_its_plan()
    {
        var outcome = Spec.Given(Histories.Paused())
            .When(Commands.Resume())
            .Then(new ScheduleResumed(Plan.Id, Plan.Marketer, Spec.Now))
            .AndStatus(CampaignStatus.Scheduled);
        var ready = Assert.IsType<CampaignPhase.ReadyToSend>(outcome.State!.Phase);
        Assert.Equal((Plan.Recipients, Plan.Batches), (ready.Plan.Recipients, ready.Plan.Batches));
    }

    [Fact]
    public void resuming_a_campaign_that_is_not_paused_changes_nothing() =>
        Spec.Given(Histories.Scheduled()).When(Commands.Resume()).ThenNothing().AndStatus(CampaignStatus.Scheduled);

    [Theory, MemberData(nameof(NotResumable))]
    public void is_refused_in_any_other_status(CampaignStatus status)
    {
        var refusal = Spec.Given(Histories.In(status)).When(Commands.Resume()).ThenRejected(RejectionCode.NotResumable);
        Assert.Contains(status.ToDisplay(), refusal.Message);
    }

    [Theory, MemberData(nameof(Invalid.Actors), MemberType = typeof(Invalid))]
    public void must_say_who_resumes_it(Actor? by) =>
        Spec.Given(Histories.Paused()).When(Commands.Resume() with { ResumedBy = by! }).ThenRejected(RejectionCode.InvalidActor);
}
