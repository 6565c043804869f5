using EventSourcedCampaigns.Tests.Support;
using Xunit;

namespace EventSourcedCampaigns.Tests.UseCases;

public class recording_scheduling_progress
{
    // Histories.Scheduling() has prepared 2,000 of 4,500 recipients into 2 batches.

    public static TheoryData<CampaignStatus> NotScheduling => Statuses.Except(CampaignStatus.Scheduling);

    [Fact]
    public void records_how_far_the_audience_is_prepared() =>
        Spec.Given(Histories.Scheduling())
            .When(Commands.Progress(3_000, batches: 3))
            .Then(new SchedulingProgressed(Plan.Id, 3_000, Plan.Recipients, 3, Spec.Now))
            .AndStatus(CampaignStatus.Scheduling);

    [Fact]
    public void the_total_may_be_revised_as_lists_are_resolved() =>
        Spec.Given(Histories.Scheduling())
            .When(Commands.Progress(2_000, total: 9_000, batches: 2))
            .Then(new SchedulingProgressed(Plan.Id, 2_000, 9_000, 2, Spec.Now));

    [Fact]
    public void the_first_report_may_have_prepared_nothing_yet() =>
        Spec.Given(Histories.Draft().Then(Commands.Schedule(Histories.SendAt)))
            .When(Commands.Progress(0, total: Plan.Recipients, batches: 0))
            .Then(new SchedulingProgressed(Plan.Id, 0, Plan.Recipients, 0, Spec.Now))
            .AndStatus(CampaignStatus.Scheduling);

    [Fact]
    public void every_recipient_may_be_prepared() =>
        Spec.Given(Histories.Scheduling())
            .When(Commands.Progress(Plan.Recipients, batches: Plan.Batches))
            .Then(new SchedulingProgressed(Plan.Id, Plan.Recipients, Plan.Recipients, Plan.Batches, Spec.Now));

    [Fact]
    public void the_same_progress_again_changes_nothing() =>
        Spec.Given(Histories.Scheduling()).When(Commands.Progress(2_000, batches: 2)).ThenNothing();

    [Theory, MemberData(nameof(NotScheduling))]
    public void is_refused_when_the_campaign_is_not_being_scheduled(CampaignStatus status) =>
        Spec.Given(Histories.In(status)).When(Commands.Progress(3_000, batches: 3)).ThenRejected(RejectionCode.NotScheduling);

    [Theory]
    [InlineData(-1, 4_500, 0)]
    [InlineData(4_501, 4_500, 5)]
    [InlineData(3_000, 4_500, -1)]
    [InlineData(1_999, 4_500, 2)]
    [InlineData(3_000, 4_500, 1)]
    [InlineData(long.MinValue, long.MinValue, 0)]
    public void refuses_counts_out_of_range_or_going_backwards(long prepared, long total, int batches) =>
        Spec.Given(Histories.Scheduling()).When(Commands.Progress(prepared, total, batches)).ThenRejected(RejectionCode.InvalidCount);
}
