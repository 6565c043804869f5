using EventSourcedCampaigns.Tests.Support;
using Xunit;

namespace EventSourcedCampaigns.Tests.UseCases;

/// <summary>
/// Histories.Cancelling(): batch 1 delivered (990 + 10 failed) before the cancel, batches 2 (B) and 3 (A) in flight,
/// 4 and 5 never claimed. The pipeline releases a claimed batch whose provider call never started.
/// </summary>
public class releasing_a_batch
{
    public static TheoryData<CampaignStatus> NothingWasSent => Statuses.Except(
        CampaignStatus.Sending, CampaignStatus.Cancelling, CampaignStatus.Sent, CampaignStatus.CancelledDuringSend);

    [Fact]
    public void after_a_cancel_takes_the_batch_out_of_flight_as_not_sent()
    {
        var outcome = Spec.Given(Histories.Cancelling())
            .When(Commands.Release(2))
            .Then(new BatchReleased(Plan.Id, 2, "B", 1_000, Spec.Now))
            .AndStatus(CampaignStatus.Cancelling);

        var cancelling = Assert.IsType<CampaignPhase.Cancelling>(outcome.State!.Phase);
        Assert.Equal((990L, 10L, 1_000L), (cancelling.Progress.Delivered, cancelling.Progress.Failed, cancelling.Progress.InFlightRecipients));
        Assert.Equal(4_500 - 1_000 - 1_000, cancelling.Progress.NotSent(cancelling.Plan));
    }

    [Fact]
    public void releasing_the_last_batch_in_flight_makes_the_cancel_take_effect()
    {
        var history = Histories.Cancelling(recorded: 1, inFlight: 1);
        var requestedAt = history.Clock;
        Spec.Given(history)
            .When(Commands.Release(2))
            .Then(
                new BatchReleased(Plan.Id, 2, "B", 1_000, Spec.Now),
                new CancelledDuringSend(Plan.Id, DeliveredBeforeRequest: 990, DeliveredAfterRequest: 0, Failed: 10,
                    NotSent: 3_500, requestedAt, Spec.Now, TimeToStop: Spec.Now - requestedAt))
            .AndStatus(CampaignStatus.CancelledDuringSend);
    }

    [Fact]
    public void released_after_another_batch_was_delivered_counts_each_batch_where_it_belongs()
    {
        var history = Histories.Cancelling().Then(Commands.Deliver(2));
        var requestedAt = history.Clock.AddMinutes(-1);
        Spec.Given(history)
            .When(Commands.Release(3))
            .Then(
                new BatchReleased(Plan.Id, 3, "A", 1_000, Spec.Now),
                new CancelledDuringSend(Plan.Id, DeliveredBeforeRequest: 990, DeliveredAfterRequest: 990, Failed: 20,
                    NotSent: 2_500, requestedAt, Spec.Now, TimeToStop: Spec.Now - requestedAt))
            .AndStatus(CampaignStatus.CancelledDuringSend);
    }

    [Fact]
    public void a_late_delivery_of_a_released_batch_is_not_counted()
    {
        var released = Histories.Cancelling().Then(Commands.Release(2));
        Spec.Given(released).When(Commands.Deliver(2)).ThenNothing().AndStatus(CampaignStatus.Cancelling);
        Spec.Given(released).When(Commands.Fail(2)).ThenNothing().AndStatus(CampaignStatus.Cancelling);

        var stopped = Histories.Cancelling(recorded: 1, inFlight: 1).Then(Commands.Release(2));
        var outcome = Spec.Given(stopped).When(Commands.Deliver(2)).ThenNothing().AndStatus(CampaignStatus.CancelledDuringSend);
        var done = Assert.IsType<CampaignPhase.CancelledDuringSend>(outcome.State!.Phase);
        Assert.Equal((990L, 10L, 3_500L), (done.Progress.Delivered, done.Progress.Failed, done.Progress.NotSent(done.Plan)));
    }

    [Fact]
    public void released_twice_changes_nothing()
    {
        Spec.Given(Histories.Cancelling().Then(Commands.Release(2))).When(Commands.Release(2)).ThenNothing().AndStatus(CampaignStatus.Cancelling);
        Spec.Given(Histories.Cancelling(recorded: 1, inFlight: 1).Then(Commands.Release(2)))
            .When(Commands.Release(2)).ThenNothing().AndStatus(CampaignStatus.CancelledDuringSend);
    }

    [Fact]
    public void a_batch_already_delivered_or_failed_stays_as_recorded()
    {
        Spec.Given(Histories.Cancelling()).When(Commands.Release(1)).ThenNothing().AndStatus(CampaignStatus.Cancelling);
        Spec.Given(Histories.Cancelling().Then(Commands.Fail(2))).When(Commands.Release(2)).ThenNothing();
        Spec.Given(Histories.CancelledDuringSend()).When(Commands.Release(2)).ThenNothing().AndStatus(CampaignStatus.CancelledDuringSend);
    }

    [Theory]
    [InlineData(1)] // recorded
    [InlineData(2)] // in flight
    [InlineData(4)] // never claimed
    public void without_a_cancel_is_refused_because_the_batch_must_be_sent(int batch)
    {
        var rejection = Spec.Given(Histories.Sending()).When(Commands.Release(batch)).ThenRejected(RejectionCode.NotCancelling);
        Assert.Contains("not cancelled", rejection.Message);
    }

    [Fact]
    public void a_batch_never_claimed_cannot_be_released()
    {
        Spec.Given(Histories.Cancelling()).When(Commands.Release(4)).ThenRejected(RejectionCode.BatchNotClaimed);
        Spec.Given(Histories.CancelledDuringSend()).When(Commands.Release(3)).ThenRejected(RejectionCode.BatchNotClaimed);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(Plan.Batches + 1)]
    public void the_batch_must_be_one_of_the_plan(int batch) =>
        Spec.Given(Histories.Cancelling()).When(Commands.Release(batch)).ThenRejected(RejectionCode.BatchOutOfRange);

    [Fact]
    public void a_late_duplicate_after_the_send_completed_changes_nothing() =>
        Spec.Given(Histories.Sent()).When(Commands.Release(3)).ThenNothing().AndStatus(CampaignStatus.Sent);

    [Theory, MemberData(nameof(NothingWasSent))]
    public void is_refused_when_nothing_was_sent(CampaignStatus status) =>
        Spec.Given(Histories.In(status)).When(Commands.Release(1)).ThenRejected(RejectionCode.NotSending);
}
