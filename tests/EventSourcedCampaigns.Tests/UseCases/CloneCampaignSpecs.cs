using EventSourcedCampaigns.Decisions;
using EventSourcedCampaigns.Tests.Support;
using Xunit;

namespace EventSourcedCampaigns.Tests.UseCases;

public class cloning_a_campaign
{
    public static TheoryData<CampaignStatus> Finished =>
        Statuses.Only(CampaignStatus.Sent, CampaignStatus.Cancelled, CampaignStatus.CancelledDuringSend);

    public static TheoryData<CampaignStatus> NotFinished =>
        Statuses.Except(CampaignStatus.Sent, CampaignStatus.Cancelled, CampaignStatus.CancelledDuringSend);

    [Theory, MemberData(nameof(Finished))]
    public void records_the_clone_in_the_finished_campaign(CampaignStatus status) =>
        Spec.Given(Histories.In(status))
            .When(Commands.Clone(remainderOnly: status == CampaignStatus.CancelledDuringSend))
            .Then(new CampaignCloned(Plan.Id, Commands.CloneId, RemainderOnly: status == CampaignStatus.CancelledDuringSend, Plan.Marketer, Spec.Now))
            .AndStatus(status);

    [Theory, MemberData(nameof(NotFinished))]
    public void only_a_sent_or_cancelled_campaign_can_be_cloned(CampaignStatus status)
    {
        var refusal = Spec.Given(Histories.In(status)).When(Commands.Clone()).ThenRejected(RejectionCode.NotCloneable);
        Assert.Contains(status.ToDisplay(), refusal.Message);
    }

    [Fact]
    public void the_clone_needs_an_id_of_its_own()
    {
        Spec.Given(Histories.Cancelled()).When(Commands.Clone(cloneId: Guid.Empty)).ThenRejected(RejectionCode.NotCloneable);
        Spec.Given(Histories.Cancelled()).When(Commands.Clone(cloneId: Plan.Id)).ThenRejected(RejectionCode.NotCloneable);
    }

    [Fact]
    public void a_fully_sent_campaign_has_no_remainder_to_clone()
    {
        var refusal = Spec.Given(Histories.Sent()).When(Commands.Clone(remainderOnly: true)).ThenRejected(RejectionCode.NotCloneable);
        Assert.Contains("no remainder", refusal.Message);
    }

    [Theory, MemberData(nameof(Invalid.Actors), MemberType = typeof(Invalid))]
    public void must_say_who_clones_it(Actor? by) =>
        Spec.Given(Histories.Cancelled()).When(Commands.Clone() with { ClonedBy = by! }).ThenRejected(RejectionCode.InvalidActor);
}

public class the_draft_of_a_clone
{
    private static readonly CampaignState CancelledMidSend = CampaignState.From(Histories.CancelledDuringSend())!;

    [Fact]
    public void is_created_with_the_source_content_and_where_it_came_from()
    {
        var clone = Commands.Clone(remainderOnly: true, by: Fake.Marketer());

        var create = Cloning.DraftFrom(CancelledMidSend, clone);

        Spec.GivenNoCampaign()
            .When(create)
            .Then(new CampaignCreated(Commands.CloneId, $"{Plan.Name} (copy)", Channel.Email, Plan.Variants,
                new CloneOrigin(Plan.Id, RemainderOnly: true), clone.ClonedBy, Spec.Now))
            .AndStatus(CampaignStatus.Draft);
    }

    [Fact]
    public void of_a_campaign_cancelled_before_it_sent_is_for_the_whole_audience_even_for_the_remainder()
    {
        // Nobody was reached: the remainder is everyone, resolved from the lists the clone is scheduled with.
        var create = Cloning.DraftFrom(CampaignState.From(Histories.Cancelled())!, Commands.Clone(remainderOnly: true));

        Assert.Equal(new CloneOrigin(Plan.Id, RemainderOnly: false), create.ClonedFrom);
    }

    [Fact]
    public void keeps_a_long_name_within_the_limit()
    {
        var longName = new string('x', 198);

        var create = Cloning.DraftFrom(CancelledMidSend with { Name = longName }, Commands.Clone());

        Spec.GivenNoCampaign()
            .When(create)
            .Then(new CampaignCreated(Commands.CloneId, longName + " (", Channel.Email, Plan.Variants,
                new CloneOrigin(Plan.Id, RemainderOnly: false), Plan.Marketer, Spec.Now));
    }
}
