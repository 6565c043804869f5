namespace EventSourcedCampaigns.Sending.Tests;

public sealed class FakesTests
{
    private static readonly Dictionary<string, double> Lists = new() { ["newsletter"] = 0.6, ["vip"] = 0.1, ["unsubscribed"] = 0.05 };

    private static async Task<List<Recipient>> ResolveAllAsync(IAudienceResolver resolver, Audience audience, int pageSize)
    {
        var all = new List<Recipient>();
        string? continuation = null;
        do
        {
            var page = await resolver.ResolvePageAsync("acme", audience, continuation, pageSize);
            Assert.True(page.Recipients.Count <= pageSize);
            all.AddRange(page.Recipients);
            continuation = page.Continuation;
        } while (continuation is not null);
        return all;
    }

    [Fact]
    public async Task The_bogus_audience_unions_included_lists_once_each_and_subtracts_excluded_ones()
    {
        var contacts = new BogusAudience(42, 20_000, Lists);
        var audience = new Audience(["newsletter", "vip"], ["unsubscribed"]);

        var recipients = await ResolveAllAsync(contacts, audience, 700);

        var expected = Enumerable.Range(0, 20_000)
            .Where(i => (contacts.IsMember("newsletter", i) || contacts.IsMember("vip", i)) && !contacts.IsMember("unsubscribed", i))
            .Select(i => contacts.RecipientAt(i).Id).ToList();
        Assert.Equal(expected, recipients.Select(r => r.Id));
        Assert.Equal(recipients.Count, recipients.Select(r => r.Address).Distinct().Count());
        Assert.Equal(contacts.Count(audience), recipients.Count);
        Assert.InRange(recipients.Count, 20_000 * 0.6, 20_000 * 0.7); // 1 - 0.4 × 0.9 = 64% in, 5% of them out
        Assert.Contains(Enumerable.Range(0, 20_000), i => contacts.IsMember("newsletter", i) && contacts.IsMember("vip", i));
    }

    [Fact]
    public async Task The_bogus_audience_is_the_same_for_the_same_seed_and_different_for_another()
    {
        var audience = Audience.Of("newsletter");
        var first = await new BogusAudience(7, 5_000, Lists).ResolvePageAsync("acme", audience, "1000", 50);
        var again = await new BogusAudience(7, 5_000, Lists).ResolvePageAsync("acme", audience, "1000", 50);
        var other = await new BogusAudience(8, 5_000, Lists).ResolvePageAsync("acme", audience, "1000", 50);

        Assert.Equal(first.Recipients, again.Recipients);
        Assert.Equal(first.Continuation, again.Continuation);
        Assert.NotEqual(first.Recipients.Select(r => r.Address), other.Recipients.Select(r => r.Address));
        Assert.All(first.Recipients, r => Assert.Matches(@"^[a-z]+\.[a-z]+\.\d+@", r.Address));
    }

    [Fact]
    public async Task The_bogus_audience_pages_a_ten_million_contact_base_without_materializing_it()
    {
        var contacts = BogusAudience.Everyone(10_000_000);
        var page = await contacts.ResolvePageAsync("acme", Audience.Of("everyone"), "9999990", 1_000);

        Assert.Equal(10, page.Recipients.Count);
        Assert.Null(page.Continuation);
        Assert.Equal(10_000_000, page.TotalRecipients);
        Assert.Equal("c0009999999", page.Recipients[^1].Id);
    }

    [Fact]
    public async Task Bad_audience_input_gets_typed_errors()
    {
        var contacts = new BogusAudience(1, 100, Lists);

        var unknown = await Assert.ThrowsAsync<UnknownSegmentException>(() => contacts.ResolvePageAsync("acme", Audience.Of("nope"), null, 10).AsTask());
        Assert.Equal("nope", unknown.SegmentId);
        await Assert.ThrowsAsync<InvalidContinuationException>(() => contacts.ResolvePageAsync("acme", Audience.Of("vip"), "abc", 10).AsTask());
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => contacts.ResolvePageAsync("acme", Audience.Of("vip"), null, 0).AsTask());
        Assert.Throws<ArgumentOutOfRangeException>(() => new BogusAudience(1, 100, new Dictionary<string, double> { ["x"] = 1.5 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FakeDispatcher(new FakeDispatcherOptions(TransientFailureRate: -0.1)));
    }

    [Fact]
    public async Task The_fake_dispatcher_fails_the_configured_share_of_calls_reproducibly()
    {
        static async Task<(int Transient, int Permanent, long Delivered)> RunAsync(int seed)
        {
            var dispatcher = new FakeDispatcher(new FakeDispatcherOptions(TransientFailureRate: 0.2, PermanentFailureRate: 0.1, RecipientFailureRate: 0.02, Seed: seed));
            var recipients = Enumerable.Range(0, 100).Select(i => new Recipient($"r{i}", $"r{i}@example.com")).ToArray();
            var variant = new Variant("A", "Hi", "Hello", 100);
            var campaign = new Guid("5a1e0000-0000-0000-0000-000000000001");
            var (transient, permanent) = (0, 0);
            for (var batch = 1; batch <= 2_000; batch++)
            {
                try { await dispatcher.DispatchAsync(new DispatchRequest(campaign, "t", batch, Channel.Email, variant, recipients)); }
                catch (TransientDispatchException) { transient++; }
                catch (PermanentDispatchException) { permanent++; }
            }
            return (transient, permanent, dispatcher.Delivered);
        }

        var first = await RunAsync(3);
        Assert.Equal(first, await RunAsync(3));
        Assert.InRange(first.Transient, 330, 470);           // 20% of 2,000
        Assert.InRange(first.Permanent, 100, 220);           // 10% of the remaining 1,600
        Assert.InRange(first.Delivered, 1_000 * 98, 1_800 * 98 + 1_000); // accepted batches lose ~2% of recipients
    }

    [Fact]
    public void Variants_get_exactly_their_split_in_every_hundred_recipients()
    {
        Variant[] variants = [new("A", "s", "c", 10), new("B", "s", "c", 25), new("C", "s", "c", 65)];

        var first300 = Enumerable.Range(0, 300).Select(n => Batching.VariantIndex(variants, n)).ToList();

        Assert.Equal([30, 75, 195], Enumerable.Range(0, 3).Select(v => first300.Count(i => i == v)));
        Assert.Equal([new VariantShare("A", 1_000), new VariantShare("B", 2_500), new VariantShare("C", 6_500)], Batching.Shares(variants, 10_000));
        var shares = Batching.Shares(variants, 1_234);
        Assert.Equal(1_234, shares.Sum(s => s.Recipients));
        Assert.Equal(Enumerable.Range(0, 1_234).Count(n => Batching.VariantIndex(variants, n) == 1), shares[1].Recipients);
        Assert.NotEqual([0, 0, 0], first300.Take(3)); // interleaved, not blocks
    }

    [Theory]
    [InlineData(new[] { 50, 50 }, 5, new long[] { 3, 2 })] // not 4 and 1
    [InlineData(new[] { 1, 99 }, 3, new long[] { 0, 3 })] // not a third of them for 1%
    [InlineData(new[] { 99, 1 }, 3, new long[] { 3, 0 })]
    [InlineData(new[] { 33, 33, 34 }, 3, new long[] { 1, 1, 1 })]
    [InlineData(new[] { 20, 20, 20, 20, 20 }, 45, new long[] { 9, 9, 9, 9, 9 })] // not 9, 9, 10, 7, 10
    [InlineData(new[] { 49, 1, 50 }, 23, new long[] { 11, 0, 12 })]
    public void A_small_audience_gives_each_variant_its_share_rounded_down_or_up(int[] splits, long recipients, long[] expected)
    {
        var variants = splits.Select((split, i) => new Variant(((char)('A' + i)).ToString(), "s", "c", split)).ToArray();

        Assert.Equal(expected, Batching.Shares(variants, recipients).Select(s => s.Recipients));
    }

    [Fact]
    public void Every_first_n_recipients_give_each_variant_its_share_of_n_rounded_down_or_up()
    {
        var random = new Random(5);
        for (var trial = 0; trial < 2_000; trial++)
        {
            // A random split of 100 into 1 to 12 variants of at least 1%.
            var cuts = Enumerable.Range(1, 99).OrderBy(_ => random.Next()).Take(random.Next(0, 12)).Order().ToList();
            var splits = cuts.Append(100).Zip(cuts.Prepend(0), (end, start) => end - start).ToArray();
            var variants = splits.Select((split, i) => new Variant($"V{i}", "s", "c", split)).ToArray();
            var counts = new long[splits.Length];
            for (var n = 1; n <= 250; n++)
            {
                counts[Batching.VariantIndex(variants, n - 1)]++;
                for (var v = 0; v < splits.Length; v++)
                    Assert.True(counts[v] >= n * splits[v] / 100 && counts[v] <= (n * splits[v] + 99) / 100,
                        $"split {string.Join('/', splits)}: variant {v} has {counts[v]} of the first {n}");
                Assert.Equal(counts, Batching.Shares(variants, n).Select(s => s.Recipients));
            }
        }
    }

    [Fact]
    public void A_page_interleaves_the_variants_batches_so_a_send_stopped_part_way_reached_each_variant_alike()
    {
        Variant[] variants = [new("A", "s", "c", 50), new("B", "s", "c", 25), new("C", "s", "c", 25)];
        var recipients = Enumerable.Range(0, 2_000).Select(i => new Recipient($"r{i}", $"r{i}@example.com", null)).ToList();

        var batches = Batching.Split(Guid.NewGuid(), variants, recipients, 0, 1, 50);

        Assert.Equal(Enumerable.Range(1, 40), batches.Select(b => b.BatchNumber));
        Assert.Equal([20, 10, 10], variants.Select(v => batches.Count(b => b.Variant == v.Key)));
        // Any first batches hold each variant's share of them, rounded down or up: A, B, C, A, A, B, C, A...
        for (var n = 1; n <= batches.Count; n++)
        {
            var first = batches.Take(n).ToList();
            Assert.InRange(first.Count(b => b.Variant == "A"), n / 2, (n + 1) / 2 + 1);
            Assert.InRange(first.Count(b => b.Variant == "B"), n / 4 - 1, (n + 3) / 4 + 1);
        }
        Assert.Equal(recipients.Select(r => r.Id).Order(), batches.SelectMany(b => b.Recipients).Select(r => r.Id).Order());
    }
}
