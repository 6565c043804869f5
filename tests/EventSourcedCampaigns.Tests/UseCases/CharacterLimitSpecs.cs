using EventSourcedCampaigns.Decisions;
using EventSourcedCampaigns.Tests.Support;
using Xunit;

namespace EventSourcedCampaigns.Tests.UseCases;

/// <summary>
/// Every text limit counts characters (code points), as the OpenAPI schema's maxLength does: a client that checks a body
/// against the schema is never refused for a length the schema allows, however many emoji the text holds.
/// </summary>
public class text_limits_count_characters
{
    private const string Rocket = "\U0001F680"; // one character, two UTF-16 halves

    private static string Rockets(int count) => string.Concat(Enumerable.Repeat(Rocket, count));

    private static Rejection? Decided(CampaignCommand command, Story? given = null) =>
        Decider.Decide(command, given is null ? null : CampaignState.From(given), Spec.Now).Rejection;

    [Fact]
    public void a_name_of_200_emoji_is_the_longest()
    {
        Assert.Null(Decided(Commands.Create(name: Rockets(200))));
        Assert.Equal(RejectionCode.InvalidName, Decided(Commands.Create(name: Rockets(201)))?.Code);
        Assert.Null(Decided(Commands.Edit(name: Rockets(200)), Histories.Draft()));
        Assert.Equal(RejectionCode.InvalidName, Decided(Commands.Edit(name: Rockets(201)), Histories.Draft())?.Code);
    }

    [Theory]
    [InlineData(50, 500, 100_000, true)]
    [InlineData(51, 500, 100_000, false)]
    [InlineData(50, 501, 100_000, false)]
    [InlineData(50, 500, 100_001, false)]
    public void a_variants_key_subject_and_content_hold_their_limits_in_emoji(int key, int subject, int content, bool taken)
    {
        Variant[] variants = [new(Rockets(key), Rockets(subject), Rockets(content), 100)];

        Assert.Equal(taken ? null : RejectionCode.InvalidVariants, Decided(Commands.Create(variants: variants))?.Code);
    }

    [Fact]
    public void a_text_message_without_a_subject_is_counted_by_its_key_and_content()
    {
        Assert.Null(Decided(Commands.Create(channel: Channel.Sms, variants: [new(Rockets(50), null, Rockets(100_000), 100)])));
        Assert.Equal(RejectionCode.InvalidVariants,
            Decided(Commands.Create(channel: Channel.Sms, variants: [new(Rockets(50), null, Rockets(100_001), 100)]))?.Code);
    }

    [Fact]
    public void a_list_id_of_200_emoji_is_the_longest()
    {
        Assert.Null(Decided(Commands.Schedule(Spec.Now.AddHours(1), new Audience([Rockets(200)], [])), Histories.Draft()));
        Assert.Equal(RejectionCode.InvalidAudience,
            Decided(Commands.Schedule(Spec.Now.AddHours(1), new Audience(["seg_vip"], [Rockets(201)])), Histories.Draft())?.Code);
    }

    [Fact]
    public void a_cancel_reason_of_1_000_emoji_is_the_longest()
    {
        Assert.Null(Decided(Commands.Cancel(reason: new(CancelReasonCode.Other, Rockets(CancellingRules.MaxReasonLength))), Histories.Scheduled()));
        Assert.Equal(RejectionCode.InvalidReason,
            Decided(Commands.Cancel(reason: new(CancelReasonCode.Other, Rockets(CancellingRules.MaxReasonLength + 1))), Histories.Scheduled())?.Code);
    }

    [Fact]
    public void an_actor_id_of_320_emoji_is_the_longest()
    {
        Assert.Null(Decided(Commands.Create(by: new Actor(Rockets(CampaignLimits.MaxActorIdLength), RequestChannel.User))));
        Assert.Equal(RejectionCode.InvalidActor,
            Decided(Commands.Create(by: new Actor(Rockets(CampaignLimits.MaxActorIdLength + 1), RequestChannel.User)))?.Code);
    }

    [Theory]
    [InlineData("", 0)]
    [InlineData("abc", 3)]
    [InlineData(Rocket + Rocket, 2)]
    [InlineData("e\u0301", 2)] // a letter and its combining accent are two characters
    public void counts_code_points(string text, int characters) => Assert.Equal(characters, CampaignLimits.LengthOf(text));

    [Fact]
    public void counts_an_unpaired_half_as_one()
    {
        // Built here: xunit carries a theory's string arguments as UTF-8, which has no unpaired surrogate.
        Assert.Equal(1, CampaignLimits.LengthOf("\uD83D"));
        Assert.Equal(1, CampaignLimits.LengthOf("\uDE80"));
        Assert.Equal(2, CampaignLimits.LengthOf("\uDE80\uD83D")); // the halves in the wrong order are no pair
        Assert.Equal(2, CampaignLimits.LengthOf(Rocket + "\uDE80"));
    }
}
