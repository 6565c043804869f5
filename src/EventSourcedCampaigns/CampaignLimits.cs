namespace EventSourcedCampaigns;

/// <summary>
/// The longest and largest input the rules accept. Text is counted in characters (Unicode code points), as JSON Schema's
/// <c>maxLength</c> and PostgreSQL count it: an emoji outside the Basic Multilingual Plane counts 1 (its
/// <see cref="string.Length"/> is 2), a letter with a combining accent 2.
/// </summary>
public static class CampaignLimits
{
    /// <summary>A campaign's name, without the spaces around it.</summary>
    public const int MaxNameLength = 200;
    public const int MaxBatchSize = 100_000;
    // The write model carries the variants and is rewritten on every claim: content is bounded so a claim stays small.
    public const int MaxVariants = 26;
    public const int MaxVariantKeyLength = 50;
    public const int MaxSubjectLength = 500;
    public const int MaxContentLength = 100_000;
    public const int MaxActorIdLength = 320;
    public const int MaxLists = 100;
    public const int MaxListIdLength = 200;

    /// <summary>
    /// A text's length as these limits count it: its characters (Unicode code points), as JSON Schema's <c>maxLength</c>
    /// and PostgreSQL count them. An emoji beyond the Basic Multilingual Plane is one, where <see cref="string.Length"/>
    /// counts its two UTF-16 halves; an unpaired half is one.
    /// </summary>
    public static int LengthOf(string text)
    {
        var length = text.Length;
        for (var i = 1; i < text.Length; i++)
            if (char.IsLowSurrogate(text[i]) && char.IsHighSurrogate(text[i - 1])) length--;
        return length;
    }
}
