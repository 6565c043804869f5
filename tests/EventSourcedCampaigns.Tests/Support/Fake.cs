using System.Text.RegularExpressions;
using Bogus;

namespace EventSourcedCampaigns.Tests.Support;

/// <summary>Realistic campaign data from Bogus. Seeded, so a run can be reproduced.</summary>
public static class Fake
{
    private static readonly Faker Shared = Seeded(2026);

    /// <summary>A faker of its own, for data that must be the same on every run (snapshots, random walks).</summary>
    public static Faker Seeded(int seed) => new() { Random = new Randomizer(seed) };

    public static Actor Marketer() => Use(f => f.Marketer());
    public static Actor ApiKey() => Use(f => f.ApiKey());
    public static string CampaignName() => Use(f => f.CampaignName());
    public static CancelReason Reason() => Use(f => f.Reason());
    public static Variant[] Variants(params int[] splits) => Use(f => f.Variants(splits));

    private static T Use<T>(Func<Faker, T> make)
    {
        lock (Shared) return make(Shared);
    }
}

/// <summary>What campaign data looks like.</summary>
public static class FakerExtensions
{
    public static Actor Marketer(this Faker f) => new(f.Internet.Email(f.Name.FirstName(), f.Name.LastName()), RequestChannel.User);

    public static Actor ApiKey(this Faker f) => new($"key_{f.Random.AlphaNumeric(20)}", RequestChannel.ApiKey);

    public static string CampaignName(this Faker f) =>
        $"{f.Commerce.ProductAdjective()} {f.Commerce.Department()} {f.PickRandom("Sale", "Newsletter", "Launch", "Digest", "Reminder")}";

    public static CancelReason Reason(this Faker f) =>
        new(f.PickRandom<CancelReasonCode>(), f.Random.Bool() ? f.Lorem.Sentence() : null);

    /// <summary>One variant per split (A, B, C, ...); no splits means a single variant with 100%.</summary>
    public static Variant[] Variants(this Faker f, params int[] splits) =>
        (splits.Length == 0 ? [100] : splits)
        .Select((split, i) => new Variant(((char)('A' + i)).ToString(), f.Commerce.ProductName(), f.Lorem.Paragraph(), split))
        .ToArray();

    public static string Segment(this Faker f) =>
        $"seg_{Regex.Replace(f.Commerce.Department().ToLowerInvariant(), "[^a-z]+", "_")}_{f.Random.Number(100, 999)}";
}
