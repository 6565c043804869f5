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
}
