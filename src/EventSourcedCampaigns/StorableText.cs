namespace EventSourcedCampaigns;

/// <summary>
/// Text from outside (a resolver's or a provider's error) in a form an event can be stored with. PostgreSQL's text and
/// jsonb refuse a NUL character and an unpaired surrogate; an event that cannot be stored is retried forever and
/// strands the campaign behind it.
/// </summary>
public static class StorableText
{
    /// <summary>
    /// <paramref name="text"/> without NUL characters, each unpaired surrogate replaced by U+FFFD, and at most
    /// <paramref name="max"/> characters: a longer text is cut, never inside a surrogate pair, and ends with
    /// <paramref name="cutMarker"/> (counted in <paramref name="max"/>).
    /// </summary>
    public static string Of(string text, int max = int.MaxValue, string cutMarker = "")
    {
        ArgumentNullException.ThrowIfNull(text);
        var chars = text.Replace("\0", "", StringComparison.Ordinal).ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (char.IsHighSurrogate(chars[i]) && i + 1 < chars.Length && char.IsLowSurrogate(chars[i + 1])) i++;
            else if (char.IsSurrogate(chars[i])) chars[i] = '\uFFFD';
        }
        if (chars.Length <= max) return new string(chars);
        var keep = max - cutMarker.Length;
        if (char.IsHighSurrogate(chars[keep - 1])) keep--;
        return new string(chars, 0, keep) + cutMarker;
    }
}
