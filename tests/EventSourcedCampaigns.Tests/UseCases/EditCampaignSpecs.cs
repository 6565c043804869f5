using EventSourcedCampaigns.Tests.Support;
using Xunit;

namespace EventSourcedCampaigns.Tests.UseCases;

public class editing_a_campaign
{
    public static TheoryData<CampaignStatus> Editable => Statuses.Only(CampaignStatus.Draft, CampaignStatus.Paused);
    public static TheoryData<CampaignStatus> NotEditable => Statuses.Except(CampaignStatus.Draft, CampaignStatus.Paused);

    [Theory, MemberData(nameof(Editable))]
    public void changes_name_and_content_of_a_draft_or_a_paused_campaign(CampaignStatus status)
    {
        var variants = Fake.Variants(70, 30);
        Spec.Given(Histories.In(status))
            .When(Commands.Edit(name: " Summer Sale ", variants: variants))
            .Then(new CampaignEdited(Plan.Id, "Summer Sale", variants, Plan.Marketer, Spec.Now))
            .AndStatus(status);
    }

    [Theory, MemberData(nameof(NotEditable))]
    public void is_refused_in_any_other_status(CampaignStatus status)
    {
        var refusal = Spec.Given(Histories.In(status)).When(Commands.Edit()).ThenRejected(RejectionCode.NotEditable);
        Assert.Contains(status == CampaignStatus.Sent ? "sent campaign can't be edited" : status.ToDisplay(), refusal.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    public void needs_a_name(string name) =>
        Spec.Given(Histories.Paused()).When(Commands.Edit(name: name)).ThenRejected(RejectionCode.InvalidName);

    [Fact]
    public void needs_splits_adding_up_to_100_percent() =>
        Spec.Given(Histories.Draft()).When(Commands.Edit(variants: Fake.Variants(50, 40))).ThenRejected(RejectionCode.InvalidVariants);

    [Theory, MemberData(nameof(Invalid.Actors), MemberType = typeof(Invalid))]
    public void must_say_who_edits_it(Actor? by) =>
        Spec.Given(Histories.Draft()).When(Commands.Edit() with { EditedBy = by! }).ThenRejected(RejectionCode.InvalidActor);
}
