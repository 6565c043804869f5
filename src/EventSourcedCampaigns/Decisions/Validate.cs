using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using static System.FormattableString;
using static EventSourcedCampaigns.CampaignLimits;

namespace EventSourcedCampaigns.Decisions;

/// <summary>Input checks shared by several commands. Each returns null when the input is fine.</summary>
internal static class Validate
{

    /// <summary>A NUL character: PostgreSQL's text and jsonb cannot hold it, so an event carrying one could never be stored.</summary>
    public static bool HasNul(string? text) => text?.Contains('\0') == true;

    /// <summary>
    /// Null, empty, or only spaces and invisible format characters (a zero-width space, a direction mark): text that
    /// shows as nothing in a list. Not applied to variants: a clone re-decides its source's variants as they were
    /// stored, and one stored before this rule would no longer make a draft.
    /// </summary>
    public static bool IsBlank([NotNullWhen(false)] string? text) =>
        text is null || text.All(c => char.IsWhiteSpace(c) || char.GetUnicodeCategory(c) is UnicodeCategory.Format);

    /// <summary>
    /// Where a text's first <paramref name="characters"/> characters (code points, as the limits count them) end, in
    /// UTF-16 units: a cut there never splits a character in two.
    /// </summary>
    public static int EndOfFirst(string text, int characters)
    {
        var end = 0;
        for (var taken = 0; taken < characters && end < text.Length; taken++)
            end += char.IsSurrogatePair(text, end) ? 2 : 1;
        return end;
    }

    /// <summary>A carriage return or a line feed.</summary>
    public static bool HasLineBreak(string? text) => text?.AsSpan().IndexOfAny('\r', '\n') >= 0;

    public static Rejection? Name(string? name) =>
        IsBlank(name) ? new(RejectionCode.InvalidName, "The campaign needs a name.")
        // Counted as stored: without the spaces around it.
        : LengthOf(name.Trim()) > MaxNameLength ? new(RejectionCode.InvalidName, Invariant($"The campaign name is longer than {MaxNameLength} characters."))
        : HasNul(name) ? new(RejectionCode.InvalidName, "The campaign name contains a NUL character.")
        : null;

    public static Rejection? Actor(Actor? actor) =>
        actor is null || string.IsNullOrWhiteSpace(actor.Id) || !Enum.IsDefined(actor.Channel)
            ? new(RejectionCode.InvalidActor, "The request must say who is making it.")
            : LengthOf(actor.Id) > MaxActorIdLength
                ? new(RejectionCode.InvalidActor, Invariant($"The actor's id is longer than {MaxActorIdLength} characters."))
                : HasNul(actor.Id) ? new(RejectionCode.InvalidActor, "The actor's id contains a NUL character.")
                : null;

    /// <summary>An email has a subject line and a push notification a title (its subject); a text message has neither.</summary>
    private static bool NeedsSubject(Channel channel) => channel is Channel.Email or Channel.Push;

    public static Rejection? Variants(Channel channel, Variant[]? variants)
    {
        static Rejection Bad(string why) => new(RejectionCode.InvalidVariants, why);
        if (variants is null || variants.Length == 0) return Bad("The campaign needs at least one message variant.");
        if (variants.Any(v => v is null)) return Bad("A message variant is missing.");
        if (variants.Length > MaxVariants) return Bad(Invariant($"A campaign has at most {MaxVariants} variants."));
        if (variants.Any(v => string.IsNullOrWhiteSpace(v.Key))) return Bad("Every variant needs a key (A, B, ...).");
        // A key names its variant's row in the report and the message's X-Campaign-Variant header: "A" beside "a", or a key
        // with a space after it, would look like one variant twice.
        if (variants.Any(v => char.IsWhiteSpace(v.Key[0]) || char.IsWhiteSpace(v.Key[^1]))) return Bad("A variant's key has spaces around it.");
        if (variants.Select(v => v.Key).Distinct(StringComparer.OrdinalIgnoreCase).Count() != variants.Length)
            return Bad("Variant keys must be unique, whatever their case.");
        if (variants.Any(v => string.IsNullOrWhiteSpace(v.Content))) return Bad("Every variant needs content.");
        if (NeedsSubject(channel) && variants.Any(v => string.IsNullOrWhiteSpace(v.Subject)))
            return Bad(channel is Channel.Push ? "Every push variant needs a title (its subject)." : "Every email variant needs a subject.");
        if (variants.Any(v => LengthOf(v.Key) > MaxVariantKeyLength || (v.Subject is { } subject && LengthOf(subject) > MaxSubjectLength) || LengthOf(v.Content) > MaxContentLength))
            return Bad(Invariant($"A variant's key, subject or content is too long (at most {MaxVariantKeyLength}, {MaxSubjectLength:N0} and {MaxContentLength:N0} characters)."));
        if (variants.Any(v => HasNul(v.Key) || HasNul(v.Subject) || HasNul(v.Content)))
            return Bad("A variant's key, subject or content contains a NUL character.");
        // Each is one line of a message's header (Subject, X-Campaign-Variant): a line break there would be dropped or
        // start another header.
        if (variants.Any(v => HasLineBreak(v.Key) || HasLineBreak(v.Subject)))
            return Bad("A variant's key and subject are one line each: one contains a line break.");
        if (variants.Any(v => v.SplitPercent is < 1 or > 100)) return Bad("Each variant's split must be between 1% and 100%.");
        if (variants.Sum(v => v.SplitPercent) != 100) return Bad("The variants' splits must add up to 100%.");
        return null;
    }

    public static Decision? AsDecision(params Rejection?[] checks) =>
        checks.FirstOrDefault(r => r is not null) is { } r ? Decision.Reject(r.Code, r.Message) : null;
}
