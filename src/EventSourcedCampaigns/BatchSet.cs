namespace EventSourcedCampaigns;

/// <summary>
/// An immutable set of batch numbers (1-based) as a bitmap: a 10,000-batch campaign keeps its
/// "already recorded" set in 1.25 KB, so the write-model snapshot stays small.
/// </summary>
public sealed record BatchSet(byte[] Bits, int Count)
{
    /// <summary>The empty set.</summary>
    public static BatchSet Empty { get; } = new([], 0);

    /// <summary>Whether the batch is in the set.</summary>
    public bool Contains(int batchNumber)
    {
        var (index, mask) = Locate(batchNumber);
        return index < Bits.Length && (Bits[index] & mask) != 0;
    }

    /// <summary>A set with the batch added (this set when it is already there).</summary>
    public BatchSet Add(int batchNumber)
    {
        if (Contains(batchNumber)) return this;
        var (index, mask) = Locate(batchNumber);
        var bits = new byte[Math.Max(Bits.Length, index + 1)];
        Bits.CopyTo(bits, 0);
        bits[index] |= mask;
        return new BatchSet(bits, Count + 1);
    }

    private static (int Index, byte Mask) Locate(int batchNumber)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchNumber, 1);
        var bit = batchNumber - 1;
        return (bit >> 3, (byte)(1 << (bit & 7)));
    }

    /// <inheritdoc />
    public bool Equals(BatchSet? other) =>
        other is not null && Count == other.Count && Bits.AsSpan().TrimEnd((byte)0).SequenceEqual(other.Bits.AsSpan().TrimEnd((byte)0));

    /// <inheritdoc />
    public override int GetHashCode() => Count;
}
