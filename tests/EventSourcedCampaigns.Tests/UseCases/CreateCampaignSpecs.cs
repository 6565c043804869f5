using EventSourcedCampaigns.Decisions;
using EventSourcedCampaigns.Tests.Support;
using Xunit;

namespace EventSourcedCampaigns.Tests.UseCases;

public class creating_a_campaign
{
    [Fact]
    public void creates_a_draft_with_a_trimmed_name() =>
        Spec.GivenNoCampaign()
            .When(Commands.Create(name: "  Spring Sale  "))
            .Then(new CampaignCreated(Plan.Id, "Spring Sale", Channel.Email, Plan.Variants, null, Plan.Marketer, Spec.Now))
            .AndStatus(CampaignStatus.Draft);

    [Fact]
    public void an_ab_test_splits_its_variants()
    {
        var variants = Fake.Variants(20, 30, 50);
        var by = Fake.ApiKey();
        Spec.GivenNoCampaign()
            .When(new CreateCampaign(Plan.Id, Plan.Name, Channel.Push, variants, by))
            .Then(new CampaignCreated(Plan.Id, Plan.Name, Channel.Push, variants, null, by, Spec.Now));
    }

    public static TheoryData<CampaignStatus> Existing => Statuses.All;

    [Theory, MemberData(nameof(Existing))]
    public void an_existing_campaign_is_not_created_again(CampaignStatus status) =>
        Spec.Given(Histories.In(status)).When(Commands.Create()).ThenRejected(RejectionCode.CampaignAlreadyExists);

    [Fact]
    public void needs_an_id() =>
        Spec.GivenNoCampaign().When(Commands.Create() with { CampaignId = Guid.Empty }).ThenRejected(RejectionCode.InvalidCampaignId);

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData(null)]
    [InlineData("\u200B")] // a zero-width space: shows as nothing in the list
    [InlineData(" \u200B\u200E\uFEFF ")]
    [InlineData("\0")]
    [InlineData("Spring\0sale")]
    public void needs_a_name_without_NUL_characters(string? name) =>
        Spec.GivenNoCampaign().When(Commands.Create() with { Name = name! }).ThenRejected(RejectionCode.InvalidName);

    [Fact]
    public void a_name_of_200_characters_is_the_longest()
    {
        Spec.GivenNoCampaign().When(Commands.Create(name: new string('x', 200))).Then(
            new CampaignCreated(Plan.Id, new string('x', 200), Channel.Email, Plan.Variants, null, Plan.Marketer, Spec.Now));
        Spec.GivenNoCampaign().When(Commands.Create(name: new string('x', 201))).ThenRejected(RejectionCode.InvalidName);
    }

    public static TheoryData<string, Variant[]?> InvalidVariants => new()
    {
        { "none", [] },
        { "missing", null },
        { "blank key", [new(" ", "Subject", "Body", 100)] },
        { "duplicate keys", [new("A", "Subject", "Body", 50), new("A", "Other", "Body", 50)] },
        { "keys that differ only in case", [new("A", "Subject", "Body", 50), new("a", "Other", "Body", 50)] },
        { "keys that differ only in the case of a letter past ASCII", [new("É", "Subject", "Body", 50), new("é", "Other", "Body", 50)] },
        { "a key with a space after it", [new("A ", "Subject", "Body", 100)] },
        { "a key with a space before it in one of two", [new("A", "Subject", "Body", 50), new(" B", "Subject", "Body", 50)] },
        { "a key with a tab after it in one of two", [new("A", "Subject", "Body", 50), new("B\t", "Subject", "Body", 50)] },
        { "blank subject", [new("A", "", "Body", 100)] },
        { "blank content", [new("A", "Subject", " ", 100)] },
        { "a 0% split", [new("A", "Subject", "Body", 100), new("B", "Subject", "Body", 0)] },
        { "a split over 100%", [new("A", "Subject", "Body", 101)] },
        { "splits adding up to 90%", [new("A", "Subject", "Body", 40), new("B", "Subject", "Body", 50)] },
        { "splits adding up to 110%", [new("A", "Subject", "Body", 60), new("B", "Subject", "Body", 50)] },
        { "a negative split", [new("A", "Subject", "Body", 120), new("B", "Subject", "Body", -20)] },
        { "a missing variant", [new("A", "Subject", "Body", 100), null!] },
        { "a blank key in one of two", [new("A", "Subject", "Body", 50), new(" ", "Subject", "Body", 50)] },
        { "an empty key in one of two", [new("A", "Subject", "Body", 50), new("", "Subject", "Body", 50)] },
        { "a blank subject in one of two", [new("A", "Subject", "Body", 50), new("B", " ", "Body", 50)] },
        { "blank content in one of two", [new("A", "Subject", "Body", 50), new("B", "Subject", "", 50)] },
        { "a key of 51 characters in one of two", [new("A", "Subject", "Body", 50), new(new string('k', 51), "Subject", "Body", 50)] },
        { "content of 100,001 characters in one of two", [new("A", "Subject", "Body", 50), new("B", "Subject", new string('c', 100_001), 50)] },
        { "a NUL in one of two", [new("A", "Subject", "Body", 50), new("B", "Sub\0ject", "Body", 50)] },
        { "27 variants", [.. Enumerable.Range(0, 27).Select(i => new Variant($"V{i}", "Subject", "Body", i == 0 ? 74 : 1))] },
        { "a key of 51 characters", [new(new string('k', 51), "Subject", "Body", 100)] },
        { "a subject of 501 characters", [new("A", new string('s', 501), "Body", 100)] },
        { "content of 100,001 characters", [new("A", "Subject", new string('c', 100_001), 100)] },
        { "a NUL in the key", [new("A\0", "Subject", "Body", 100)] },
        { "a NUL in the subject", [new("A", "Sub\0ject", "Body", 100)] },
        { "a NUL in the content", [new("A", "Subject", "Bo\0dy", 100)] },
        { "a line feed in the subject", [new("A", "Hi\nBcc: x@example.com", "Body", 100)] },
        { "a carriage return in the subject", [new("A", "Hi\rthere", "Body", 100)] },
        { "a line break in the key", [new("A\r\nBcc: x@example.com", "Subject", "Body", 100)] },
        { "a line break in the key of one of two", [new("A", "Subject", "Body", 50), new("B\nBcc: x@example.com", "Subject", "Body", 50)] },
        { "a subject starting with a line break", [new("A", "\nBcc: x@example.com", "Body", 100)] },
    };

    [Fact]
    public void a_key_may_have_spaces_between_its_words()
    {
        Variant[] variants = [new("Short subject", "Subject", "Body", 50), new("Long subject", "Subject", "Body", 50)];
        Spec.GivenNoCampaign().When(Commands.Create() with { Variants = variants })
            .Then(new CampaignCreated(Plan.Id, Plan.Name, Channel.Email, variants, null, Plan.Marketer, Spec.Now));
    }

    [Fact]
    public void content_may_have_line_breaks_where_a_key_and_subject_may_not()
    {
        Variant[] multiline = [new("A", "Subject", "Line one\r\nLine two\n", 100)];
        Spec.GivenNoCampaign().When(Commands.Create() with { Variants = multiline })
            .Then(new CampaignCreated(Plan.Id, Plan.Name, Channel.Email, multiline, null, Plan.Marketer, Spec.Now));
    }

    [Fact]
    public void a_name_may_hold_invisible_characters_between_visible_ones() =>
        Spec.GivenNoCampaign().When(Commands.Create(name: "Spring\u200Bsale")).Then(
            new CampaignCreated(Plan.Id, "Spring\u200Bsale", Channel.Email, Plan.Variants, null, Plan.Marketer, Spec.Now));

    [Fact]
    public void a_name_is_measured_without_the_spaces_around_it_which_are_not_kept()
    {
        var longest = new string('x', 200);
        Spec.GivenNoCampaign().When(Commands.Create(name: "  " + longest + " ")).Then(
            new CampaignCreated(Plan.Id, longest, Channel.Email, Plan.Variants, null, Plan.Marketer, Spec.Now));
        Spec.GivenNoCampaign().When(Commands.Create(name: " " + longest + "x ")).ThenRejected(RejectionCode.InvalidName);
    }

    [Fact]
    public void the_longest_variants_are_26_with_a_50_character_key_a_500_character_subject_and_100000_characters_of_content()
    {
        Variant[] longest = [new(new string('k', 50), new string('s', 500), new string('c', 100_000), 75),
            .. Enumerable.Range(1, 25).Select(i => new Variant($"V{i}", "Subject", "Body", 1))];
        Spec.GivenNoCampaign().When(Commands.Create() with { Variants = longest })
            .Then(new CampaignCreated(Plan.Id, Plan.Name, Channel.Email, longest, null, Plan.Marketer, Spec.Now));
    }

    [Fact]
    public void an_actor_id_of_320_characters_is_the_longest()
    {
        var longest = new Actor(new string('a', 320), RequestChannel.User);
        Spec.GivenNoCampaign().When(Commands.Create() with { CreatedBy = longest })
            .Then(new CampaignCreated(Plan.Id, Plan.Name, Channel.Email, Plan.Variants, null, longest, Spec.Now));
        Spec.GivenNoCampaign().When(Commands.Create() with { CreatedBy = new Actor(new string('a', 321), RequestChannel.User) })
            .ThenRejected(RejectionCode.InvalidActor);
    }

    [Fact]
    public void an_actor_id_with_a_NUL_character_is_refused() =>
        Spec.GivenNoCampaign().When(Commands.Create() with { CreatedBy = new Actor("ann\0@example.com", RequestChannel.User) })
            .ThenRejected(RejectionCode.InvalidActor);

    [Theory, MemberData(nameof(InvalidVariants))]
    public void rejects_variants_with(string _, Variant[]? variants) =>
        Spec.GivenNoCampaign().When(Commands.Create() with { Variants = variants! })
            .ThenRejected(RejectionCode.InvalidVariants);

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public void an_sms_needs_no_subject(string? subject)
    {
        Variant[] variants = [new("A", subject, "Flash sale: -50% today only", 60), new("B", "Flash sale", "Everything -50% today", 40)];
        Spec.GivenNoCampaign()
            .When(Commands.Create(variants: variants, channel: Channel.Sms))
            // An empty subject is stored as none, as null is: the two make one variant.
            .Then(new CampaignCreated(Plan.Id, Plan.Name, Channel.Sms, [variants[0] with { Subject = subject == "" ? null : subject }, variants[1]], null,
                Plan.Marketer, Spec.Now))
            .AndStatus(CampaignStatus.Draft);
    }

    public static TheoryData<string, Variant[]> InvalidSmsVariants => new()
    {
        { "blank content", [new("A", null, " ", 100)] },
        { "a subject of 501 characters", [new("A", new string('s', 501), "Body", 100)] },
        { "a NUL in the subject", [new("A", "Sub\0ject", "Body", 100)] },
        { "a NUL in one subject of two, the other without", [new("A", null, "Body", 50), new("B", "Sub\0ject", "Body", 50)] },
        { "a key of 51 characters without a subject", [new(new string('k', 51), null, "Body", 100)] },
    };

    [Theory, MemberData(nameof(InvalidSmsVariants))]
    public void an_sms_subject_is_checked_when_there_is_one_and_its_content_always(string _, Variant[] variants) =>
        Spec.GivenNoCampaign().When(Commands.Create(variants: variants, channel: Channel.Sms)).ThenRejected(RejectionCode.InvalidVariants);

    [Fact]
    public void an_sms_subject_of_500_characters_is_the_longest_kept()
    {
        Variant[] variants = [new("A", new string('s', 500), "Body", 100)];
        Spec.GivenNoCampaign().When(Commands.Create(variants: variants, channel: Channel.Sms))
            .Then(new CampaignCreated(Plan.Id, Plan.Name, Channel.Sms, variants, null, Plan.Marketer, Spec.Now));
    }

    [Theory]
    [InlineData(Channel.Email, null, "Every email variant needs a subject.")]
    [InlineData(Channel.Email, " ", "Every email variant needs a subject.")]
    [InlineData(Channel.Push, null, "Every push variant needs a title (its subject).")]
    [InlineData(Channel.Push, "", "Every push variant needs a title (its subject).")]
    public void an_email_needs_a_subject_and_a_push_notification_a_title(Channel channel, string? subject, string message)
    {
        Variant[] variants = [new("A", "Spring sale", "Body", 50), new("B", subject, "Body", 50)];
        var refusal = Spec.GivenNoCampaign().When(Commands.Create(variants: variants, channel: channel)).ThenRejected(RejectionCode.InvalidVariants);
        Assert.Equal(message, refusal.Message);
    }

    [Theory]
    [InlineData(Channel.Email)]
    [InlineData(Channel.Sms)]
    [InlineData(Channel.Push)]
    public void every_channel_needs_content(Channel channel)
    {
        var refusal = Spec.GivenNoCampaign().When(Commands.Create(variants: [new("A", "Spring sale", "", 100)], channel: channel))
            .ThenRejected(RejectionCode.InvalidVariants);
        Assert.Equal("Every variant needs content.", refusal.Message);
    }

    /// <summary>Whether a variant needs a subject depends on the channel: an unknown one is refused for what it is.</summary>
    [Fact]
    public void an_unknown_channel_is_refused_as_such_when_a_variant_has_no_subject() =>
        Spec.GivenNoCampaign().When(Commands.Create(variants: [new("A", null, "Body", 100)], channel: (Channel)42))
            .ThenRejected(RejectionCode.InvalidChannel);

    [Fact]
    public void rejects_an_unknown_channel() =>
        Spec.GivenNoCampaign().When(Commands.Create() with { Channel = (Channel)42 }).ThenRejected(RejectionCode.InvalidChannel);

    [Theory, MemberData(nameof(Invalid.Actors), MemberType = typeof(Invalid))]
    public void must_say_who_creates_it(Actor? by) =>
        Spec.GivenNoCampaign().When(Commands.Create() with { CreatedBy = by! }).ThenRejected(RejectionCode.InvalidActor);
}
