using EventSourcedCampaigns.Tests.Support;
using Xunit;

namespace EventSourcedCampaigns.Tests.UseCases;

/// <summary>Histories.Sending(): batch 1 delivered, batches 2 and 3 in flight, 4 and 5 not claimed.</summary>
public class claiming_a_batch
{
    public static TheoryData<CampaignStatus> CancelRequested =>
        Statuses.Only(CampaignStatus.Cancelling, CampaignStatus.Cancelled, CampaignStatus.CancelledDuringSend);

    public static TheoryData<CampaignStatus> NotSending =>
        Statuses.Except(CampaignStatus.Sending, CampaignStatus.Cancelling, CampaignStatus.Cancelled, CampaignStatus.CancelledDuringSend);

    [Fact]
    public void hands_the_next_batch_to_the_provider() =>
        Spec.Given(Histories.Sending())
            .When(Commands.Claim(4))
            .Then(new BatchClaimed(Plan.Id, 4, "B", 1_000, Spec.Now))
            .AndStatus(CampaignStatus.Sending);

    [Fact]
    public void the_last_batch_holds_the_remaining_recipients() =>
        Spec.Given(Histories.Sending(recorded: 1, inFlight: 3))
            .When(Commands.Claim(5))
            .Then(new BatchClaimed(Plan.Id, 5, "A", 500, Spec.Now));

    [Fact]
    public void claiming_a_batch_in_flight_again_changes_nothing() =>
        Spec.Given(Histories.Sending()).When(Commands.Claim(2)).ThenNothing();

    [Fact]
    public void a_recorded_batch_is_not_sent_twice() =>
        Spec.Given(Histories.Sending()).When(Commands.Claim(1)).ThenRejected(RejectionCode.BatchAlreadyRecorded);

    [Theory, MemberData(nameof(CancelRequested))]
    public void no_batch_starts_once_a_cancel_was_requested(CampaignStatus status)
    {
        var refusal = Spec.Given(Histories.In(status)).When(Commands.Claim(4)).ThenRejected(RejectionCode.ClaimLostToCancel);
        Assert.Contains("cancelled", refusal.Message);
    }

    [Fact]
    public void a_batch_in_flight_when_the_cancel_came_is_not_claimed_again() =>
        Spec.Given(Histories.Cancelling()).When(Commands.Claim(2)).ThenRejected(RejectionCode.ClaimLostToCancel);

    [Theory, MemberData(nameof(NotSending))]
    public void is_refused_when_the_campaign_is_not_sending(CampaignStatus status) =>
        Spec.Given(Histories.In(status)).When(Commands.Claim(1)).ThenRejected(RejectionCode.NotSending);

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(Plan.Batches + 1)]
    [InlineData(int.MaxValue)]
    public void the_batch_must_be_one_of_the_plan(int batch) =>
        Spec.Given(Histories.Sending()).When(Commands.Claim(batch, "A", 1)).ThenRejected(RejectionCode.BatchOutOfRange);

    [Fact]
    public void the_variant_must_be_one_of_the_campaign() =>
        Spec.Given(Histories.Sending()).When(Commands.Claim(4, variant: "C")).ThenRejected(RejectionCode.UnknownVariant);

    [Theory]
    [InlineData(0)]
    [InlineData(-1_000)]
    [InlineData(Plan.BatchSize + 1)]
    public void the_batch_holds_between_one_recipient_and_the_batch_size(int recipients) =>
        Spec.Given(Histories.Sending()).When(Commands.Claim(4, recipients: recipients)).ThenRejected(RejectionCode.InvalidCount);

    [Fact]
    public void the_refusal_says_how_many_recipients_the_batch_may_hold()
    {
        var refusal = Spec.Given(Histories.Sending(recorded: 1, inFlight: 3)).When(Commands.Claim(5, recipients: 501)).ThenRejected(RejectionCode.InvalidCount);
        Assert.Equal("Batch 5 must hold between 1 and 500 recipients, not 501.", refusal.Message);
    }

    [Fact]
    public void a_batch_cannot_hold_more_recipients_than_are_left() =>
        Spec.Given(Histories.Sending(recorded: 1, inFlight: 3)).When(Commands.Claim(5, recipients: 501)).ThenRejected(RejectionCode.InvalidCount);
}
