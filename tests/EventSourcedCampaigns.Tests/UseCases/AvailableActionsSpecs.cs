using EventSourcedCampaigns.Tests.Support;
using Xunit;

namespace EventSourcedCampaigns.Tests.UseCases;

/// <summary>The buttons the Campaigns tab offers (AvailableActions) are exactly the commands the decider accepts with effect.</summary>
public sealed class the_available_actions
{
    private static readonly (CampaignActions Action, Func<CampaignCommand> Command)[] Actions =
    [
        (CampaignActions.Edit, () => Commands.Edit("Edited name")),
        (CampaignActions.Schedule, () => Commands.Schedule(Spec.Now.AddDays(1))),
        (CampaignActions.Pause, () => Commands.Pause()),
        (CampaignActions.Resume, () => Commands.Resume()),
        (CampaignActions.RevertToDraft, () => Commands.Revert()),
        (CampaignActions.Cancel, () => Commands.Cancel()),
        (CampaignActions.Clone, () => Commands.Clone()),
    ];

    [Theory]
    [MemberData(nameof(Statuses.All), MemberType = typeof(Statuses))]
    public void match_what_the_decider_accepts(CampaignStatus status)
    {
        var state = Histories.In(status).State;
        var offered = AvailableActions.For(status);
        foreach (var (action, command) in Actions)
        {
            var decision = Decider.Decide(command(), state, Spec.Now);
            var takesEffect = !decision.IsRejected && decision.Events.Count > 0;
            Assert.True(takesEffect == offered.HasFlag(action),
                $"{status}: {action} is {(offered.HasFlag(action) ? "" : "not ")}offered but the decider {(takesEffect ? "accepts" : "does not accept")} it.");
        }
    }
}
