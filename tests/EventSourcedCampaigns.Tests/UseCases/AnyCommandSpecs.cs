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

    [Fact]
    public void dated_at_the_very_moment_of_the_last_change_is_fine()
    {
        var history = Histories.Scheduled();
        Spec.Given(history).At(history.Clock).When(Commands.Pause()).Then(new SchedulePaused(Plan.Id, Plan.Marketer, history.Clock));
    }
}
