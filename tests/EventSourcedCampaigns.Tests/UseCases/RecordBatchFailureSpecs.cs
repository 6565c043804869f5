using EventSourcedCampaigns.Tests.Support;
using Xunit;

namespace EventSourcedCampaigns.Tests.UseCases;

/// <summary>Histories.Sending(): batch 1 delivered (990 + 10 failed), batches 2 and 3 in flight, 4 and 5 not claimed.</summary>
public class recording_a_batch_failure
{
    private const string Error = "550 mailbox provider rejected the batch";

    public static TheoryData<CampaignStatus> NothingWasSent => Statuses.Except(
        CampaignStatus.Sending, CampaignStatus.Cancelling, CampaignStatus.Sent, CampaignStatus.CancelledDuringSend);

    [Fact]
    public void counts_every_recipient_of_the_batch_as_failed() =>
        Spec.Given(Histories.Sending())
            .When(Commands.Fail(2, Error))
            .Then(new BatchFailed(Plan.Id, 2, "B", 1_000, Error, AfterCancelRequest: false, Spec.Now))
            .AndStatus(CampaignStatus.Sending);

    [Theory]
    [InlineData("")]
    [InlineData("  ")]
    [InlineData(null)]
    public void a_failure_without_a_message_still_says_something(string? error) =>
        Spec.Given(Histories.Sending())
            .When(Commands.Fail(2) with { Error = error! })
            .Then(new BatchFailed(Plan.Id, 2, "B", 1_000, "unknown provider error", AfterCancelRequest: false, Spec.Now));

    [Fact]
    public void a_failed_last_batch_still_completes_the_send() =>
        Spec.Given(Histories.Sending(recorded: 4, inFlight: 1))
            .When(Commands.Fail(5, Error))
            .Then(
                new BatchFailed(Plan.Id, 5, "A", 500, Error, AfterCancelRequest: false, Spec.Now),
                new SendCompleted(Plan.Id, Delivered: 4 * 990, Failed: 4 * 10 + 500, Spec.Now))
            .AndStatus(CampaignStatus.Sent);

    [Fact]
    public void a_failure_of_the_last_batch_in_flight_makes_the_cancel_take_effect()
    {
        var history = Histories.Cancelling(recorded: 1, inFlight: 1);
        var requestedAt = history.Clock;
        Spec.Given(history)
            .When(Commands.Fail(2, Error))
            .Then(
                new BatchFailed(Plan.Id, 2, "B", 1_000, Error, AfterCancelRequest: true, Spec.Now),
                new CancelledDuringSend(Plan.Id, DeliveredBeforeRequest: 990, DeliveredAfterRequest: 0, Failed: 1_010,
                    NotSent: 2_500, requestedAt, Spec.Now, TimeToStop: Spec.Now - requestedAt))
            .AndStatus(CampaignStatus.CancelledDuringSend);
    }

    [Fact]
    public void an_outcome_reported_twice_is_counted_once()
    {
        Spec.Given(Histories.Sending().Then(Commands.Fail(2))).When(Commands.Fail(2)).ThenNothing();
        Spec.Given(Histories.Sending().Then(Commands.Deliver(2))).When(Commands.Fail(2)).ThenNothing();
    }

    [Fact]
    public void a_batch_never_claimed_cannot_fail() =>
        Spec.Given(Histories.Sending()).When(Commands.Fail(4)).ThenRejected(RejectionCode.BatchNotClaimed);

    [Theory]
    [InlineData(0)]
    [InlineData(Plan.Batches + 1)]
    public void the_batch_must_be_one_of_the_plan(int batch) =>
        Spec.Given(Histories.Sending()).When(Commands.Fail(batch)).ThenRejected(RejectionCode.BatchOutOfRange);

    [Fact]
    public void a_late_duplicate_after_the_send_completed_changes_nothing() =>
        Spec.Given(Histories.Sent()).When(Commands.Fail(3)).ThenNothing().AndStatus(CampaignStatus.Sent);

    [Fact]
    public void a_late_duplicate_after_a_cancel_took_effect_changes_nothing() =>
        Spec.Given(Histories.CancelledDuringSend()).When(Commands.Fail(2)).ThenNothing().AndStatus(CampaignStatus.CancelledDuringSend);

    [Fact]
    public void after_a_cancel_took_effect_a_batch_that_never_started_cannot_fail() =>
        Spec.Given(Histories.CancelledDuringSend()).When(Commands.Fail(3)).ThenRejected(RejectionCode.BatchNotClaimed);

    [Theory, MemberData(nameof(NothingWasSent))]
    public void is_refused_when_nothing_was_sent(CampaignStatus status) =>
        Spec.Given(Histories.In(status)).When(Commands.Fail(1)).ThenRejected(RejectionCode.NotSending);
}
