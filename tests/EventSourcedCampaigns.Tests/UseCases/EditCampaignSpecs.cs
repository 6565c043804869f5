using EventSourcedCampaigns.Decisions;
using EventSourcedCampaigns.Tests.Support;
using Xunit;

namespace EventSourcedCampaigns.Tests.UseCases;

public class editing_a_campaign
{
    public static TheoryData<CampaignStatus> NotEditable => Statuses.Except(CampaignStatus.Draft, CampaignStatus.Paused);

    [Fact]
    public void changes_name_content_and_variants_of_a_draft()
    {
        var variants = Fake.Variants(70, 30);
        Spec.Given(Histories.Draft())
            .When(Commands.Edit(name: " Summer Sale ", variants: variants))
            .Then(new CampaignEdited(Plan.Id, "Summer Sale", variants, Plan.Marketer, Spec.Now))
            .AndStatus(CampaignStatus.Draft);
    }

    [Fact]
    public void that_changes_nothing_records_nothing()
    {
        // A client's retry after a lost answer: the name (spaces around it are not kept) and variants it already has.
        Spec.Given(Histories.Draft()).When(Commands.Edit(name: " " + Plan.Name + " ", variants: Plan.Variants)).ThenNothing();
        Spec.Given(Histories.Paused()).When(Commands.Edit(name: Plan.Name, variants: Plan.Variants, by: Fake.ApiKey())).ThenNothing();
        Spec.Given(Histories.Draft()).When(Commands.Edit(name: Plan.Name, variants: Plan.Variants) with { EditedBy = null! }).ThenRejected(RejectionCode.InvalidActor);

        // An SMS has no subject: null, or "" from the dashboard's empty field, is the same.
        Variant[] sms = [new("A", null, "Flash sale", 100)];
        Spec.Given(Histories.Draft(Channel.Sms).Then(Commands.Edit(name: Plan.Name, variants: sms)))
            .When(Commands.Edit(name: Plan.Name, variants: [sms[0] with { Subject = "" }])).ThenNothing();
    }

    public static TheoryData<string, EditCampaign> SmallestChanges => new()
    {
        { "the name's case", Commands.Edit(name: Plan.Name.ToUpperInvariant(), variants: Plan.Variants) },
        { "a subject", Commands.Edit(name: Plan.Name, variants: [Plan.Variants[0] with { Subject = Plan.Variants[0].Subject + "!" }, .. Plan.Variants[1..]]) },
        { "a content", Commands.Edit(name: Plan.Name, variants: [Plan.Variants[0] with { Content = Plan.Variants[0].Content + "." }, .. Plan.Variants[1..]]) },
        { "the variants' order", Commands.Edit(name: Plan.Name, variants: [.. Plan.Variants.Reverse()]) },
    };

    [Theory, MemberData(nameof(SmallestChanges))]
    public void that_changes_anything_is_recorded(string _, EditCampaign edit) =>
        Spec.Given(Histories.Draft()).When(edit).Then(new CampaignEdited(Plan.Id, edit.Name, edit.Variants, Plan.Marketer, Spec.Now));

    [Fact]
    public void changes_name_and_content_of_a_paused_campaign_keeping_its_split()
    {
        var rewritten = Plan.Variants.Select(v => v with { Subject = "Last chance: " + v.Subject, Content = v.Content + " (updated)" }).ToArray();
        Spec.Given(Histories.Paused())
            .When(Commands.Edit(name: " Summer Sale ", variants: rewritten))
            .Then(new CampaignEdited(Plan.Id, "Summer Sale", rewritten, Plan.Marketer, Spec.Now))
            .AndStatus(CampaignStatus.Paused);
    }

    [Fact]
    public void an_sms_draft_may_drop_its_subjects()
    {
        var withoutSubjects = Plan.Variants.Select(v => v with { Subject = null }).ToArray();
        Spec.Given(Histories.Draft(Channel.Sms))
            .When(Commands.Edit(variants: withoutSubjects))
            .Then(new CampaignEdited(Plan.Id, "Spring Sale (final)", withoutSubjects, Plan.Marketer, Spec.Now))
            .AndStatus(CampaignStatus.Draft);
    }

    [Fact]
    public void a_paused_sms_may_drop_its_subjects_keeping_its_split()
    {
        var withoutSubjects = Plan.Variants.Select(v => v with { Subject = "" }).ToArray();
        Spec.Given(Histories.Paused(Channel.Sms))
            .When(Commands.Edit(variants: withoutSubjects))
            // Stored as no subject, as null is.
            .Then(new CampaignEdited(Plan.Id, "Spring Sale (final)", [.. Plan.Variants.Select(v => v with { Subject = null })], Plan.Marketer, Spec.Now))
            .AndStatus(CampaignStatus.Paused);
    }

    /// <summary>The campaign's channel decides, not the edit's: an edit keeps the channel.</summary>
    [Theory]
    [InlineData(Channel.Email, "Every email variant needs a subject.")]
    [InlineData(Channel.Push, "Every push variant needs a title (its subject).")]
    public void an_email_or_a_push_notification_keeps_a_subject(Channel channel, string message)
    {
        var withoutSubjects = Plan.Variants.Select(v => v with { Subject = null }).ToArray();
        Assert.Equal(message, Spec.Given(Histories.Draft(channel)).When(Commands.Edit(variants: withoutSubjects))
            .ThenRejected(RejectionCode.InvalidVariants).Message);
        Assert.Equal(message, Spec.Given(Histories.Paused(channel)).When(Commands.Edit(variants: withoutSubjects))
            .ThenRejected(RejectionCode.InvalidVariants).Message);
    }

    [Fact]
    public void an_sms_subject_is_still_bounded() =>
        Spec.Given(Histories.Draft(Channel.Sms)).When(Commands.Edit(variants: [new("A", "Sub\0ject", "Body", 100)]))
            .ThenRejected(RejectionCode.InvalidVariants);

    [Fact]
    public void refuses_to_change_the_split_of_a_paused_campaign_whose_audience_is_already_split()
    {
        var refusal = Spec.Given(Histories.Paused()).When(Commands.Edit(variants: Fake.Variants(70, 30))).ThenRejected(RejectionCode.InvalidVariants);
        Assert.Contains("revert to draft", refusal.Message);
        Spec.Given(Histories.Paused()).When(Commands.Edit(variants: [Plan.Variants[0] with { Key = "C" }, Plan.Variants[1]]))
            .ThenRejected(RejectionCode.InvalidVariants);
    }

    [Fact]
    public void the_refusal_names_the_split_that_stays()
    {
        var refusal = Spec.Given(Histories.Paused()).When(Commands.Edit(variants: Fake.Variants(70, 30))).ThenRejected(RejectionCode.InvalidVariants);
        Assert.Equal("The audience is already split across variants A (50%), B (50%): " +
            "edit their subject and content, or revert to draft to change the variants.", refusal.Message);
    }

    /// <summary>Variant A alone keeps its 50%, but variant B's batches are already prepared.</summary>
    [Fact]
    public void refuses_to_drop_a_variant_of_a_paused_campaign()
    {
        var refusal = Spec.Given(Histories.Paused()).When(Commands.Edit(variants: [Plan.Variants[0]])).ThenRejected(RejectionCode.InvalidVariants);
        Assert.StartsWith("The audience is already split across variants", refusal.Message);
    }

    [Fact]
    public void refuses_an_edit_of_a_paused_campaign_without_variants() =>
        Spec.Given(Histories.Paused()).When(Commands.Edit() with { Variants = null! }).ThenRejected(RejectionCode.InvalidVariants);

    [Theory, MemberData(nameof(NotEditable))]
    public void is_refused_in_any_other_status(CampaignStatus status)
    {
        var refusal = Spec.Given(Histories.In(status)).When(Commands.Edit()).ThenRejected(RejectionCode.NotEditable);
        Assert.Contains(status == CampaignStatus.Sent ? "sent campaign can't be edited" : status.ToDisplay(), refusal.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    public void needs_a_name(string name) =>
        Spec.Given(Histories.Paused()).When(Commands.Edit(name: name)).ThenRejected(RejectionCode.InvalidName);

    [Fact]
    public void needs_splits_adding_up_to_100_percent() =>
        Spec.Given(Histories.Draft()).When(Commands.Edit(variants: Fake.Variants(50, 40))).ThenRejected(RejectionCode.InvalidVariants);

    [Theory, MemberData(nameof(Invalid.Actors), MemberType = typeof(Invalid))]
    public void must_say_who_edits_it(Actor? by) =>
        Spec.Given(Histories.Draft()).When(Commands.Edit() with { EditedBy = by! }).ThenRejected(RejectionCode.InvalidActor);
}
