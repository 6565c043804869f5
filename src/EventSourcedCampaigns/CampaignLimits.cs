namespace EventSourcedCampaigns;

/// <summary>
/// The longest and largest input the rules accept. Text is counted in UTF-16 code units, as <see cref="string.Length"/>
/// counts it (an emoji outside the Basic Multilingual Plane counts 2).
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
}
