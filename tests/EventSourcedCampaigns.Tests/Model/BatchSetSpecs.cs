using Xunit;

namespace EventSourcedCampaigns.Tests.Model;

/// <summary>
/// The batches a send has recorded, kept in the write-model snapshot as a bitmap: batch n is bit (n - 1) % 8 of
/// byte (n - 1) / 8. The layout is stored, so a snapshot written today must read the same tomorrow.
/// </summary>
public class a_batch_set
{
    [Fact]
    public void starts_empty()
    {
        Assert.Equal(0, BatchSet.Empty.Count);
        Assert.Empty(BatchSet.Empty.Bits);
        Assert.False(BatchSet.Empty.Contains(1));
    }

    [Fact]
    public void holds_the_batches_added_and_no_others()
    {
        var set = BatchSet.Empty.Add(1).Add(8).Add(9);

        Assert.Equal(3, set.Count);
        Assert.All(new[] { 1, 8, 9 }, batch => Assert.True(set.Contains(batch), $"batch {batch} was added"));
        Assert.All(new[] { 2, 7, 10, 16, 17, 1_000 }, batch => Assert.False(set.Contains(batch), $"batch {batch} was not added"));
    }

    [Fact]
    public void adding_a_batch_again_changes_nothing()
    {
        var once = BatchSet.Empty.Add(5);

        Assert.Same(once, once.Add(5));
        Assert.Equal(1, once.Add(5).Count);
        Assert.Equal(new byte[] { 0b0001_0000 }, once.Add(5).Bits);
    }

    [Fact]
    public void adding_leaves_the_set_it_came_from_as_it_was()
    {
        var before = BatchSet.Empty.Add(3);
        var after = before.Add(4);

        Assert.False(before.Contains(4));
        Assert.Equal(1, before.Count);
        Assert.True(after.Contains(3) && after.Contains(4));
    }

    [Theory]
    [InlineData(1, new byte[] { 0b0000_0001 })]
    [InlineData(2, new byte[] { 0b0000_0010 })]
    [InlineData(8, new byte[] { 0b1000_0000 })]
    [InlineData(9, new byte[] { 0b0000_0000, 0b0000_0001 })]
    [InlineData(17, new byte[] { 0b0000_0000, 0b0000_0000, 0b0000_0001 })]
    public void stores_batch_n_as_bit_n_minus_1(int batch, byte[] bits) =>
        Assert.Equal(bits, BatchSet.Empty.Add(batch).Bits);

    [Fact]
    public void reads_a_stored_bitmap()
    {
        var stored = new BatchSet([0b1000_0001, 0b0000_0001], 3);

        Assert.True(stored.Contains(1) && stored.Contains(8) && stored.Contains(9));
        Assert.False(stored.Contains(2) || stored.Contains(7) || stored.Contains(10) || stored.Contains(17));
    }

    [Fact]
    public void keeps_ten_thousand_batches_in_1_250_bytes()
    {
        var all = Enumerable.Range(1, 10_000).Aggregate(BatchSet.Empty, (set, batch) => set.Add(batch));

        Assert.Equal(10_000, all.Count);
        Assert.Equal(1_250, all.Bits.Length);
        Assert.All(all.Bits, b => Assert.Equal(0xFF, b));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(-9)]
    public void has_no_batch_numbered_below_1(int batch)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => BatchSet.Empty.Contains(batch));
        Assert.Throws<ArgumentOutOfRangeException>(() => BatchSet.Empty.Add(1).Add(batch));
    }
}

/// <summary>Two sets are equal when they hold the same batches, however their bitmaps were padded when stored.</summary>
public class two_batch_sets
{
    [Fact]
    public void holding_the_same_batches_are_equal_whatever_the_order_they_were_added_in()
    {
        var one = BatchSet.Empty.Add(3).Add(12);
        var other = BatchSet.Empty.Add(12).Add(3);

        Assert.True(one.Equals(other));
        Assert.Equal(one.GetHashCode(), other.GetHashCode());
    }

    [Fact]
    public void are_equal_whatever_trailing_zero_bytes_a_stored_bitmap_has()
    {
        Assert.True(new BatchSet([0b0000_0100, 0, 0], 1).Equals(BatchSet.Empty.Add(3)));
        Assert.True(BatchSet.Empty.Add(3).Equals(new BatchSet([0b0000_0100, 0], 1)));
        Assert.True(BatchSet.Empty.Equals(new BatchSet([0, 0], 0)));
    }

    [Fact]
    public void holding_other_batches_are_not_equal()
    {
        Assert.False(BatchSet.Empty.Add(3).Equals(BatchSet.Empty.Add(4)));
        Assert.False(BatchSet.Empty.Add(1).Equals(BatchSet.Empty.Add(9)));
        Assert.False(BatchSet.Empty.Add(1).Equals(BatchSet.Empty.Add(1).Add(2)));
        Assert.False(BatchSet.Empty.Add(1).Add(2).Equals(BatchSet.Empty.Add(1)));
        Assert.False(BatchSet.Empty.Equals(BatchSet.Empty.Add(1)));
    }

    [Fact]
    public void a_set_is_not_equal_to_no_set()
    {
        Assert.False(BatchSet.Empty.Add(1).Equals((BatchSet?)null));
        Assert.False(BatchSet.Empty.Equals((BatchSet?)null));
    }
}
