using EventSourcedCampaigns.Tests.Support;
using Xunit;

namespace EventSourcedCampaigns.Tests.UseCases;

/// <summary>The pipeline could not resolve the audience (an unknown list, say) of the schedule made at <c>ScheduledAt</c>.</summary>
public class failing_scheduling
{
    private const string Reason = "The list 'seg_vip' does not exist.";

    public static TheoryData<CampaignStatus> NotScheduling => Statuses.Except(CampaignStatus.Scheduling);

    private static DateTimeOffset ScheduledAt(Story history) =>
        Assert.IsType<CampaignPhase.Scheduling>(history.State!.Phase).Schedule.ScheduledAt;

    [Fact]
    public void makes_the_campaign_a_draft_again_with_the_reason()
    {
        var history = Histories.Scheduling();
        Spec.Given(history)
            .When(Commands.FailScheduling(ScheduledAt(history), Reason))
            .Then(new SchedulingFailed(Plan.Id, Reason, Spec.Now))
            .AndStatus(CampaignStatus.Draft);
    }

    [Fact]
    public void the_draft_can_be_fixed_and_scheduled_again()
    {
        var history = Histories.Scheduling();
        var failed = history.Then(Commands.FailScheduling(ScheduledAt(history)));
        Spec.Given(failed).When(Commands.Edit()).Then(new CampaignEdited(Plan.Id, "Spring Sale (final)", Plan.Variants, Plan.Marketer, Spec.Now));
        Spec.Given(failed).When(Commands.Schedule(Spec.Now.AddDays(1)))
            .Then(new Scheduled(Plan.Id, Spec.Now.AddDays(1), Plan.Audience, Plan.BatchSize, Plan.Marketer, Spec.Now))
            .AndStatus(CampaignStatus.Scheduling);
    }

    [Fact]
    public void NUL_characters_are_dropped_from_the_reason()
    {
        var history = Histories.Scheduling();
        Spec.Given(history)
            .When(Commands.FailScheduling(ScheduledAt(history), "The list\0 service is down"))
            .Then(new SchedulingFailed(Plan.Id, "The list service is down", Spec.Now));
    }

    [Fact]
    public void an_unpaired_surrogate_in_the_reason_is_replaced_so_the_event_can_be_stored()
    {
        var history = Histories.Scheduling();
        Spec.Given(history)
            .When(Commands.FailScheduling(ScheduledAt(history), "The list \ud83d service is down"))
            .Then(new SchedulingFailed(Plan.Id, "The list \ufffd service is down", Spec.Now));
    }

    [Fact]
    public void the_reason_is_trimmed()
    {
        var history = Histories.Scheduling();
        Spec.Given(history)
            .When(Commands.FailScheduling(ScheduledAt(history), $"  {Reason}\n"))
            .Then(new SchedulingFailed(Plan.Id, Reason, Spec.Now));
    }

    [Theory]
    [InlineData("")]
    [InlineData(" \t ")]
    [InlineData(null)]
    [InlineData("\0")]
    public void a_failure_without_a_reason_still_says_something(string? reason)
    {
        var history = Histories.Scheduling();
        Spec.Given(history)
            .When(Commands.FailScheduling(ScheduledAt(history), reason!))
            .Then(new SchedulingFailed(Plan.Id, "unknown error", Spec.Now));
    }

    [Fact]
    public void a_long_reason_is_cut_to_the_longest_kept()
    {
        var history = Histories.Scheduling();
        Spec.Given(history)
            .When(Commands.FailScheduling(ScheduledAt(history), new string('x', 1_500)))
            .Then(new SchedulingFailed(Plan.Id, new string('x', 1_000), Spec.Now));
        // A character outside the BMP is never cut in half.
        Spec.Given(history)
            .When(Commands.FailScheduling(ScheduledAt(history), new string('x', 999) + "\U0001F4E7" + "y"))
            .Then(new SchedulingFailed(Plan.Id, new string('x', 999), Spec.Now));
        Spec.Given(history)
            .When(Commands.FailScheduling(ScheduledAt(history), new string('x', 1_000) + "y"))
            .Then(new SchedulingFailed(Plan.Id, new string('x', 1_000), Spec.Now));
    }

    [Fact]
    public void a_stale_failure_of_an_earlier_reverted_schedule_changes_nothing()
    {
        var first = Histories.Scheduling();
        var earlier = ScheduledAt(first);
        var again = first.Then(Commands.Revert()).Then(Commands.Schedule(Histories.SendAt.AddDays(1)));
        Assert.NotEqual(earlier, ScheduledAt(again));
        Spec.Given(again).When(Commands.FailScheduling(earlier)).ThenNothing().AndStatus(CampaignStatus.Scheduling);
    }

    [Theory, MemberData(nameof(NotScheduling))]
    public void is_refused_when_the_campaign_is_not_being_scheduled(CampaignStatus status) =>
        Spec.Given(Histories.In(status)).When(Commands.FailScheduling(Histories.Start)).ThenRejected(RejectionCode.NotScheduling);

    [Fact]
    public void reported_again_after_the_campaign_went_back_to_draft_is_refused()
    {
        var history = Histories.Scheduling();
        var failure = Commands.FailScheduling(ScheduledAt(history));
        Spec.Given(history.Then(failure)).When(failure).ThenRejected(RejectionCode.NotScheduling);
    }
}
