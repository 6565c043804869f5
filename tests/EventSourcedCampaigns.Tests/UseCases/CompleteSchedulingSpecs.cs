using EventSourcedCampaigns.Tests.Support;
using Xunit;

namespace EventSourcedCampaigns.Tests.UseCases;

public class completing_scheduling
{
    public static TheoryData<CampaignStatus> NeitherSchedulingNorScheduled =>
        Statuses.Except(CampaignStatus.Scheduling, CampaignStatus.Scheduled);

    [Fact]
    public void makes_the_campaign_ready_to_send() =>
        Spec.Given(Histories.Scheduling())
            .When(Commands.Complete())
            .Then(new SchedulingCompleted(Plan.Id, Plan.Recipients, Plan.Batches, Plan.Shares, Spec.Now))
            .AndStatus(CampaignStatus.Scheduled);

    [Fact]
    public void reported_twice_changes_nothing() =>
        Spec.Given(Histories.Scheduled()).When(Commands.Complete()).ThenNothing().AndStatus(CampaignStatus.Scheduled);

    [Fact]
    public void reported_again_with_other_counts_is_refused() =>
        Spec.Given(Histories.Scheduled()).When(Commands.Complete(recipients: 4_600)).ThenRejected(RejectionCode.NotScheduling);

    [Theory, MemberData(nameof(NeitherSchedulingNorScheduled))]
    public void is_refused_when_the_campaign_is_not_being_scheduled(CampaignStatus status) =>
        Spec.Given(Histories.In(status)).When(Commands.Complete()).ThenRejected(RejectionCode.NotScheduling);

    [Fact]
    public void an_audience_that_excludes_everyone_cannot_be_sent() =>
        Spec.Given(Histories.Scheduling()).When(Commands.Complete(recipients: 0, batches: 0, shares: [])).ThenRejected(RejectionCode.InvalidAudience);

    [Fact]
    public void a_single_recipient_is_an_audience() =>
        Spec.Given(Histories.Scheduling())
            .When(Commands.Complete(recipients: 1, batches: 1, shares: [new("A", 1), new("B", 0)]))
            .Then(new SchedulingCompleted(Plan.Id, 1, 1, [new("A", 1), new("B", 0)], Spec.Now))
            .AndStatus(CampaignStatus.Scheduled);

    [Theory]
    [InlineData(4_500, 4)] // 4,500 recipients need at least 5 batches of 1,000
    [InlineData(10, 11)] // more batches than recipients
    [InlineData(long.MaxValue, 1)] // so many recipients that counting the batches overflows
    [InlineData(4_500, -1)]
    public void the_batches_must_fit_the_recipients(long recipients, int batches) =>
        Spec.Given(Histories.Scheduling())
            .When(Commands.Complete(recipients, batches, [new("A", recipients)]))
            .ThenRejected(RejectionCode.InvalidCount);

    [Fact]
    public void batches_smaller_than_the_batch_size_are_fine() =>
        Spec.Given(Histories.Scheduling())
            .When(Commands.Complete(recipients: 10, batches: 10, shares: [new("A", 10)]))
            .Then(new SchedulingCompleted(Plan.Id, 10, 10, [new("A", 10)], Spec.Now));

    public static TheoryData<string, VariantShare[]?> UnknownShares => new()
    {
        { "a variant the campaign doesn't have", [new("A", 2_500), new("C", 2_000)] },
        { "the same variant twice", [new("A", 2_500), new("A", 2_000)] },
        { "no split at all", null },
        { "a missing share", [new("A", 4_500), null!] },
    };

    [Theory, MemberData(nameof(UnknownShares))]
    public void the_split_must_be_over_the_campaigns_variants(string _, VariantShare[]? shares) =>
        Spec.Given(Histories.Scheduling()).When(Commands.Complete() with { Variants = shares! }).ThenRejected(RejectionCode.UnknownVariant);

    public static TheoryData<string, VariantShare[]> WrongShares => new()
    {
        { "shares adding up to less", [new("A", 2_500), new("B", 1_999)] },
        { "shares adding up to more", [new("A", 2_500), new("B", 2_001)] },
        { "a negative share", [new("A", 5_000), new("B", -500)] },
        { "shares that overflow when added", [new("A", long.MaxValue), new("B", long.MaxValue)] },
    };

    [Theory, MemberData(nameof(WrongShares))]
    public void the_variants_recipients_must_add_up_to_the_total(string _, VariantShare[] shares) =>
        Spec.Given(Histories.Scheduling()).When(Commands.Complete(shares: shares)).ThenRejected(RejectionCode.InvalidCount);
}
