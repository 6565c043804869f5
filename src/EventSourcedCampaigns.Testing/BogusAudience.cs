using System.Collections.Concurrent;
using System.Globalization;
using Bogus;
using EventSourcedCampaigns.Ports;

namespace EventSourcedCampaigns.Testing;

/// <summary>
/// An audience resolver over a made-up contact base of any size, generated lazily and deterministically from a
/// seed: contact <c>i</c> always has the same id, name and address, and belongs to a list or segment when a hash of
/// (seed, list, i) falls under the list's membership fraction. Nothing is kept in memory but the list definitions
/// and the audience sizes already counted, so an audience of millions costs what the pages read cost.
/// Included lists are unioned (a contact in two of them comes once) and excluded lists subtracted, for real.
/// </summary>
public sealed class BogusAudience : IAudienceResolver
{
    private readonly int _seed;
    private readonly Channel _channel;
    private readonly Dictionary<string, (ulong Key, double Fraction)> _segments;
    private readonly ConcurrentDictionary<string, long> _sizes = new();
    private bool _anyList;

    // Names and domains drawn once by Bogus (fixed seed), then picked per contact by a hash of (seed, index): a
    // contact costs a few hashes instead of a seeded Faker per contact (~17 µs, which made a 1,000,000-recipient
    // audience take 17 s to resolve and dominate the scheduling benchmark).
    private static readonly Lazy<((string Name, string Clean)[] First, (string Name, string Clean)[] Last, string[] Domains)> Pool = new(() =>
    {
        var faker = new Faker("en") { Random = new Randomizer(20_261_129) };
        (string, string)[] Names(Func<string> next, int count) =>
            Enumerable.Range(0, count * 4).Select(_ => next()).Distinct().Select(n => (n, Clean(n))).Where(n => n.Item2.Length > 0).Take(count).ToArray();
        return (Names(() => faker.Name.FirstName(), 1_024), Names(() => faker.Name.LastName(), 1_024),
            Enumerable.Range(0, 1_024).Select(_ => faker.Internet.DomainName()).Distinct().Take(256).ToArray());
    });


    /// <param name="seed">The same seed gives the same contacts and memberships.</param>
    /// <param name="contacts">Size of the contact base (contact indexes 0 to contacts - 1).</param>
    /// <param name="segments">Each list or segment id with the fraction of contacts in it, in (0, 1].</param>
    /// <param name="channel">Which address recipients get: an email, a phone number or a push token.</param>
    public BogusAudience(int seed, long contacts, IReadOnlyDictionary<string, double> segments, Channel channel = Channel.Email)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(contacts);
        ArgumentNullException.ThrowIfNull(segments);
        foreach (var (id, fraction) in segments)
        {
            if (string.IsNullOrWhiteSpace(id)) throw new ArgumentException("A list or segment id is empty.", nameof(segments));
            if (!(fraction is > 0 and <= 1))
                throw new ArgumentOutOfRangeException(nameof(segments), fraction, $"The fraction of contacts in '{id}' must be in (0, 1].");
        }
        if (!Enum.IsDefined(channel)) throw new ArgumentOutOfRangeException(nameof(channel), channel, "Unknown channel.");
        _seed = seed;
        _channel = channel;
        Contacts = contacts;
        _segments = segments.ToDictionary(s => s.Key, s => (StableHash.Mix((ulong)seed, StableHash.Of(s.Key)), s.Value));
    }

    /// <summary>
    /// A contact base where any list name exists: "everyone" holds every contact, and any other list a stable
    /// fraction between 10% and 90% of them, derived from its name. For demos and local services, where the
    /// marketer may type any list.
    /// </summary>
    public static BogusAudience AnyList(long contacts, int seed = 1, Channel channel = Channel.Email) =>
        new(seed, contacts, new Dictionary<string, double> { ["everyone"] = 1.0 }, channel) { _anyList = true };

    /// <summary>A contact base where the list "everyone" holds every contact.</summary>
    public static BogusAudience Everyone(long contacts, int seed = 1) => new(seed, contacts, new Dictionary<string, double> { ["everyone"] = 1.0 });

    /// <summary>Size of the contact base.</summary>
    public long Contacts { get; }

    /// <summary>Whether contact <paramref name="index"/> is in the list or segment.</summary>
    /// <exception cref="UnknownSegmentException">No such list or segment.</exception>
    public bool IsMember(string segmentId, long index) => IsMember(Segment(segmentId), index);

    /// <summary>Whether contact <paramref name="index"/> is in the audience.</summary>
    public bool IsInAudience(Audience audience, long index) => IsInAudience(Compile(audience), index);

    /// <summary>The number of recipients of the audience (counted once per audience, then remembered).</summary>
    public long Count(Audience audience)
    {
        var compiled = Compile(audience);
        return _sizes.GetOrAdd(Key(audience), _ =>
        {
            long count = 0;
            for (long i = 0; i < Contacts; i++)
                if (IsInAudience(compiled, i)) count++;
            return count;
        });
    }

    /// <summary>The contact at <paramref name="index"/>: the same every time for the same seed.</summary>
    public Recipient RecipientAt(long index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Contacts);
        var (firstNames, lastNames, domains) = Pool.Value;
        var first = firstNames[StableHash.Mix((ulong)_seed, (ulong)index, 1) % (ulong)firstNames.Length];
        var last = lastNames[StableHash.Mix((ulong)_seed, (ulong)index, 2) % (ulong)lastNames.Length];
        var id = $"c{index:D10}";
        var address = _channel switch
        {
            Channel.Sms => $"+1555{index:D10}",
            Channel.Push => $"push-{StableHash.Mix((ulong)_seed, (ulong)index, 7):x16}-{index}",
            _ => $"{first.Clean}.{last.Clean}.{index}@{domains[StableHash.Mix((ulong)_seed, (ulong)index, 3) % (ulong)domains.Length]}",
        };
        return new Recipient(id, address, $"{first.Name} {last.Name}");
    }

    /// <inheritdoc />
    /// <remarks>One contact base for every tenant: <paramref name="tenantId"/> is not used.</remarks>
    public ValueTask<AudiencePage> ResolvePageAsync(string tenantId, Audience audience, string? continuation, int pageSize, CancellationToken cancellation = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        var compiled = Compile(audience);
        var start = Position(continuation);
        var total = Count(audience);
        var recipients = new List<Recipient>(Math.Min(pageSize, 16_384));
        var index = start;
        for (; index < Contacts && recipients.Count < pageSize; index++)
        {
            if ((index & 0xFFFF) == 0) cancellation.ThrowIfCancellationRequested();
            if (IsInAudience(compiled, index)) recipients.Add(RecipientAt(index));
        }
        // The last page is the one that reached the end of the contact base.
        var next = index < Contacts ? index.ToString(CultureInfo.InvariantCulture) : null;
        return ValueTask.FromResult(new AudiencePage(recipients, total, next));
    }

    private long Position(string? continuation)
    {
        if (continuation is null) return 0;
        return long.TryParse(continuation, NumberStyles.None, CultureInfo.InvariantCulture, out var position) && position <= Contacts
            ? position
            : throw new InvalidContinuationException(continuation);
    }

    private ((ulong, double)[] Included, (ulong, double)[] Excluded) Compile(Audience audience)
    {
        ArgumentNullException.ThrowIfNull(audience);
        return ((audience.Included ?? []).Select(Segment).ToArray(), (audience.Excluded ?? []).Select(Segment).ToArray());
    }

    private (ulong Key, double Fraction) Segment(string segmentId)
    {
        if (segmentId is not null && _segments.TryGetValue(segmentId, out var segment)) return segment;
        if (!_anyList || string.IsNullOrWhiteSpace(segmentId)) throw new UnknownSegmentException(segmentId ?? "");
        var key = StableHash.Mix((ulong)_seed, StableHash.Of(segmentId));
        return (key, 0.1 + 0.8 * StableHash.Unit(StableHash.Mix(key, 0x5e6)));
    }

    private static bool IsInAudience(((ulong, double)[] Included, (ulong, double)[] Excluded) audience, long index)
    {
        var included = false;
        foreach (var segment in audience.Included)
            if (IsMember(segment, index)) { included = true; break; }
        if (!included) return false;
        foreach (var segment in audience.Excluded)
            if (IsMember(segment, index)) return false;
        return true;
    }

    private static bool IsMember((ulong Key, double Fraction) segment, long index) =>
        segment.Fraction >= 1 || StableHash.Unit(StableHash.Mix(segment.Key, (ulong)index)) < segment.Fraction;

    private static string Key(Audience audience) =>
        string.Join(',', (audience.Included ?? []).Order(StringComparer.Ordinal)) + "|" + string.Join(',', (audience.Excluded ?? []).Order(StringComparer.Ordinal));

    private static string Clean(string name) => new(name.ToLowerInvariant().Where(char.IsAsciiLetterOrDigit).ToArray());
}
