using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using EventSourcedCampaigns.Marten.ReadModels;
using Marten;
using Marten.Linq;
using Marten.Linq.MatchesSql;

namespace EventSourcedCampaigns.Marten;

/// <summary>A page of results, with the total across all pages.</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, long Total, int PageNumber, int PageSize);

/// <summary>Columns the campaign list can be sorted by.</summary>
public enum CampaignSort { UpdatedAt, CreatedAt, SendAt, Name }

/// <summary>Filter, sort and page the Campaigns tab. Every filter is optional.</summary>
public sealed record CampaignListQuery(
    CampaignStatus? Status = null, string? NameContains = null,
    DateTimeOffset? UpdatedFrom = null, DateTimeOffset? UpdatedTo = null,
    CampaignSort SortBy = CampaignSort.UpdatedAt, bool Descending = true,
    int PageNumber = 1, int PageSize = 50);

/// <summary>Filter and page the cancellation audit (newest first). <see cref="AllTenants"/> is for operators only.</summary>
public sealed record CancellationAuditQuery(
    Guid? CampaignId = null, string? ActorId = null, RequestChannel? Channel = null,
    DateTimeOffset? From = null, DateTimeOffset? To = null, bool AllTenants = false,
    int PageNumber = 1, int PageSize = 50);

/// <summary>Typed queries over the campaign read models; callers never see Marten documents or LINQ.</summary>
public static class CampaignQueries
{
    /// <summary>Largest page a query returns.</summary>
    public const int MaxPageSize = 500;

    /// <summary>The Campaigns tab of the session's tenant.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="query"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Page number or size out of range, or an inverted date range.</exception>
    public static Task<Page<CampaignListItem>> QueryCampaignsAsync(this IQuerySession session, CampaignListQuery query, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        CheckPaging(query.PageNumber, query.PageSize);
        CheckRange(query.UpdatedFrom, query.UpdatedTo);
        CheckText(query.NameContains, nameof(query.NameContains));
        var q = session.Query<CampaignListItem>().AsQueryable();
        if (query.Status is { } status) q = q.Where(x => x.Status == status);
        if (!string.IsNullOrWhiteSpace(query.NameContains))
        {
            // Any part of the name, ignoring case and how its accents were typed. Both sides in Unicode's composed form
            // (NFC): "São" typed on one keyboard is S, ã, o and on another S, a, a combining tilde, o. Each compared
            // lower-cased and upper-cased, as .NET's OrdinalIgnoreCase does: lower() alone keeps "KIŞ" from "Kış" (I
            // lowers to i, not ı) and "σοφος" from "ΣΟΦΟΣ" (Σ lowers to σ, not ς), which upper-case alike.
            // Only a name not stored in NFC is normalized row by row: normalizing every row made a search of 100,000 campaigns
            // 1.5 times slower than ilike, the NFC check 1.1 times (docs/benchmarks.md).
            var pattern = "%" + LikeEscaped(query.NameContains.Trim().Normalize(NormalizationForm.FormC)) + "%";
            q = q.Where(x => x.MatchesSql(
                "(lower(d.data ->> 'Name') like lower(?) or upper(d.data ->> 'Name') like upper(?) or ((d.data ->> 'Name') is not nfc normalized " +
                "and (normalize(lower(d.data ->> 'Name'), NFC) like normalize(lower(?), NFC) or normalize(upper(d.data ->> 'Name'), NFC) like normalize(upper(?), NFC))))",
                pattern, pattern, pattern, pattern));
        }
        if (query.UpdatedFrom is { } from) q = q.Where(x => x.UpdatedAt >= from);
        if (query.UpdatedTo is { } to) q = q.Where(x => x.UpdatedAt < to);
        var ordered = (query.SortBy, query.Descending) switch
        {
            (CampaignSort.CreatedAt, false) => q.OrderBy(x => x.CreatedAt).ThenBy(x => x.Id),
            (CampaignSort.CreatedAt, true) => q.OrderByDescending(x => x.CreatedAt).ThenBy(x => x.Id),
            (CampaignSort.SendAt, false) => q.OrderBy(x => x.SendAt).ThenBy(x => x.Id),
            // Campaigns without a send time (drafts) last, as in the earliest-first order: PostgreSQL puts nulls first
            // in a descending order, so "latest first" would open with every draft. The expression of its index (LatestFirst).
            (CampaignSort.SendAt, true) => q.OrderBySql(
                $"{session.DocumentStore.Options.DatabaseSchemaName}.mt_immutable_timestamptz(data ->> 'SendAt') desc nulls last").ThenBySql("id"),
            // Alphabetical as a marketer reads it: "apple" before "Zebra" whatever the database's collation (lower(), indexed).
            (CampaignSort.Name, false) => q.OrderBy(x => x.Name, StringComparer.OrdinalIgnoreCase).ThenBy(x => x.Id),
            (CampaignSort.Name, true) => q.OrderByDescending(x => x.Name, StringComparer.OrdinalIgnoreCase).ThenBy(x => x.Id),
            (_, false) => q.OrderBy(x => x.UpdatedAt).ThenBy(x => x.Id),
            _ => q.OrderByDescending(x => x.UpdatedAt).ThenBy(x => x.Id),
        };
        return PageAsync(q, ordered, query.PageNumber, query.PageSize, ct);
    }

    /// <summary>The send report of one campaign, or null when the tenant has no such campaign.</summary>
    public static Task<SendReport?> LoadSendReportAsync(this IQuerySession session, Guid campaignId, CancellationToken ct = default) =>
        session.LoadAsync<SendReport>(campaignId, ct);

    /// <summary>The current write-model state of one campaign (decisions' view; kept inline, so always current), or null.</summary>
    public static Task<CampaignState?> LoadCampaignStateAsync(this IQuerySession session, Guid campaignId, CancellationToken ct = default) =>
        session.LoadAsync<CampaignState>(campaignId, ct);

    /// <summary>
    /// Cancel requests, accepted and refused, newest first, each with its campaign's current name
    /// (<see cref="CancellationAuditEntry.CampaignName"/>, read by one more query for the whole page).
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="query"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Page number or size out of range, or an inverted time range.</exception>
    public static async Task<Page<CancellationAuditEntry>> QueryCancellationAuditAsync(this IQuerySession session, CancellationAuditQuery query, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        CheckPaging(query.PageNumber, query.PageSize);
        var q = AuditEntries(session, query);
        var page = await PageAsync(q, NewestFirst(q), query.PageNumber, query.PageSize, ct);
        return page with { Items = await WithCampaignNamesAsync(session, page.Items, ct) };
    }

    /// <summary>
    /// The first <paramref name="limit"/> cancel requests of <paramref name="query"/> (its paging ignored), newest first,
    /// read by one statement: an export sees the audit as it was when it started, where pages would repeat or skip the
    /// entries that new ones push across a page boundary. Each entry has its campaign's current name
    /// (<see cref="CancellationAuditEntry.CampaignName"/>), read by one query per <see cref="MaxPageSize"/> entries through
    /// a second session of the same store (a connection of its own: the session's is busy with the entries).
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="query"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A negative <paramref name="limit"/>, or an inverted time range.</exception>
    public static IAsyncEnumerable<CancellationAuditEntry> StreamCancellationAudit(this IQuerySession session, CancellationAuditQuery query, int limit,
        CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        return WithCampaignNames(session, NewestFirst(AuditEntries(session, query)).Take(limit).ToAsyncEnumerable(ct), ct);
    }

    private static async IAsyncEnumerable<CancellationAuditEntry> WithCampaignNames(IQuerySession session,
        IAsyncEnumerable<CancellationAuditEntry> entries, [EnumeratorCancellation] CancellationToken ct)
    {
        await using var names = session.DocumentStore.QuerySession(session.TenantId);
        await foreach (var chunk in entries.Chunk(MaxPageSize).WithCancellation(ct))
            foreach (var entry in await WithCampaignNamesAsync(names, chunk, ct))
                yield return entry;
    }

    /// <summary>
    /// The entries with their campaigns' names from the Campaigns list, by one statement whatever their number. Matched
    /// by tenant and id, as an operator's page (<see cref="CancellationAuditQuery.AllTenants"/>) spans tenants.
    /// </summary>
    private static async Task<IReadOnlyList<CancellationAuditEntry>> WithCampaignNamesAsync(IQuerySession session,
        IReadOnlyList<CancellationAuditEntry> entries, CancellationToken ct)
    {
        if (entries.Count == 0) return entries;
        var campaigns = entries.Select(x => (x.TenantId, x.CampaignId)).Distinct().ToList();
        var rows = await session.AdvancedSql.QueryAsync<CampaignNameRow>($"""
            select jsonb_build_object('TenantId', tenant_id, 'CampaignId', id, 'Name', data ->> 'Name')
            from {session.DocumentStore.Options.Schema.For<CampaignListItem>()}
            where (tenant_id, id) in (select * from unnest(?::text[], ?::uuid[]))
            """, ct, campaigns.Select(x => x.TenantId).ToArray(), campaigns.Select(x => x.CampaignId).ToArray());
        var names = rows.ToDictionary(x => (x.TenantId, x.CampaignId), x => x.Name);
        return [.. entries.Select(x => x with { CampaignName = names.GetValueOrDefault((x.TenantId, x.CampaignId)) })];
    }

    /// <summary>
    /// One row of the names query. No member is called <c>Id</c>: Marten takes a type with an id for a document and creates a
    /// table for it on first use, so reading the audit changed the schema that was applied ahead (<c>db-apply</c>).
    /// </summary>
    private sealed record CampaignNameRow(string TenantId, Guid CampaignId, string Name);

    private static IQueryable<CancellationAuditEntry> AuditEntries(IQuerySession session, CancellationAuditQuery query)
    {
        CheckRange(query.From, query.To);
        CheckText(query.ActorId, nameof(query.ActorId));
        var q = session.Query<CancellationAuditEntry>().AsQueryable();
        if (query.AllTenants) q = q.Where(x => x.AnyTenant());
        if (query.CampaignId is { } campaign) q = q.Where(x => x.CampaignId == campaign);
        // An actor id is an e-mail or a key name, which people write in any case: the whole id, matched ignoring case
        // (lower(ActorId) in SQL, the expression the index is built on).
        if (!string.IsNullOrWhiteSpace(query.ActorId))
        {
            var actor = query.ActorId.ToLowerInvariant();
            q = q.Where(x => x.ActorId.ToLowerInvariant() == actor);
        }
        if (query.Channel is { } channel) q = q.Where(x => x.Channel == channel);
        if (query.From is { } from) q = q.Where(x => x.RequestedAt >= from);
        if (query.To is { } to) q = q.Where(x => x.RequestedAt < to);
        return q;
    }

    private static IQueryable<CancellationAuditEntry> NewestFirst(IQueryable<CancellationAuditEntry> entries) =>
        entries.OrderByDescending(x => x.RequestedAt).ThenBy(x => x.Id);

    /// <summary>
    /// The page and the total as two statements. Marten's <c>Stats()</c> counts with <c>count(*) over ()</c>, which sorts
    /// every matching row and carries its document to the window (for 100,000 campaigns in a tenant, every page read
    /// them all); a plain count reads no document, and the page stops at its own rows. Each sees the rows committed when
    /// it starts, so the total is made to agree with the page it comes with: a campaign committed between the two (an
    /// audit saw one item with a total of 0) is counted, and a page that ends the list says where the list ends.
    /// </summary>
    private static async Task<Page<T>> PageAsync<T>(IQueryable<T> filtered, IQueryable<T> ordered, int pageNumber, int pageSize, CancellationToken ct)
        where T : notnull
    {
        var counted = await filtered.LongCountAsync(ct);
        var items = await ordered.Skip((pageNumber - 1) * pageSize).Take(pageSize).ToListAsync(ct);
        return new Page<T>(items, TotalWithPage(counted, items.Count, pageNumber, pageSize), pageNumber, pageSize);
    }

    /// <summary>
    /// The total a page is shown with: at least the rows up to the end of the page, and exactly that when the page is
    /// short (the last one), whatever the count taken a moment before said. An empty page past the first says nothing.
    /// </summary>
    internal static long TotalWithPage(long counted, int onPage, int pageNumber, int pageSize)
    {
        if (onPage == 0) return pageNumber == 1 ? 0 : counted;
        var upToPage = (long)(pageNumber - 1) * pageSize + onPage;
        return onPage < pageSize ? upToPage : Math.Max(counted, upToPage);
    }

    private static void CheckPaging(int pageNumber, int pageSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pageNumber, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(pageSize, MaxPageSize);
        // The offset is an int in SQL: a page beyond it is a bad request, not an overflow.
        if ((long)(pageNumber - 1) * pageSize > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(pageNumber), string.Create(CultureInfo.InvariantCulture,
                $"Page {pageNumber} of {pageSize} starts past the {int.MaxValue:N0} rows a query can skip."));
    }

    /// <summary><paramref name="text"/> as itself in a LIKE pattern (a backslash, LIKE's escape, before each %, _ and backslash).</summary>
    private static string LikeEscaped(string text) =>
        text.Replace(@"\", @"\\", StringComparison.Ordinal).Replace("%", @"\%", StringComparison.Ordinal).Replace("_", @"\_", StringComparison.Ordinal);

    /// <summary>PostgreSQL text cannot hold a NUL character: a filter with one is bad input, not a query to run.</summary>
    private static void CheckText(string? text, string name)
    {
        if (text is not null && (text.Contains('\0') || CampaignLimits.LengthOf(text) > 1_000))
            throw new ArgumentOutOfRangeException(name, "A text filter must be at most 1,000 characters and contain no NUL character.");
    }

    private static void CheckRange(DateTimeOffset? from, DateTimeOffset? to)
    {
        if (from > to) throw new ArgumentOutOfRangeException(nameof(from), from, "The start of the range is after its end.");
    }
}
