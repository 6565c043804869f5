using EventSourcedCampaigns.Tests.Support;
using Xunit;

namespace EventSourcedCampaigns.Tests.UseCases;

/// <summary>Histories.Sending(): batch 1 delivered (990 + 10 failed), batches 2 and 3 in flight, 4 and 5 not claimed.</summary>
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
    public void is_refused_when_nothing_was_sent(CampaignStatus status) =>
        Spec.Given(Histories.In(status)).When(Commands.Deliver(1)).ThenRejected(RejectionCode.NotSending);
}
