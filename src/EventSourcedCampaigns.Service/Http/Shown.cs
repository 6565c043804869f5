namespace EventSourcedCampaigns.Service.Http;

/// <summary>A value the caller gave, quoted in a problem's detail.</summary>
internal static class Shown
{
    /// <summary>
    /// <paramref name="value"/>, or its first 40 characters and "…": never half of a surrogate pair, which the JSON of
    /// the answer turned into U+FFFD (an emoji's first half in place of the emoji).
    /// </summary>
    public static string Start(string? value)
    {
        if (value is null) return "";
        if (value.Length <= 40) return value;
        var keep = char.IsHighSurrogate(value[39]) ? 39 : 40;
        return value[..keep] + "…";
    }
}
