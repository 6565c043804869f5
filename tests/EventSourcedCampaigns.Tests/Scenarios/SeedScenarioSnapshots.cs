using Bogus;
using EventSourcedCampaigns.Decisions;
using EventSourcedCampaigns.Tests.Support;
using Snapshooter.Xunit;
using Xunit;

namespace EventSourcedCampaigns.Tests.Scenarios;

/// <summary>
/// The two scenarios of the help pages the product started from, as the event streams they leave behind.
/// Fixed ids, a fixed clock (one minute per step) and seeded Bogus data keep the snapshots stable.
/// </summary>
public class the_seed_scenarios
{
    private static readonly Guid CampaignId = new("5eed0000-0000-4000-8000-0000000000aa");

    [Fact]
    public void cancelling_a_scheduled_campaign()
    {
        var fake = Fake.Seeded(101);
        var marketer = fake.Marketer();
        var story = ScheduledCampaign(fake, marketer, recipients: 1_200, batchSize: 500, batches: 3);
        Assert.Equal(CampaignStatus.Scheduled, story.State!.Status);

        story.Then(new CancelCampaign(CampaignId, marketer, new CancelReason(CancelReasonCode.WrongAudience, fake.Lorem.Sentence())));

        Assert.Equal(CampaignStatus.Cancelled, story.State!.Status);
        Snapshot.Match(EventJson.ForSnapshot(story));
    }

    [Fact]
    public void cancelling_mid_send_with_batches_in_flight()
    {
        var fake = Fake.Seeded(202);
        var marketer = fake.Marketer();
        var story = ScheduledCampaign(fake, marketer, recipients: 2_400, batchSize: 500, batches: 5)
            .At(Histories.SendAt).Then(new StartSend(CampaignId));
        const int size = 500;
        var (deliveredBefore, failedBefore) = (0L, 0L);
        foreach (var batch in new[] { 1, 2 })
        {
            var failed = fake.Random.Int(0, 25);
            story.Then(new ClaimBatch(CampaignId, batch, "A", size)).Then(new RecordBatchDelivery(CampaignId, batch, size - failed, failed));
            (deliveredBefore, failedBefore) = (deliveredBefore + size - failed, failedBefore + failed);
        }
        story.Then(new ClaimBatch(CampaignId, 3, "A", size)).Then(new ClaimBatch(CampaignId, 4, "A", size));

        story.Then(new CancelCampaign(CampaignId, fake.ApiKey(), new CancelReason(CancelReasonCode.ContentError, "Broken link in the hero image")));
        Assert.Equal(CampaignStatus.Cancelling, story.State!.Status);
        story.Then(new RecordBatchDelivery(CampaignId, 4, size, 0)).Then(new RecordBatchDelivery(CampaignId, 3, size - 3, 3));

        var cancelled = Assert.IsType<CancelledDuringSend>(story.Last());
        Assert.Equal(
            (deliveredBefore, 500 + 497L, failedBefore + 3, 2_400L - 4 * size, TimeSpan.FromMinutes(2)),
            (cancelled.DeliveredBeforeRequest, cancelled.DeliveredAfterRequest, cancelled.Failed, cancelled.NotSent, cancelled.TimeToStop));
        Snapshot.Match(EventJson.ForSnapshot(story));
    }

    private static Story ScheduledCampaign(Faker fake, Actor marketer, long recipients, int batchSize, int batches) => new Story()
        .Then(new CreateCampaign(CampaignId, fake.CampaignName(), Channel.Email, fake.Variants(), marketer))
        .Then(new ScheduleCampaign(CampaignId, Histories.SendAt, new Audience([fake.Segment(), fake.Segment()], [fake.Segment()]), batchSize, marketer))
        .Then(new RecordSchedulingProgress(CampaignId, recipients / 2, recipients, batches / 2))
        .Then(new CompleteScheduling(CampaignId, recipients, batches, [new("A", recipients)]));
}
