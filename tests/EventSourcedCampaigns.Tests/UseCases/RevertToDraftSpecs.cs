using EventSourcedCampaigns.Tests.Support;
using Xunit;

namespace EventSourcedCampaigns.Tests.UseCases;

public class reverting_a_campaign_to_draft
{
    public static TheoryData<CampaignStatus> NotYetSending =>
        Statuses.Only(CampaignStatus.Scheduling, CampaignStatus.Scheduled, CampaignStatus.Paused);

    public static TheoryData<CampaignStatus> SendingOrFinished =>
        Statuses.Except(CampaignStatus.Draft, CampaignStatus.Scheduling, CampaignStatus.Scheduled, CampaignStatus.Paused);

    [Theory, MemberData(nameof(NotYetSending))]
    public void withdraws_the_schedule_without_cancelling(CampaignStatus status) =>
        Spec.Given(Histories.In(status))
            .When(Commands.Revert())
            .Then(new ScheduleReverted(Plan.Id, Plan.Marketer, Spec.Now))
            .AndStatus(CampaignStatus.Draft);

    [Fact]
    public void a_draft_is_already_a_draft() =>
        Spec.Given(Histories.Draft()).When(Commands.Revert()).ThenNothing().AndStatus(CampaignStatus.Draft);

    [Theory, MemberData(nameof(SendingOrFinished))]
    public void is_refused_once_sending_started(CampaignStatus status)
    {
        var refusal = Spec.Given(Histories.In(status)).When(Commands.Revert()).ThenRejected(RejectionCode.NotRevertible);
        Assert.Contains(status.ToDisplay(), refusal.Message);
    }

    [Theory, MemberData(nameof(Invalid.Actors), MemberType = typeof(Invalid))]
    public void must_say_who_reverts_it(Actor? by) =>
        Spec.Given(Histories.Scheduled()).When(Commands.Revert() with { RevertedBy = by! }).ThenRejected(RejectionCode.InvalidActor);
}
