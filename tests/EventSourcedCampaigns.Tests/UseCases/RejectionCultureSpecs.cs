using System.Globalization;
using EventSourcedCampaigns.Tests.Support;
using Xunit;

namespace EventSourcedCampaigns.Tests.UseCases;

/// <summary>
/// Rejection messages are English sentences a marketer reads: the numbers and dates in them are written the same on a
/// server whatever its culture (LANG=de_DE.UTF-8 would otherwise answer "4.500 recipients" in an English sentence).
/// </summary>
public class rejection_messages_in_any_culture
{
    public static TheoryData<string> Cultures => new("de-DE", "fr-FR", "sv-SE", "th-TH", "ar-SA");

    /// <summary>Runs <paramref name="act"/> with <paramref name="culture"/> as the current culture, then restores it.</summary>
    private static T In<T>(string culture, Func<T> act)
    {
        var (before, beforeUi) = (CultureInfo.CurrentCulture, CultureInfo.CurrentUICulture);
        try
        {
            CultureInfo.CurrentCulture = CultureInfo.CurrentUICulture = CultureInfo.GetCultureInfo(culture);
            return act();
        }
        finally
        {
            (CultureInfo.CurrentCulture, CultureInfo.CurrentUICulture) = (before, beforeUi);
        }
    }

    [Fact]
    public void the_culture_of_these_specs_really_writes_numbers_otherwise() =>
        // Without ICU (invariant globalization) every culture would write 4,500 and the specs below would prove nothing.
        Assert.Equal("4.500", In("de-DE", () => $"{4_500:N0}"));

    [Theory, MemberData(nameof(Cultures))]
    public void numbers_are_written_invariantly(string culture)
    {
        var batches = In(culture, () =>
            Spec.Given(Histories.Scheduling()).When(Commands.Complete(batches: 2)).ThenRejected(RejectionCode.InvalidCount));
        Assert.Equal("4,500 recipients in batches of 1,000 need between 5 and 4,500 batches, not 2.", batches.Message);

        var batchSize = In(culture, () =>
            Spec.Given(Histories.Draft()).When(Commands.Schedule(Spec.Now.AddDays(1), batchSize: 0)).ThenRejected(RejectionCode.InvalidBatchSize));
        Assert.Equal("The batch size must be between 1 and 100,000.", batchSize.Message);

        var negative = In(culture, () =>
            Spec.Given(Histories.Sending()).When(Commands.Claim(-1, "A", 1)).ThenRejected(RejectionCode.BatchOutOfRange));
        Assert.Equal("Batch -1 doesn't exist; the campaign has batches 1 to 5.", negative.Message);

        var reason = In(culture, () =>
            Spec.Given(Histories.Scheduled()).When(Commands.Cancel(reason: new CancelReason(CancelReasonCode.Other, new string('x', 1_001))))
                .ThenRejected(RejectionCode.InvalidReason));
        Assert.Equal("A cancel needs a known reason code and at most 1,000 characters of text, without NUL characters.", reason.Message);
    }

    [Theory, MemberData(nameof(Cultures))]
    public void dates_are_written_invariantly(string culture)
    {
        var sendAt = new DateTimeOffset(2026, 3, 2, 10, 31, 0, TimeSpan.FromHours(1)); // a minute after Spec.Now
        var early = In(culture, () =>
            Spec.Given(Histories.Scheduled(sendAt)).When(Commands.StartSend()).ThenRejected(RejectionCode.SendTimeNotReached));
        Assert.Equal("The campaign is scheduled to send at 2026-03-02T10:31:00.0000000+01:00.", early.Message);
    }
}
