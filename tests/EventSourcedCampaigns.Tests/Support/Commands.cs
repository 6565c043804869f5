using EventSourcedCampaigns.Decisions;
using Xunit;

namespace EventSourcedCampaigns.Tests.Support;

/// <summary>
/// The campaign every spec is about: an A/B email of 4,500 recipients in 5 batches of up to 1,000
/// (batches 1, 3, 5 are variant A, batches 2, 4 variant B; batch 5 holds the last 500).
/// </summary>
public static class Plan
{
    public static readonly Guid Id = new("5eed0000-0000-4000-8000-00000000ca11");
    public const int BatchSize = 1_000;
    public const long Recipients = 4_500;
    public const int Batches = 5;
    public const int FailedPerBatch = 10;

    public static readonly string Name = Fake.Seeded(1).CampaignName();
    public static readonly Variant[] Variants = Fake.Seeded(2).Variants(50, 50);
    public static readonly Audience Audience = new(["seg_newsletter", "seg_vip"], ["seg_unsubscribed"]);
    public static readonly Actor Marketer = Fake.Seeded(3).Marketer();
    public static readonly VariantShare[] Shares = [new("A", 2_500), new("B", 2_000)];

    public static int SizeOf(int batch) => batch < Batches ? BatchSize : (int)(Recipients - (Batches - 1) * BatchSize);
    public static string VariantOf(int batch) => batch % 2 == 1 ? "A" : "B";
    public static int DeliveredOf(int batch) => SizeOf(batch) - FailedPerBatch;
}

/// <summary>Valid commands for <see cref="Plan"/>'s campaign; a spec overrides only what it is about.</summary>
public static class Commands
{
    public static CreateCampaign Create(string? name = null, Variant[]? variants = null, Actor? by = null, Channel channel = Channel.Email) =>
        new(Plan.Id, name ?? Plan.Name, channel, variants ?? Plan.Variants, by ?? Plan.Marketer);

    public static EditCampaign Edit(string? name = null, Variant[]? variants = null, Actor? by = null) =>
        new(Plan.Id, name ?? "Spring Sale (final)", variants ?? Plan.Variants, by ?? Plan.Marketer);

    public static ScheduleCampaign Schedule(DateTimeOffset sendAt, Audience? audience = null, int batchSize = Plan.BatchSize, Actor? by = null) =>
        new(Plan.Id, sendAt, audience ?? Plan.Audience, batchSize, by ?? Plan.Marketer);

    public static RecordSchedulingProgress Progress(long prepared, long total = Plan.Recipients, int batches = 0) =>
        new(Plan.Id, prepared, total, batches);

    public static CompleteScheduling Complete(long recipients = Plan.Recipients, int batches = Plan.Batches, VariantShare[]? shares = null) =>
        new(Plan.Id, recipients, batches, shares ?? Plan.Shares);

    public static PauseSchedule Pause(Actor? by = null) => new(Plan.Id, by ?? Plan.Marketer);
    public static ResumeSchedule Resume(Actor? by = null) => new(Plan.Id, by ?? Plan.Marketer);
    public static RevertToDraft Revert(Actor? by = null) => new(Plan.Id, by ?? Plan.Marketer);
    public static StartSend StartSend(TimeSpan? maxLateness = null) => new(Plan.Id, maxLateness);

    public static ClaimBatch Claim(int batch, string? variant = null, int? recipients = null) =>
        new(Plan.Id, batch, variant ?? Plan.VariantOf(batch), recipients ?? Plan.SizeOf(batch));

    public static RecordBatchDelivery Deliver(int batch, int? delivered = null, int failed = Plan.FailedPerBatch, int notSent = 0) =>
        new(Plan.Id, batch, delivered ?? Plan.SizeOf(batch) - failed - notSent, failed, notSent);

    public static RecordBatchFailure Fail(int batch, string error = "550 mailbox provider rejected the batch") => new(Plan.Id, batch, error);

    public static ReleaseBatch Release(int batch) => new(Plan.Id, batch);

    public static FailScheduling FailScheduling(DateTimeOffset scheduledAt, string reason = "The list 'seg_vip' does not exist.") =>
        new(Plan.Id, scheduledAt, reason);

    public static CancelCampaign Cancel(Actor? by = null, CancelReason? reason = null) =>
        new(Plan.Id, by ?? Plan.Marketer, reason ?? new CancelReason(CancelReasonCode.WrongAudience, "Sent to the wrong segment"));

    public static CloneCampaign Clone(Guid? cloneId = null, bool remainderOnly = false, Actor? by = null) =>
        new(Plan.Id, cloneId ?? CloneId, remainderOnly, by ?? Plan.Marketer);

    public static readonly Guid CloneId = new("5eed0000-0000-4000-8000-0000000c10e5");

    /// <summary>One valid-looking command of every kind but create, by name, for rules that hold for all of them.</summary>
    public static readonly IReadOnlyDictionary<string, CampaignCommand> AllButCreate = new CampaignCommand[]
    {
        Edit(), Schedule(Spec.Now.AddDays(1)), Progress(100), Complete(), Pause(), Resume(), Revert(), StartSend(),
        Claim(1), Deliver(1), Fail(1), Release(1), FailScheduling(Spec.Now), Cancel(), Clone(),
    }.ToDictionary(c => c.GetType().Name);

    public static TheoryData<string> NamesOfAllButCreate => new(AllButCreate.Keys);
}
