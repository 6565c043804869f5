using EventSourcedCampaigns.Decisions;
using EventSourcedCampaigns.Tests.Support;
using Xunit;

namespace EventSourcedCampaigns.Tests.UseCases;

public class scheduling_a_campaign
{
    private static readonly DateTimeOffset Tomorrow = Spec.Now.AddDays(1);

    public static TheoryData<CampaignStatus> NotDraft => Statuses.Except(CampaignStatus.Draft);

    [Fact]
    public void starts_preparing_the_audience_of_a_draft() =>
        Spec.Given(Histories.Draft())
            .When(Commands.Schedule(Tomorrow))
            .Then(new Scheduled(Plan.Id, Tomorrow, Plan.Audience, Plan.BatchSize, Plan.Marketer, Spec.Now))
            .AndStatus(CampaignStatus.Scheduling);

    [Fact]
    public void a_draft_that_was_reverted_can_be_scheduled_again() =>
        Spec.Given(Histories.Scheduled().Then(Commands.Revert()))
            .When(Commands.Schedule(Tomorrow))
            .Then(new Scheduled(Plan.Id, Tomorrow, Plan.Audience, Plan.BatchSize, Plan.Marketer, Spec.Now));

    [Fact]
    public void the_schedule_in_effect_asked_for_again_records_nothing()
    {
        // A client's retry after a lost answer: the same send time, lists and batch size, by anyone.
        Spec.Given(Histories.Scheduling(Tomorrow)).When(Commands.Schedule(Tomorrow, by: Fake.ApiKey())).ThenNothing().AndStatus(CampaignStatus.Scheduling);
        Spec.Given(Histories.Scheduled(Tomorrow)).When(Commands.Schedule(Tomorrow.ToOffset(TimeSpan.FromHours(2)))).ThenNothing().AndStatus(CampaignStatus.Scheduled);
        Spec.Given(Histories.Scheduled(Tomorrow)).When(Commands.Schedule(Tomorrow) with { ScheduledBy = null! }).ThenRejected(RejectionCode.InvalidActor);

        // No exclusions, given as null (read as none) the first time or the second.
        var included = Audience.Of(Plan.Audience.Included);
        var noExclusions = included with { Excluded = null! };
        Spec.Given(Histories.Draft().Then(Commands.Schedule(Tomorrow, noExclusions))).When(Commands.Schedule(Tomorrow, noExclusions)).ThenNothing();
        Spec.Given(Histories.Draft().Then(Commands.Schedule(Tomorrow, noExclusions))).When(Commands.Schedule(Tomorrow, included)).ThenNothing();
        Spec.Given(Histories.Draft().Then(Commands.Schedule(Tomorrow, included))).When(Commands.Schedule(Tomorrow, noExclusions)).ThenNothing();
    }

    public static TheoryData<string, ScheduleCampaign> OtherSchedules => new()
    {
        { "another send time", Commands.Schedule(Spec.Now.AddDays(1).AddMinutes(1)) },
        { "another batch size", Commands.Schedule(Spec.Now.AddDays(1), batchSize: Plan.BatchSize + 1) },
        { "another list", Commands.Schedule(Spec.Now.AddDays(1), new Audience([.. Plan.Audience.Included, "vip"], Plan.Audience.Excluded)) },
        { "another exclusion", Commands.Schedule(Spec.Now.AddDays(1), new Audience(Plan.Audience.Included, [.. Plan.Audience.Excluded, "bounced"])) },
        { "no audience", Commands.Schedule(Spec.Now.AddDays(1)) with { Audience = null! } },
        { "no lists given (null)", Commands.Schedule(Spec.Now.AddDays(1), new Audience(null!, Plan.Audience.Excluded)) },
        { "no exclusions given (null)", Commands.Schedule(Spec.Now.AddDays(1), new Audience(Plan.Audience.Included, null!)) },
    };

    [Theory, MemberData(nameof(OtherSchedules))]
    public void another_schedule_of_a_scheduled_campaign_is_refused(string _, ScheduleCampaign other)
    {
        Spec.Given(Histories.Scheduling(Tomorrow)).When(other).ThenRejected(RejectionCode.NotSchedulable);
        Spec.Given(Histories.Scheduled(Tomorrow)).When(other).ThenRejected(RejectionCode.NotSchedulable);
    }

    [Fact]
    public void the_schedule_of_a_paused_campaign_asked_for_again_is_refused() =>
        Spec.Given(Histories.Scheduled(Tomorrow).Then(Commands.Pause())).When(Commands.Schedule(Tomorrow)).ThenRejected(RejectionCode.NotSchedulable);

    [Theory, MemberData(nameof(NotDraft))]
    public void only_a_draft_can_be_scheduled(CampaignStatus status)
    {
        var refusal = Spec.Given(Histories.In(status)).When(Commands.Schedule(Tomorrow)).ThenRejected(RejectionCode.NotSchedulable);
        Assert.Contains(status.ToDisplay(), refusal.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void the_send_time_must_be_in_the_future(int minutesFromNow) =>
        Spec.Given(Histories.Draft()).When(Commands.Schedule(Spec.Now.AddMinutes(minutesFromNow))).ThenRejected(RejectionCode.SendTimeNotInFuture);

    public static TheoryData<string, Audience?> InvalidAudiences => new()
    {
        { "no audience", null },
        { "no list included", new([], ["seg_unsubscribed"]) },
        { "a missing include list", new(null!, []) },
        { "a blank list id", new(["seg_newsletter", " "], []) },
        { "a blank excluded id", new(["seg_newsletter"], [""]) },
        { "a list both included and excluded", new(["seg_newsletter", "seg_vip"], ["seg_vip"]) },
        { "101 lists", new([.. Enumerable.Range(0, 60).Select(i => $"in{i}")], [.. Enumerable.Range(0, 41).Select(i => $"out{i}")]) },
        { "a list id of 201 characters", new([new string('l', 201)], []) },
        { "one list id of 201 characters among others", new(["seg_newsletter", new string('l', 201)], []) },
        { "an excluded list id of 201 characters", new(["seg_newsletter"], [new string('l', 201)]) },
        { "a NUL in an included id", new(["seg_\0"], []) },
        { "a NUL in an excluded id", new(["seg_newsletter"], ["seg_\0vip"]) },
    };

    [Fact]
    public void the_most_lists_are_100_with_ids_of_200_characters()
    {
        var audience = new Audience([new string('l', 200), .. Enumerable.Range(1, 59).Select(i => $"in{i}")], [.. Enumerable.Range(0, 40).Select(i => $"out{i}")]);
        Spec.Given(Histories.Draft()).When(Commands.Schedule(Tomorrow) with { Audience = audience })
            .Then(new Scheduled(Plan.Id, Tomorrow, audience, Plan.BatchSize, Plan.Marketer, Spec.Now)).AndStatus(CampaignStatus.Scheduling);
    }

    [Theory, MemberData(nameof(InvalidAudiences))]
    public void needs_an_audience_without(string _, Audience? audience) =>
        Spec.Given(Histories.Draft()).When(Commands.Schedule(Tomorrow) with { Audience = audience! }).ThenRejected(RejectionCode.InvalidAudience);

    [Fact]
    public void an_audience_may_include_several_lists_and_exclude_none()
    {
        var audience = Audience.Of("seg_newsletter", "seg_vip");
        Spec.Given(Histories.Draft())
            .When(Commands.Schedule(Tomorrow, audience: audience))
            .Then(new Scheduled(Plan.Id, Tomorrow, audience, Plan.BatchSize, Plan.Marketer, Spec.Now));
    }

    [Fact]
    public void an_audience_without_an_exclusion_list_excludes_nobody()
    {
        var audience = new Audience(["seg_newsletter"], null!);
        Spec.Given(Histories.Draft())
            .When(Commands.Schedule(Tomorrow, audience: audience))
            .Then(new Scheduled(Plan.Id, Tomorrow, audience, Plan.BatchSize, Plan.Marketer, Spec.Now));
    }

    [Fact]
    public void a_clone_for_the_remainder_may_name_no_list()
    {
        // It goes to the recipients its source did not reach, whatever lists it names.
        var remainder = new Story().Then(Commands.Create() with { ClonedFrom = new CloneOrigin(Guid.NewGuid(), RemainderOnly: true) });
        var noLists = new Audience([], []);
        Spec.Given(remainder).When(Commands.Schedule(Tomorrow, audience: noLists))
            .Then(new Scheduled(Plan.Id, Tomorrow, noLists, Plan.BatchSize, Plan.Marketer, Spec.Now)).AndStatus(CampaignStatus.Scheduling);
    }

    [Fact]
    public void a_whole_clone_needs_a_list_as_any_draft_does()
    {
        var copy = new Story().Then(Commands.Create() with { ClonedFrom = new CloneOrigin(Guid.NewGuid(), RemainderOnly: false) });
        Spec.Given(copy).When(Commands.Schedule(Tomorrow, audience: new Audience([], []))).ThenRejected(RejectionCode.InvalidAudience);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1_000)]
    [InlineData(100_001)]
    public void the_batch_size_is_between_1_and_100_000(int batchSize) =>
        Spec.Given(Histories.Draft()).When(Commands.Schedule(Tomorrow, batchSize: batchSize)).ThenRejected(RejectionCode.InvalidBatchSize);

    [Theory]
    [InlineData(1)]
    [InlineData(100_000)]
    public void the_batch_size_limits_are_included(int batchSize) =>
        Spec.Given(Histories.Draft())
            .When(Commands.Schedule(Tomorrow, batchSize: batchSize))
            .Then(new Scheduled(Plan.Id, Tomorrow, Plan.Audience, batchSize, Plan.Marketer, Spec.Now));

    [Theory, MemberData(nameof(Invalid.Actors), MemberType = typeof(Invalid))]
    public void must_say_who_schedules_it(Actor? by) =>
        Spec.Given(Histories.Draft()).When(Commands.Schedule(Tomorrow) with { ScheduledBy = by! }).ThenRejected(RejectionCode.InvalidActor);
}
