using EventSourcedCampaigns.Decisions;
using EventSourcedCampaigns.Tests.Support;
using Xunit;

namespace EventSourcedCampaigns.Tests.UseCases;

public class cancelling_a_campaign_before_it_sends
{
    public static TheoryData<CampaignStatus> NotYetSending =>
        Statuses.Only(CampaignStatus.Scheduling, CampaignStatus.Scheduled, CampaignStatus.Paused);

    [Theory, MemberData(nameof(NotYetSending))]
    public void cancels_it_at_once(CampaignStatus status)
    {
        var by = Fake.Marketer();
        var reason = Fake.Reason();
        Spec.Given(Histories.In(status))
            .When(Commands.Cancel(by, reason))
            .Then(
                new CancelRequested(Plan.Id, by, reason, status, DeliveredBefore: 0, FailedBefore: 0, BatchesInFlight: 0, Spec.Now),
                new Cancelled(Plan.Id, RequestedAt: Spec.Now, CancelledAt: Spec.Now,
                    // Nothing was sent: every recipient the campaign had is not sent (Histories.Scheduling() prepared 2,000 so far).
                    NotSent: status == CampaignStatus.Scheduling ? 2_000 : Plan.Recipients))
            .AndStatus(CampaignStatus.Cancelled);
    }

    [Fact]
    public void cancelled_before_any_recipient_was_prepared_leaves_nobody_not_sent() =>
        Spec.Given(Histories.Draft().Then(Commands.Schedule(Histories.SendAt)))
            .When(Commands.Cancel())
            .Then(
                new CancelRequested(Plan.Id, Plan.Marketer, Commands.Cancel().Reason!, CampaignStatus.Scheduling, 0, 0, 0, Spec.Now),
                new Cancelled(Plan.Id, Spec.Now, Spec.Now, NotSent: 0))
            .AndStatus(CampaignStatus.Cancelled);

    [Fact]
    public void cancelling_while_the_audience_is_prepared_stops_the_preparation() =>
        Spec.Given(Histories.Scheduling().Then(Commands.Cancel()))
            .When(Commands.Progress(3_000, batches: 3))
            .ThenRejected(RejectionCode.NotScheduling);

    [Fact]
    public void a_cancelled_campaign_never_starts_sending() =>
        Spec.Given(Histories.Cancelled()).When(Commands.StartSend()).ThenNothing().AndStatus(CampaignStatus.Cancelled);
}

/// <summary>Histories.Sending(): batch 1 delivered (990 + 10 failed), batches 2 and 3 in flight.</summary>
public class cancelling_a_sending_campaign
{
    [Fact]
    public void with_batches_in_flight_requests_the_cancel_and_waits_for_them()
    {
        var by = Fake.ApiKey();
        var reason = new CancelReason(CancelReasonCode.ContentError, "Wrong discount code in the subject");
        Spec.Given(Histories.Sending(recorded: 1, inFlight: 2))
            .When(Commands.Cancel(by, reason))
            .Then(new CancelRequested(Plan.Id, by, reason, CampaignStatus.Sending,
                DeliveredBefore: 990, FailedBefore: 10, BatchesInFlight: 2, Spec.Now))
            .AndStatus(CampaignStatus.Cancelling);
    }

    [Fact]
    public void with_nothing_in_flight_the_cancel_takes_effect_at_once() =>
        Spec.Given(Histories.Sending(recorded: 2, inFlight: 0))
            .When(Commands.Cancel())
            .Then(
                new CancelRequested(Plan.Id, Plan.Marketer, Commands.Cancel().Reason!, CampaignStatus.Sending,
                    DeliveredBefore: 1_980, FailedBefore: 20, BatchesInFlight: 0, Spec.Now),
                new CancelledDuringSend(Plan.Id, DeliveredBeforeRequest: 1_980, DeliveredAfterRequest: 0, Failed: 20,
                    NotSent: 2_500, Spec.Now, Spec.Now, TimeSpan.Zero))
            .AndStatus(CampaignStatus.CancelledDuringSend);

    [Fact]
    public void right_after_the_send_started_nothing_is_sent_at_all() =>
        Spec.Given(Histories.Sending(recorded: 0, inFlight: 0))
            .When(Commands.Cancel())
            .Then(
                new CancelRequested(Plan.Id, Plan.Marketer, Commands.Cancel().Reason!, CampaignStatus.Sending, 0, 0, 0, Spec.Now),
                new CancelledDuringSend(Plan.Id, 0, 0, 0, NotSent: Plan.Recipients, Spec.Now, Spec.Now, TimeSpan.Zero));
}

public class cancelling_a_campaign_that_cannot_be_cancelled
{
    [Fact]
    public void a_draft_has_nothing_to_cancel()
    {
        var refusal = Spec.Given(Histories.Draft()).When(Commands.Cancel()).ThenRejected(RejectionCode.NotCancellableDraft);
        // Only what a draft offers (edit, schedule): the product has no delete.
        Assert.Equal("This campaign is a draft: nothing is scheduled, so there is nothing to cancel. Keep editing it, or schedule it when it is ready.",
            refusal.Message);
    }

    [Fact]
    public void a_fully_sent_campaign_cannot_be_cancelled()
    {
        var refusal = Spec.Given(Histories.Sent()).When(Commands.Cancel()).ThenRejected(RejectionCode.NotCancellableSent);
        Assert.Contains("fully sent", refusal.Message);
        Assert.Contains("can't be cancelled", refusal.Message);
    }
}

public class cancelling_again
{
    public static TheoryData<CampaignStatus> CancelAlreadyAccepted =>
        Statuses.Only(CampaignStatus.Cancelling, CampaignStatus.Cancelled, CampaignStatus.CancelledDuringSend);

    [Theory, MemberData(nameof(CancelAlreadyAccepted))]
    public void has_the_same_outcome_without_new_events_or_an_error(CampaignStatus status) =>
        Spec.Given(Histories.In(status))
            .When(Commands.Cancel(Fake.ApiKey(), new CancelReason(CancelReasonCode.ProviderOutage)))
            .ThenNothing()
            .AndStatus(status);

    [Theory, MemberData(nameof(CancelAlreadyAccepted))]
    public void is_recorded_in_the_audit_as_a_repeat(CampaignStatus status)
    {
        var by = Fake.ApiKey();
        Spec.Given(Histories.In(status))
            .When(Commands.Cancel(by, new CancelReason(CancelReasonCode.ProviderOutage, " again ")))
            .ThenAudited(null, new CancelRepeated(Plan.Id, by, new CancelReason(CancelReasonCode.ProviderOutage, "again"), status, Spec.Now));
    }
}

public class a_cancel_request
{
    [Theory, MemberData(nameof(Invalid.Actors), MemberType = typeof(Invalid))]
    public void must_say_who_cancels(Actor? by) =>
        Spec.Given(Histories.Scheduled()).When(Commands.Cancel() with { RequestedBy = by! }).ThenRejected(RejectionCode.InvalidActor);

    public static TheoryData<string, CancelReason?> InvalidReasons => new()
    {
        { "no reason", null },
        { "an unknown reason code", new((CancelReasonCode)99) },
        { "a text over 1,000 characters", new(CancelReasonCode.Other, new string('x', CancellingRules.MaxReasonLength + 1)) },
        { "a NUL in the text", new(CancelReasonCode.Other, "wrong\0list") },
    };

    [Theory, MemberData(nameof(InvalidReasons))]
    public void must_give_a_known_reason(string _, CancelReason? reason) =>
        Spec.Given(Histories.Scheduled()).When(Commands.Cancel() with { Reason = reason }).ThenRejected(RejectionCode.InvalidReason);

    [Fact]
    public void may_explain_itself_in_up_to_1_000_characters()
    {
        var reason = new CancelReason(CancelReasonCode.Other, new string('x', CancellingRules.MaxReasonLength));
        Spec.Given(Histories.Scheduled())
            .When(Commands.Cancel(reason: reason))
            .Then(
                new CancelRequested(Plan.Id, Plan.Marketer, reason, CampaignStatus.Scheduled, 0, 0, 0, Spec.Now),
                new Cancelled(Plan.Id, Spec.Now, Spec.Now, NotSent: Plan.Recipients));
    }

    [Theory]
    [InlineData("  Wrong list \n", "Wrong list")]
    [InlineData(" \u200B ", null)]
    [InlineData("", null)]
    public void keeps_its_text_without_the_spaces_around_it_and_no_text_when_blank(string text, string? kept) =>
        Spec.Given(Histories.Scheduled())
            .When(Commands.Cancel(reason: new CancelReason(CancelReasonCode.WrongAudience, text)))
            .Then(
                new CancelRequested(Plan.Id, Plan.Marketer, new CancelReason(CancelReasonCode.WrongAudience, kept), CampaignStatus.Scheduled, 0, 0, 0, Spec.Now),
                new Cancelled(Plan.Id, Spec.Now, Spec.Now, NotSent: Plan.Recipients));

    [Fact]
    public void measures_its_text_without_the_spaces_around_it()
    {
        var longest = new string('x', CancellingRules.MaxReasonLength);
        Spec.Given(Histories.Scheduled())
            .When(Commands.Cancel(reason: new CancelReason(CancelReasonCode.Other, "  " + longest + " ")))
            .Then(
                new CancelRequested(Plan.Id, Plan.Marketer, new CancelReason(CancelReasonCode.Other, longest), CampaignStatus.Scheduled, 0, 0, 0, Spec.Now),
                new Cancelled(Plan.Id, Spec.Now, Spec.Now, NotSent: Plan.Recipients));
        Spec.Given(Histories.Scheduled())
            .When(Commands.Cancel(reason: new CancelReason(CancelReasonCode.Other, " " + longest + "x ")))
            .ThenRejected(RejectionCode.InvalidReason);
    }
}

/// <summary>Every refused cancel belongs in the audit history (CancellingRules.AuditOf), without changing the campaign.</summary>
public class auditing_a_refused_cancel
{
    public static TheoryData<CampaignStatus> NotCancellable => Statuses.Only(CampaignStatus.Draft, CampaignStatus.Sent);

    [Theory, MemberData(nameof(NotCancellable))]
    public void records_who_tried_and_why_it_was_refused(CampaignStatus status)
    {
        var state = CampaignState.From(Histories.In(status))!;
        var cancel = Commands.Cancel(Fake.Marketer(), Fake.Reason());
        var rejection = Decider.Decide(cancel, state, Spec.Now).Rejection!;

        Spec.Given(Histories.In(status)).When(cancel).ThenAudited(rejection.Code,
            new CancelRejected(Plan.Id, cancel.RequestedBy, cancel.Reason, status, rejection.Code, rejection.Message, Spec.Now));
    }

    [Theory, MemberData(nameof(Invalid.Actors), MemberType = typeof(Invalid))]
    public void records_a_request_that_names_nobody_as_bad_input(Actor? by)
    {
        var cancel = Commands.Cancel() with { RequestedBy = by! };
        Spec.Given(Histories.Sent()).When(cancel).ThenAudited(RejectionCode.InvalidActor,
            new CancelRejected(Plan.Id, by, cancel.Reason, CampaignStatus.Sent, RejectionCode.InvalidActor,
                "The request must say who is making it.", Spec.Now));
    }

    [Fact]
    public void keeps_a_huge_or_unprintable_input_only_in_a_truncated_clean_form()
    {
        var by = new Actor("eve\u0000" + new string('e', 10_000), RequestChannel.ApiKey);
        var reason = new CancelReason(CancelReasonCode.Other, "bad\u001b[31m\ud800" + new string('x', 50_000));
        var decision = Decider.Decide(Commands.Cancel(by, reason), CampaignState.From(Histories.Scheduled()), Spec.Now);
        var audit = Assert.IsType<CancelRejected>(
            Assert.Single(Decider.EventsToAppend(decision, Commands.Cancel(by, reason), CampaignState.From(Histories.Scheduled()), Spec.Now)));

        Assert.Equal(RejectionCode.InvalidActor, audit.Code); // 10,004 characters is not an actor id; the reason is bad too
        Assert.Equal(CampaignStatus.Scheduled, audit.StatusAtRequest);
        Assert.StartsWith("eve\uFFFDeee", audit.RequestedBy!.Id);
        Assert.EndsWith("… [9,684 more characters]", audit.RequestedBy.Id);
        Assert.Equal(CancellingRules.MaxAuditedActorIdLength + "… [9,684 more characters]".Length, audit.RequestedBy.Id.Length);
        Assert.StartsWith("bad\uFFFD[31m\uFFFDxxx", audit.Reason!.Text);
        Assert.True(audit.Reason.Text!.Length < CancellingRules.MaxReasonLength + 40);
        Assert.DoesNotContain(audit.Reason.Text, char.IsControl);
    }

    [Theory]
    [InlineData("  Wrong list  ", "Wrong list")]
    [InlineData("   ", null)]
    public void keeps_the_reason_text_as_an_accepted_cancel_does(string text, string? kept)
    {
        var cancel = Commands.Cancel(reason: new CancelReason(CancelReasonCode.WrongAudience, text));
        Spec.Given(Histories.Sent()).When(cancel).ThenAudited(RejectionCode.NotCancellableSent,
            new CancelRejected(Plan.Id, cancel.RequestedBy, new CancelReason(CancelReasonCode.WrongAudience, kept), CampaignStatus.Sent,
                RejectionCode.NotCancellableSent, Decider.Decide(cancel, CampaignState.From(Histories.Sent()), Spec.Now).Rejection!.Message, Spec.Now));
    }

    [Fact]
    public void keeps_no_reason_whose_code_is_unknown()
    {
        var cancel = Commands.Cancel(reason: new CancelReason((CancelReasonCode)99, "a number from a client"));
        Spec.Given(Histories.Scheduled()).When(cancel).ThenAudited(RejectionCode.InvalidReason,
            new CancelRejected(Plan.Id, cancel.RequestedBy, null, CampaignStatus.Scheduled, RejectionCode.InvalidReason,
                "A cancel needs a known reason code and at most 1,000 characters of text, without NUL characters.", Spec.Now));
    }

    [Fact]
    public void records_a_cancel_without_a_reason()
    {
        var cancel = Commands.Cancel() with { Reason = null };
        Spec.Given(Histories.Scheduled()).When(cancel).ThenAudited(RejectionCode.InvalidReason,
            new CancelRejected(Plan.Id, cancel.RequestedBy, null, CampaignStatus.Scheduled, RejectionCode.InvalidReason,
                "A cancel needs a known reason code and at most 1,000 characters of text, without NUL characters.", Spec.Now));
    }

    [Fact]
    public void records_a_cancel_of_a_campaign_that_does_not_exist_without_a_status()
    {
        var cancel = Commands.Cancel();
        Spec.GivenNoCampaign().When(cancel).ThenAudited(RejectionCode.CampaignNotFound,
            new CancelRejected(Plan.Id, cancel.RequestedBy, cancel.Reason, null, RejectionCode.CampaignNotFound,
                "This campaign doesn't exist.", Spec.Now));
    }

    [Fact]
    public void records_an_actor_without_an_id_with_an_empty_one()
    {
        var cancel = Commands.Cancel(by: new Actor(null!, RequestChannel.ApiKey));
        Spec.Given(Histories.Scheduled()).When(cancel).ThenAudited(RejectionCode.InvalidActor,
            new CancelRejected(Plan.Id, new Actor("", RequestChannel.ApiKey), cancel.Reason, CampaignStatus.Scheduled,
                RejectionCode.InvalidActor, "The request must say who is making it.", Spec.Now));
    }

    /// <summary>An actor id may be up to 320 characters; the audit of a refusal keeps a valid one whole, to be found by it.</summary>
    [Fact]
    public void keeps_an_actor_id_of_320_characters_whole_and_cuts_a_longer_one()
    {
        var exactly = new Actor(new string('a', CancellingRules.MaxAuditedActorIdLength), RequestChannel.ApiKey);
        Assert.Equal(exactly, AuditOfCancellingADraft(exactly).RequestedBy);

        // Longer, the actor is refused for itself, and cut in the audit of that refusal.
        var longer = Commands.Cancel(new Actor(new string('a', CancellingRules.MaxAuditedActorIdLength + 1), RequestChannel.ApiKey));
        var draft = CampaignState.From(Histories.Draft());
        var refused = Decider.Decide(longer, draft, Spec.Now);
        Assert.Equal(RejectionCode.InvalidActor, refused.Rejection?.Code);
        Assert.Equal(new Actor(new string('a', 320) + "… [1 more characters]", RequestChannel.ApiKey),
            Assert.IsType<CancelRejected>(Assert.Single(Decider.EventsToAppend(refused, longer, draft, Spec.Now))).RequestedBy);
    }

    [Fact]
    public void keeps_a_reason_of_1_000_characters_whole()
    {
        var reason = new CancelReason(CancelReasonCode.Other, new string('r', CancellingRules.MaxReasonLength));
        Assert.Equal(reason, AuditOfCancellingADraft(Plan.Marketer, reason).Reason);
    }

    [Fact]
    public void keeps_an_actor_id_and_a_reason_of_emoji_as_long_as_the_limits_whole()
    {
        // Each emoji is one character, as the limits count it, and two UTF-16 halves: cut at the limit's number of halves,
        // the refusals of a valid actor would not be found by its id.
        static string Rockets(int count) => string.Concat(Enumerable.Repeat("\U0001F680", count));
        var by = new Actor(Rockets(CancellingRules.MaxAuditedActorIdLength), RequestChannel.ApiKey);
        var reason = new CancelReason(CancelReasonCode.Other, Rockets(CancellingRules.MaxReasonLength));

        var audit = AuditOfCancellingADraft(by, reason);
        Assert.Equal(by, audit.RequestedBy);
        Assert.Equal(reason, audit.Reason);
    }

    private static CancelRejected AuditOfCancellingADraft(Actor by, CancelReason? reason = null)
    {
        var cancel = Commands.Cancel(by, reason);
        var draft = CampaignState.From(Histories.Draft());
        var decision = Decider.Decide(cancel, draft, Spec.Now);
        Assert.Equal(RejectionCode.NotCancellableDraft, decision.Rejection?.Code);
        return Assert.IsType<CancelRejected>(Assert.Single(Decider.EventsToAppend(decision, cancel, draft, Spec.Now)));
    }

    [Fact]
    public void an_accepted_cancel_is_its_own_record()
    {
        var cancel = Commands.Cancel();
        var state = CampaignState.From(Histories.Scheduled());
        var decision = Decider.Decide(cancel, state, Spec.Now);
        Assert.Equal(decision.Events, Decider.EventsToAppend(decision, cancel, state, Spec.Now));
        Assert.Null(CancellingRules.AuditOf(cancel, state, decision, Spec.Now));
    }
}

/// <summary>
/// CancellingRules.SafeText: what the audit keeps of a refused request's free text. Control characters and unpaired
/// surrogates become U+FFFD; a character outside the BMP (a surrogate pair) is kept, and never cut in half.
/// </summary>
public class the_text_kept_of_a_refused_cancel
{
    private const string Mail = "\U0001F4E7"; // one character outside the BMP: a surrogate pair
    private const string HighHalf = "\uD83D";
    private const string LowHalf = "\uDCE7";
    private const string Replaced = "\uFFFD";

    [Fact]
    public void of_no_text_is_none() => Assert.Null(CancellingRules.SafeText(null, 10));

    [Fact]
    public void keeps_characters_outside_the_BMP_anywhere_in_the_text()
    {
        Assert.Equal($"{Mail} inbox {Mail}", CancellingRules.SafeText($"{Mail} inbox {Mail}", 100));
        Assert.Equal(Mail, CancellingRules.SafeText(Mail, 100));
        Assert.Equal($"{Mail}{Mail}", CancellingRules.SafeText($"{Mail}{Mail}", 100));
    }

    [Fact]
    public void replaces_an_unpaired_surrogate_wherever_it_is()
    {
        Assert.Equal($"a{Replaced}b", CancellingRules.SafeText($"a{LowHalf}b", 100));
        Assert.Equal($"a{Replaced}", CancellingRules.SafeText($"a{LowHalf}", 100));
        Assert.Equal($"x{Replaced}", CancellingRules.SafeText($"x{HighHalf}", 100));
        Assert.Equal(Replaced, CancellingRules.SafeText(HighHalf, 100));
        Assert.Equal($"{Replaced}x", CancellingRules.SafeText($"{HighHalf}x", 100));
        Assert.Equal($"{Replaced}{Mail}", CancellingRules.SafeText($"{HighHalf}{Mail}", 100));
        Assert.Equal($"{Replaced}{Replaced}", CancellingRules.SafeText($"{LowHalf}{HighHalf}", 100));
    }

    [Fact]
    public void replaces_control_characters()
    {
        Assert.Equal($"a{Replaced}b{Replaced}", CancellingRules.SafeText("a\u001bb\n", 100));
    }

    [Fact]
    public void keeps_a_text_of_exactly_the_limit_whole_and_cuts_one_character_more()
    {
        Assert.Equal(new string('x', 10), CancellingRules.SafeText(new string('x', 10), 10));
        Assert.Equal(new string('x', 10) + "… [1 more characters]", CancellingRules.SafeText(new string('x', 11), 10));
    }

    [Fact]
    public void never_cuts_a_character_outside_the_BMP_in_half()
    {
        // The pair is one character, as the limits count it: it is the tenth, kept whole.
        Assert.Equal(new string('x', 9) + Mail + "… [2 more characters]", CancellingRules.SafeText(new string('x', 9) + Mail + "yz", 10));
        Assert.Equal(new string('x', 8) + Mail + "y… [1 more characters]", CancellingRules.SafeText(new string('x', 8) + Mail + "yz", 10));
        Assert.Equal(Mail + Mail + "… [3 more characters]", CancellingRules.SafeText(Mail + Mail + Mail + Mail + Mail, 2));
    }

    [Fact]
    public void counts_the_characters_cut_with_a_thousands_separator() =>
        Assert.Equal("xx… [1,234 more characters]", CancellingRules.SafeText(new string('x', 1_236), 2));
}
