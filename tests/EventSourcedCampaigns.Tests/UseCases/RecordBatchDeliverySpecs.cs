using EventSourcedCampaigns.Tests.Support;
using Xunit;

namespace EventSourcedCampaigns.Tests.UseCases;

/// <summary>Histories.Sending(): batch 1 delivered (990 + 10 failed), batches 2 and 3 in flight, 4 and 5 not claimed.
/// Histories.Cancelling(): the same, then the cancel requested.</summary>
public class recording_a_batch_delivery
{
    public static TheoryData<CampaignStatus> NothingWasSent => Statuses.Except(
        CampaignStatus.Sending, CampaignStatus.Cancelling, CampaignStatus.Sent, CampaignStatus.CancelledDuringSend);

    [Fact]
    public void counts_the_delivered_and_failed_messages() =>
        Spec.Given(Histories.Sending())
            .When(Commands.Deliver(2, delivered: 980, failed: 20))
            .Then(new BatchDelivered(Plan.Id, 2, "B", 980, 20, AfterCancelRequest: false, Spec.Now))
            .AndStatus(CampaignStatus.Sending);

    [Theory]
    [InlineData(0, 1_000)]
    [InlineData(1_000, 0)]
    public void every_message_of_a_batch_may_have_failed_or_none(int delivered, int failed) =>
        Spec.Given(Histories.Sending())
            .When(Commands.Deliver(2, delivered, failed))
            .Then(new BatchDelivered(Plan.Id, 2, "B", delivered, failed, AfterCancelRequest: false, Spec.Now));

    [Fact]
    public void the_last_batch_completes_the_send() =>
        Spec.Given(Histories.Sending(recorded: 4, inFlight: 1))
            .When(Commands.Deliver(5))
            .Then(
                new BatchDelivered(Plan.Id, 5, "A", 490, 10, AfterCancelRequest: false, Spec.Now),
                new SendCompleted(Plan.Id, Delivered: 4 * 990 + 490, Failed: 5 * 10, Spec.Now))
            .AndStatus(CampaignStatus.Sent);

    [Fact]
    public void a_delivery_reported_twice_is_counted_once()
    {
        Spec.Given(Histories.Sending().Then(Commands.Deliver(2))).When(Commands.Deliver(2)).ThenNothing();
        Spec.Given(Histories.Sending().Then(Commands.Deliver(2))).When(Commands.Deliver(2, delivered: 1_000, failed: 0)).ThenNothing();
    }

    [Fact]
    public void a_batch_in_flight_when_the_cancel_came_is_still_recorded_as_delivered_after_the_request() =>
        Spec.Given(Histories.Cancelling(recorded: 1, inFlight: 2))
            .When(Commands.Deliver(2))
            .Then(new BatchDelivered(Plan.Id, 2, "B", 990, 10, AfterCancelRequest: true, Spec.Now))
            .AndStatus(CampaignStatus.Cancelling);

    [Fact]
    public void the_last_batch_in_flight_makes_the_cancel_take_effect()
    {
        var history = Histories.Cancelling(recorded: 1, inFlight: 1);
        var requestedAt = history.Clock;
        Spec.Given(history)
            .When(Commands.Deliver(2))
            .Then(
                new BatchDelivered(Plan.Id, 2, "B", 990, 10, AfterCancelRequest: true, Spec.Now),
                new CancelledDuringSend(Plan.Id, DeliveredBeforeRequest: 990, DeliveredAfterRequest: 990, Failed: 20,
                    NotSent: 2_500, requestedAt, Spec.Now, TimeToStop: Spec.Now - requestedAt))
            .AndStatus(CampaignStatus.CancelledDuringSend);
    }

    // An earlier attempt got part of a batch through (the adapter named those recipients), and the cancel committed while
    // the rest waited to be tried again: the send gate released the rest, which was never handed to the provider.

    [Fact]
    public void after_a_cancel_the_part_of_a_batch_never_tried_again_counts_as_not_sent()
    {
        var outcome = Spec.Given(Histories.Cancelling())
            .When(Commands.Deliver(2, delivered: 600, failed: 10, notSent: 390))
            .Then(new BatchDelivered(Plan.Id, 2, "B", 600, 10, AfterCancelRequest: true, Spec.Now, NotSent: 390))
            .AndStatus(CampaignStatus.Cancelling);

        var progress = Assert.IsType<CampaignPhase.Cancelling>(outcome.State!.Phase).Progress;
        Assert.Equal((990L + 600, 20L, 600L, 1_000L), (progress.Delivered, progress.Failed, progress.DeliveredAfterRequest, progress.InFlightRecipients));
        Assert.True(progress.Recorded.Contains(2));
        // Batch 2's 390, and batches 4 and 5 (1,500) never claimed.
        Assert.Equal(390 + 1_500, progress.NotSent(Assert.IsType<CampaignPhase.Cancelling>(outcome.State.Phase).Plan));
    }

    [Fact]
    public void the_last_batch_in_flight_makes_the_cancel_take_effect_with_its_part_not_sent_in_the_not_sent_total()
    {
        var history = Histories.Cancelling(recorded: 1, inFlight: 1);
        var requestedAt = history.Clock;
        Spec.Given(history)
            .When(Commands.Deliver(2, delivered: 600, failed: 10, notSent: 390))
            .Then(
                new BatchDelivered(Plan.Id, 2, "B", 600, 10, AfterCancelRequest: true, Spec.Now, NotSent: 390),
                new CancelledDuringSend(Plan.Id, DeliveredBeforeRequest: 990, DeliveredAfterRequest: 600, Failed: 20,
                    NotSent: 390 + 2_500, requestedAt, Spec.Now, TimeToStop: Spec.Now - requestedAt))
            .AndStatus(CampaignStatus.CancelledDuringSend);
    }

    [Theory]
    [InlineData(989, 10, 1)] // one recipient left
    [InlineData(0, 1, 999)] // only a refusal got through
    [InlineData(1, 0, 999)]
    [InlineData(0, 0, 1_000)] // nothing got through: counted as a released batch is
    public void after_a_cancel_any_not_sent_part_that_adds_up_with_the_others_to_the_batch_is_recorded(int delivered, int failed, int notSent) =>
        Spec.Given(Histories.Cancelling())
            .When(Commands.Deliver(2, delivered, failed, notSent))
            .Then(new BatchDelivered(Plan.Id, 2, "B", delivered, failed, AfterCancelRequest: true, Spec.Now, notSent));

    [Theory]
    [InlineData(2, 1)] // in flight
    [InlineData(2, 1_000)]
    [InlineData(1, 1)] // recorded
    [InlineData(4, 1)] // never claimed
    public void without_a_cancel_no_part_of_a_batch_may_be_left_not_sent(int batch, int notSent)
    {
        var rejection = Spec.Given(Histories.Sending()).When(Commands.Deliver(batch, failed: 0, notSent: notSent)).ThenRejected(RejectionCode.NotCancelling);
        Assert.Contains("not cancelled", rejection.Message);
    }

    [Theory]
    [InlineData(600, 10, 389)]
    [InlineData(600, 10, 391)]
    [InlineData(1_001, 0, -1)] // adds up, but a count can't be negative
    [InlineData(-1, 1, 1_000)]
    [InlineData(int.MaxValue, int.MaxValue, 1_002)] // 1,000 only if the sum overflowed
    public void after_a_cancel_delivered_failed_and_not_sent_must_add_up_to_the_batchs_recipients(int delivered, int failed, int notSent) =>
        Spec.Given(Histories.Cancelling()).When(Commands.Deliver(2, delivered, failed, notSent)).ThenRejected(RejectionCode.InvalidCount);

    [Fact]
    public void a_negative_not_sent_part_is_refused_as_a_bad_count_even_without_a_cancel() =>
        Spec.Given(Histories.Sending()).When(Commands.Deliver(2, delivered: 991, failed: 10, notSent: -1)).ThenRejected(RejectionCode.InvalidCount);

    [Fact]
    public void a_batch_with_a_part_not_sent_reported_again_is_counted_once()
    {
        var partly = Commands.Deliver(2, delivered: 600, failed: 10, notSent: 390);
        Spec.Given(Histories.Cancelling().Then(partly)).When(partly).ThenNothing().AndStatus(CampaignStatus.Cancelling);
        Spec.Given(Histories.Cancelling(recorded: 1, inFlight: 1).Then(partly)).When(partly).ThenNothing().AndStatus(CampaignStatus.CancelledDuringSend);
        Spec.Given(Histories.Cancelling().Then(Commands.Release(2))).When(partly).ThenNothing();
        Spec.Given(Histories.Sent()).When(Commands.Deliver(2, notSent: 1)).ThenNothing().AndStatus(CampaignStatus.Sent);
    }

    [Fact]
    public void a_batch_never_claimed_was_never_sent() =>
        Spec.Given(Histories.Sending()).When(Commands.Deliver(4)).ThenRejected(RejectionCode.BatchNotClaimed);

    [Theory]
    [InlineData(0)]
    [InlineData(Plan.Batches + 1)]
    public void the_batch_must_be_one_of_the_plan(int batch) =>
        Spec.Given(Histories.Sending()).When(Commands.Deliver(batch, delivered: 1, failed: 0)).ThenRejected(RejectionCode.BatchOutOfRange);

    [Theory]
    [InlineData(-1, 1_001)]
    [InlineData(1_001, -1)]
    [InlineData(995, 10)]
    [InlineData(0, 0)]
    [InlineData(int.MaxValue, int.MaxValue)]
    public void delivered_plus_failed_must_be_the_batchs_recipients(int delivered, int failed) =>
        Spec.Given(Histories.Sending()).When(Commands.Deliver(2, delivered, failed)).ThenRejected(RejectionCode.InvalidCount);

    [Fact]
    public void a_late_duplicate_after_the_send_completed_changes_nothing() =>
        Spec.Given(Histories.Sent()).When(Commands.Deliver(3)).ThenNothing().AndStatus(CampaignStatus.Sent);

    [Fact]
    public void a_late_duplicate_after_a_cancel_took_effect_changes_nothing() =>
        Spec.Given(Histories.CancelledDuringSend()).When(Commands.Deliver(2)).ThenNothing().AndStatus(CampaignStatus.CancelledDuringSend);

    [Fact]
    public void after_a_cancel_took_effect_a_batch_that_never_started_cannot_be_delivered() =>
        Spec.Given(Histories.CancelledDuringSend()).When(Commands.Deliver(3)).ThenRejected(RejectionCode.BatchNotClaimed);

    [Theory, MemberData(nameof(NothingWasSent))]
    public void is_refused_when_nothing_was_sent(CampaignStatus status)
    {
        Spec.Given(Histories.In(status)).When(Commands.Deliver(1)).ThenRejected(RejectionCode.NotSending);
        Spec.Given(Histories.In(status)).When(Commands.Deliver(1, notSent: 1)).ThenRejected(RejectionCode.NotSending);
    }
}
