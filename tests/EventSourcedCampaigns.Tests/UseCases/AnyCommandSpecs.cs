using EventSourcedCampaigns.Tests.Support;
using Xunit;

namespace EventSourcedCampaigns.Tests.UseCases;

/// <summary>Rules the decider applies before any use case: the campaign must exist, and time only moves forward.</summary>
public class any_command
{
    [Theory, MemberData(nameof(Commands.NamesOfAllButCreate), MemberType = typeof(Commands))]
    public void on_a_campaign_that_does_not_exist_is_refused(string command) =>
        Spec.GivenNoCampaign().When(Commands.AllButCreate[command]).ThenRejected(RejectionCode.CampaignNotFound);

    [Theory, MemberData(nameof(Commands.NamesOfAllButCreate), MemberType = typeof(Commands))]
    public void dated_before_the_campaigns_last_change_is_refused(string command)
    {
        var history = Histories.Scheduled();
        Spec.Given(history).At(history.Clock.AddTicks(-1)).When(Commands.AllButCreate[command]).ThenRejected(RejectionCode.TimeWentBackwards);
    }

    /// <summary>The send pipeline and the scheduler act as Actor.System, stored as such.</summary>
    [Fact]
    public void may_be_made_by_the_system_itself() =>
        Spec.Given(Histories.Scheduled())
            .When(Commands.Pause(Actor.System))
            .Then(new SchedulePaused(Plan.Id, new Actor("system", RequestChannel.System), Spec.Now));

    [Fact]
    public void of_a_kind_the_decider_does_not_know_is_a_programming_error()
    {
        var thrown = Assert.Throws<ArgumentOutOfRangeException>(() => Decider.Decide(new ArchiveCampaign(Plan.Id), Histories.Draft().State, Spec.Now));

        Assert.Equal("command", thrown.ParamName);
        Assert.Equal(nameof(ArchiveCampaign), thrown.ActualValue);
        Assert.StartsWith("Unknown campaign command.", thrown.Message);
    }

    private sealed record ArchiveCampaign(Guid CampaignId) : CampaignCommand(CampaignId);

    [Fact]
    public void dated_at_the_very_moment_of_the_last_change_is_fine()
    {
        var history = Histories.Scheduled();
        Spec.Given(history).At(history.Clock).When(Commands.Pause()).Then(new SchedulePaused(Plan.Id, Plan.Marketer, history.Clock));
    }
}
