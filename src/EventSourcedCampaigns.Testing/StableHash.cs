namespace EventSourcedCampaigns.Testing;

/// <summary>Process-independent hashing (string.GetHashCode is randomized per process), so fakes are reproducible.</summary>
internal static class StableHash
{
    /// <summary>FNV-1a over the UTF-16 code units.</summary>
    public static ulong Of(string text)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in text)
        {
            hash ^= c;
            hash *= 1099511628211UL;
        }
        return hash;
    }

    /// <summary>SplitMix64 finalizer: a well-mixed 64-bit value from any input.</summary>
    public static ulong Mix(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }

    public static ulong Mix(ulong a, ulong b) => Mix(a ^ Mix(b));

    public static ulong Mix(ulong a, ulong b, ulong c) => Mix(Mix(a, b), c);

    /// <summary>A uniform double in [0, 1).</summary>
    public static double Unit(ulong hash) => (hash >> 11) * (1.0 / (1UL << 53));
}
