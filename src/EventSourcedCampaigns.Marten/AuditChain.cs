using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using JasperFx.Events;
using Marten;
using Marten.Services.BatchQuerying;
using Npgsql;

namespace EventSourcedCampaigns.Marten;

/// <summary>
/// The head of a tenant's cancellation audit chain: the position and hash of its last audit event. One document per
/// tenant (id: the tenant id), updated in the transaction that appends the event, under the tenant's audit lock.
/// </summary>
public sealed record AuditChainHead
{
    /// <summary>The tenant id.</summary>
    public string Id { get; init; } = "";
    /// <summary>Audit events chained so far (the last one's position).</summary>
    public long Position { get; init; }
    /// <summary>The last audit event's hash; <see cref="AuditChain.Genesis"/> before the first.</summary>
    public string Hash { get; init; } = AuditChain.Genesis;
    /// <summary>The campaign of the last audit event.</summary>
    public Guid LastCampaignId { get; init; }
}

/// <summary>Where a tenant's audit chain first breaks.</summary>
/// <param name="Sequence">The event's global sequence (mt_events.seq_id); 0 when the break is a missing tail.</param>
/// <param name="EventId">The event's id (mt_events.id).</param>
/// <param name="CampaignId">The campaign the audit event is about.</param>
/// <param name="Position">The chain position at which the break shows.</param>
/// <param name="Reason">What does not match, in words.</param>
public sealed record AuditChainBreak(long Sequence, Guid EventId, Guid CampaignId, long Position, string Reason);

/// <summary>
/// A position and hash of a tenant's audit chain copied earlier to storage the database's writers cannot change (the
/// head of an earlier verification): a chain that no longer holds <see cref="Hash"/> at <see cref="Position"/> was
/// rewritten, cut or restored from before it.
/// </summary>
/// <param name="Position">The chain position, 1 or more.</param>
/// <param name="Hash">The hash at that position: 64 lower-case hex digits.</param>
public sealed record AuditChainAnchor(long Position, string Hash)
{
    /// <summary>Why this anchor cannot be checked (a position below 1, a hash that is not 64 hex digits), or null.</summary>
    public string? Problem() =>
        Position < 1 ? $"The anchor's position must be 1 or more, not {Position}."
        : Hash is not { Length: 64 } || !Hash.All(char.IsAsciiHexDigitLower)
            ? "The anchor's hash must be 64 lower-case hex digits, as a verification's headHash is."
            : null;
}

/// <summary>The result of recomputing a tenant's audit chain from the stored events.</summary>
/// <param name="TenantId">The tenant.</param>
/// <param name="Intact">True when every link and every hash matches, and the last event is the recorded head.</param>
/// <param name="Entries">Audit events that carry a chain link.</param>
/// <param name="Unchained">Audit events stored before the chain existed (before the first linked one); not covered.</param>
/// <param name="HeadPosition">The head document's position (0 when there is none).</param>
/// <param name="HeadHash">The head document's hash: anchor it elsewhere to detect a rewrite of the whole chain.</param>
/// <param name="FirstBreak">Where the chain first breaks, or null.</param>
public sealed record AuditChainVerification(
    string TenantId, bool Intact, long Entries, long Unchained, long HeadPosition, string HeadHash, AuditChainBreak? FirstBreak);

/// <summary>
/// The per-tenant hash chain of the cancellation audit (see docs/security.md, "Audit integrity"). Every audit event
/// (<see cref="ICancelAuditEvent"/>) carries an <see cref="AuditLink"/>: its position in the tenant's chain, the hash of
/// the previous audit event and its own hash, SHA-256 over <see cref="Canonical"/>. Appends serialize per tenant on a
/// transaction-scoped advisory lock, so concurrent cancels of different campaigns cannot fork the chain.
/// </summary>
public static class AuditChain
{
    /// <summary>The "previous hash" of a tenant's first audit event.</summary>
    public static readonly string Genesis = new('0', 64);

    /// <summary>First line of the hash input; a new format gets a new version.</summary>
    public const string FormatVersion = "campaigns-audit-v1";

    /// <summary>Advisory lock class id of the audit chain ("CAMA"); the object id is a hash of schema and tenant.</summary>
    public const int LockClassId = 0x43414D41;

    /// <summary>The stored names of the chained event types: the cancel attempts, then the outcomes of accepted ones.</summary>
    public static IReadOnlyList<string> EventTypeNames { get; } = [.. TypesByName().Keys];

    /// <summary>The stored names of the outcome events (chained since version 1.6 of the contract; unchained before).</summary>
    private static readonly HashSet<string> OutcomeTypeNames = [CampaignEvents.StoredName(typeof(Cancelled)), CampaignEvents.StoredName(typeof(CancelledDuringSend))];

    private static readonly Dictionary<string, Type> TypesByStoredName = TypesByName();

    private static Dictionary<string, Type> TypesByName() =>
        new Type[] { typeof(CancelRequested), typeof(CancelRepeated), typeof(CancelRejected), typeof(Cancelled), typeof(CancelledDuringSend) }
            .ToDictionary(CampaignEvents.StoredName);

    /// <summary>
    /// The stream that keeps a tenant's audit events that have no campaign stream (a cancel of an unknown campaign):
    /// a name-based id derived from the tenant, never a campaign's.
    /// </summary>
    public static Guid TenantAuditStreamId(string tenantId)
    {
        var bytes = SHA256.HashData(Encoding.UTF8.GetBytes("campaigns-audit-stream:" + tenantId)).AsSpan(0, 16).ToArray();
        bytes[7] = (byte)((bytes[7] & 0x0F) | 0x50); // version 5-style (name based), in Guid's little-endian layout
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80); // RFC 4122 variant
        return new Guid(bytes);
    }

    /// <summary>
    /// The hash input of a chained event: UTF-8 lines "name:value" joined by "\n", in this order: the format version,
    /// tenant, stored event type, campaign, position, previous hash, then the event's own fields: for an attempt, actor id
    /// and channel, reason code and text, status at request, then per type delivered/failed before and batches in flight,
    /// or rejection code and message, then the time; for an outcome, its counts and times (docs/security.md). Text is a
    /// JSON string literal (or null), enums their names, times UTC with 7 decimals, durations in ticks, numbers invariant.
    /// The stored JSON is not hashed: PostgreSQL's jsonb reorders it.
    /// </summary>
    public static string Canonical(string tenantId, IAuditChainedEvent e, long position, string previousHash)
    {
        var lines = new List<string>
        {
            FormatVersion,
            "tenant:" + Text(tenantId),
            "type:" + CampaignEvents.StoredName(e.GetType()),
            "campaign:" + e.CampaignId.ToString("D"),
            "position:" + position.ToString(CultureInfo.InvariantCulture),
            "previous:" + previousHash,
        };
        if (e is ICancelAuditEvent attempt)
            lines.AddRange(["actor_id:" + Text(attempt.RequestedBy?.Id), "actor_channel:" + (attempt.RequestedBy is { } a ? a.Channel.ToString() : "null")]);
        switch (e)
        {
            case CancelRequested x:
                lines.AddRange([.. Reason(x.Reason), "status:" + x.StatusAtRequest, "delivered_before:" + Number(x.DeliveredBefore),
                    "failed_before:" + Number(x.FailedBefore), "batches_in_flight:" + Number(x.BatchesInFlight), "at:" + Time(x.RequestedAt)]);
                break;
            case CancelRepeated x:
                lines.AddRange([.. Reason(x.Reason), "status:" + x.StatusAtRequest, "at:" + Time(x.RepeatedAt)]);
                break;
            case CancelRejected x:
                lines.AddRange([.. Reason(x.Reason), "status:" + (x.StatusAtRequest?.ToString() ?? "null"), "code:" + x.Code,
                    "message:" + Text(x.Message), "at:" + Time(x.RejectedAt)]);
                break;
            case Cancelled x:
                lines.AddRange(["not_sent:" + (x.NotSent is { } n ? Number(n) : "null"), "requested_at:" + Time(x.RequestedAt), "cancelled_at:" + Time(x.CancelledAt)]);
                break;
            case CancelledDuringSend x:
                lines.AddRange(["delivered_before_request:" + Number(x.DeliveredBeforeRequest), "delivered_after_request:" + Number(x.DeliveredAfterRequest),
                    "failed:" + Number(x.Failed), "not_sent:" + Number(x.NotSent), "requested_at:" + Time(x.RequestedAt),
                    "cancelled_at:" + Time(x.CancelledAt), "time_to_stop:" + Number(x.TimeToStop.Ticks)]);
                break;
            default:
                throw new ArgumentException($"{e.GetType().Name} has no canonical audit form.", nameof(e));
        }
        return string.Join('\n', lines);

        static string[] Reason(CancelReason? r) =>
            ["reason_code:" + (r is null ? "null" : r.Code.ToString()), "reason_text:" + Text(r?.Text)];
        static string Text(string? s) => s is null ? "null" : JsonSerializer.Serialize(s);
        static string Number(long n) => n.ToString(CultureInfo.InvariantCulture);
        static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);
    }

    /// <summary>SHA-256 of <see cref="Canonical"/>, lower-case hex.</summary>
    public static string HashOf(string tenantId, IAuditChainedEvent e, long position, string previousHash) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Canonical(tenantId, e, position, previousHash))));

    /// <summary>
    /// Chain the audit events among <paramref name="events"/> for the session's tenant: take the tenant's audit lock
    /// (transaction-scoped: held until the session commits or rolls back), read the head, stamp each audit event with
    /// its <see cref="AuditLink"/> and store the new head. Returns the events with the audit ones replaced; without
    /// audit events, touches nothing.
    /// </summary>
    public static async Task<IReadOnlyList<ICampaignEvent>> LinkAsync(IDocumentSession session, IReadOnlyList<ICampaignEvent> events, CancellationToken ct = default)
    {
        if (!events.Any(e => e is IAuditChainedEvent)) return events;
        await session.Database.EnsureStorageExistsAsync(typeof(AuditChainHead), ct);
        await session.BeginTransactionAsync(ct);
        var batch = session.CreateBatchQuery();
        var head = LockAndReadHead(batch, session);
        await batch.Execute(ct);
        return (await head).Link(events);
    }

    /// <summary>
    /// A cancel's one round trip before it decides: the campaign's stream row lock and write model (as
    /// <c>FetchForExclusiveWriting</c> reads them), then the tenant's audit lock and the head of its chain, in the order
    /// every writer takes the two locks (the other order deadlocks), one statement after the other so that each reads
    /// what the holder before it committed. Under a send a cancel's round trips each queue for the cores behind the
    /// lanes' steps, and this one was two (docs/benchmarks.md, twentieth pass).
    /// </summary>
    public static async Task<(IEventStream<CampaignState> Campaign, LockedAuditChain Audit)> FetchForCancelAsync(this IDocumentSession session,
        Guid campaignId, CancellationToken ct = default)
    {
        await session.Database.EnsureStorageExistsAsync(typeof(AuditChainHead), ct);
        await session.BeginTransactionAsync(ct);
        var batch = session.CreateBatchQuery();
        var campaign = batch.Events.FetchForExclusiveWriting<CampaignState>(campaignId);
        var head = LockAndReadHead(batch, session);
        await batch.Execute(ct);
        return (await campaign, await head);
    }

    /// <summary>
    /// Queue the tenant's audit lock, then the read of its head, after what <paramref name="batch"/> already holds. Two
    /// statements: each takes its own snapshot, so the head is read after the lock is granted, as the previous holder
    /// committed it. The lock is held by every writer of the tenant's audit until it commits.
    /// </summary>
    private static async Task<LockedAuditChain> LockAndReadHead(IBatchedQuery batch, IDocumentSession session)
    {
        // A void function in FROM gives one row, once the lock is granted.
        var locked = batch.Query<string>("select 'locked' from pg_advisory_xact_lock(?, hashtext(?))", LockClassId,
            session.DocumentStore.Options.Events.DatabaseSchemaName + "/" + session.TenantId);
        var head = batch.Query<string>($"select data::text from {session.DocumentStore.Options.Schema.For<AuditChainHead>()} where tenant_id = ? and id = tenant_id",
            session.TenantId);
        await locked;
        return new LockedAuditChain(session, (await head).SingleOrDefault());
    }

    /// <summary>The head of the session's tenant's audit chain, read under the tenant's audit lock, which the session's transaction holds.</summary>
    public sealed class LockedAuditChain
    {
        private readonly IDocumentSession _session;
        private AuditChainHead _head;

        internal LockedAuditChain(IDocumentSession session, string? json)
        {
            _session = session;
            _head = json is null ? new AuditChainHead { Id = session.TenantId }
                : session.DocumentStore.Options.Serializer().FromJson<AuditChainHead>(new MemoryStream(Encoding.UTF8.GetBytes(json)));
        }

        /// <summary>
        /// Stamp each audit event among <paramref name="events"/> with its <see cref="AuditLink"/>, next in the chain, and
        /// store the new head. Returns the events with the audit ones replaced; without audit events, touches nothing.
        /// </summary>
        public IReadOnlyList<ICampaignEvent> Link(IReadOnlyList<ICampaignEvent> events)
        {
            if (!events.Any(e => e is IAuditChainedEvent)) return events;
            var linked = new List<ICampaignEvent>(events.Count);
            foreach (var e in events)
            {
                if (e is not IAuditChainedEvent audit) { linked.Add(e); continue; }
                var position = _head.Position + 1;
                var hash = HashOf(_session.TenantId, audit, position, _head.Hash);
                linked.Add(audit.WithAudit(new AuditLink(position, _head.Hash, hash)));
                _head = _head with { Position = position, Hash = hash, LastCampaignId = audit.CampaignId };
            }
            _session.Store(_head);
            return linked;
        }
    }

    /// <summary>
    /// Recompute <paramref name="tenantId"/>'s audit chain from the stored events (in append order): each event's
    /// position follows the previous one, its previous hash is the previous event's hash, its own hash is the hash of
    /// its stored content, and the last one is the head document. Reports the first break.
    /// </summary>
    public static Task<AuditChainVerification> VerifyAuditChainAsync(this IDocumentStore store, string tenantId, CancellationToken ct = default) =>
        store.VerifyAuditChainAsync(tenantId, anchor: null, ct);

    /// <summary>
    /// <see cref="VerifyAuditChainAsync(IDocumentStore, string, CancellationToken)"/>, and the chain must also hold
    /// <paramref name="anchor"/>'s hash at its position (a head anchored earlier): otherwise it was rewritten, cut, or the
    /// database was restored from before the anchor, and that is its first break.
    /// </summary>
    public static async Task<AuditChainVerification> VerifyAuditChainAsync(this IDocumentStore store, string tenantId, AuditChainAnchor? anchor,
        CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(tenantId);
        if (anchor?.Problem() is { } problem) throw new ArgumentException(problem, nameof(anchor));
        await using var session = store.LightweightSession(tenantId);
        var head = await session.LoadAsync<AuditChainHead>(tenantId, ct);
        var serializer = store.Options.Serializer();
        var schema = store.Options.Events.DatabaseSchemaName;

        await store.Storage.Database.EnsureStorageExistsAsync(typeof(IEvent), ct); // a fresh database has no mt_events yet
        await session.BeginTransactionAsync(ct); // opens the session's connection
        await using var command = new NpgsqlCommand(
            $"select seq_id, id, stream_id, type, data::text, is_archived from {schema}.mt_events where tenant_id = @tenant and type = any(@types) order by seq_id",
            session.Connection);
        command.Parameters.AddWithValue("tenant", tenantId);
        command.Parameters.AddWithValue("types", EventTypeNames.ToArray());

        long entries = 0, unchained = 0, position = 0;
        var (previous, outcomesChained) = (Genesis, false);
        AuditChainBreak? broken = null;
        var missing = false; // the break is a position no stored event has: named after the audit entry that shows it
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (broken is null && await reader.ReadAsync(ct))
            {
                var (sequence, id, streamId, type, json, archived) =
                    (reader.GetInt64(0), reader.GetGuid(1), reader.GetGuid(2), reader.GetString(3), reader.GetString(4), reader.GetBoolean(5));
                AuditChainBreak Break(Guid campaign, long at, string why) => new(sequence, id, campaign, at, why);
                IAuditChainedEvent e;
                try
                {
                    using var stream = new MemoryStream(Encoding.UTF8.GetBytes(json));
                    // JSON null reads as no event at all: a break to report, not a NullReferenceException (a 500).
                    e = serializer.FromJson(TypesByStoredName[type], stream) as IAuditChainedEvent
                        ?? throw new JsonException("The stored data is null, not an event.");
                }
                catch (Exception ex) when (ex is JsonException or NotSupportedException or InvalidCastException or ArgumentException)
                {
                    broken = Break(streamId, position + 1, $"The stored event no longer reads as {type}: {ex.Message}");
                    break;
                }

                var isOutcome = OutcomeTypeNames.Contains(type);
                // Nothing archives campaign events: one archived was hidden on purpose, from the history and the read models
                // (Marten's readers skip it), while its content still hashed as stored.
                if (archived)
                {
                    broken = Break(e.CampaignId, e.Audit?.Position ?? position + 1,
                        "It is archived (mt_events.is_archived): the campaign's history and a rebuild of the read models skip it.");
                    break;
                }
                if (e.Audit is not { } link)
                {
                    // Stored before the chain existed, or an outcome stored before outcomes joined it.
                    if (entries == 0 || (isOutcome && !outcomesChained)) { unchained++; continue; }
                    broken = Break(e.CampaignId, position + 1, "An audit event after the start of the chain carries no chain link.");
                    break;
                }
                if (link.Position != position + 1)
                {
                    // Named at the position that is missing (or repeated), where the audit entry that shows it is.
                    broken = Break(e.CampaignId, position + 1, $"Expected position {position + 1}, the event says {link.Position}: an event was removed, added or renumbered.");
                    missing = link.Position > position + 1;
                }
                else if (link.PreviousHash != previous)
                    broken = Break(e.CampaignId, link.Position, $"Its previous hash {link.PreviousHash} is not the hash of the audit event before it ({previous}).");
                else if (HashOf(tenantId, e, link.Position, link.PreviousHash) is var actual && actual != link.Hash)
                    broken = Break(e.CampaignId, link.Position, $"Its stored content hashes to {actual}, not to the {link.Hash} recorded when it was appended: the event was edited.");
                // The audit reads an entry's campaign from the stream it is stored in, which the hash does not cover: an
                // event is where it was appended, in the campaign it names (an unknown campaign's refusal: the tenant's audit stream).
                else if (streamId != e.CampaignId && !(e is CancelRejected && streamId == TenantAuditStreamId(tenantId)))
                    broken = Break(e.CampaignId, link.Position, $"It is stored in stream {streamId}, not in the campaign it names: the event was moved.");
                else if (anchor is not null && link.Position == anchor.Position && link.Hash != anchor.Hash)
                    broken = Break(e.CampaignId, link.Position, $"Its hash is {link.Hash}, not the anchored {anchor.Hash}: the chain was rewritten " +
                                                                  "from here, or the database restored from before the anchor and the chain grown again.");
                else
                {
                    entries++;
                    position = link.Position;
                    previous = link.Hash;
                    outcomesChained |= isOutcome;
                }
            }
        }

        // A removed event (or one whose link was taken off) has no stored event at its position: its campaign is the one whose
        // audit entry shows that position, so the dashboard marks that entry and not the next event's.
        if (broken is { } gap && missing && await EntryAtAsync(session, gap.Position, ct) is { } shown)
            broken = gap with { CampaignId = shown };
        if (broken is null && head is not null && (head.Position != position || head.Hash != previous))
            broken = new AuditChainBreak(0, Guid.Empty, head.LastCampaignId, head.Position,
                $"The chain head is at position {head.Position} ({head.Hash}), the stored events end at {position} ({previous}): audit events were removed or the head was changed.");
        if (broken is null && head is null && entries > 0)
            broken = new AuditChainBreak(0, Guid.Empty, Guid.Empty, position, "The tenant has chained audit events but no chain head.");
        if (broken is null && anchor is not null && position < anchor.Position)
            broken = new AuditChainBreak(0, Guid.Empty, Guid.Empty, anchor.Position, // no event is there, and no campaign to blame
                $"The chain ends at position {position}, before the anchored position {anchor.Position}: audit events were removed, " +
                "or the database was restored from before the anchor.");

        return new AuditChainVerification(tenantId, broken is null, entries, unchained, head?.Position ?? 0, head?.Hash ?? Genesis, broken);
    }

    private static async Task<Guid?> EntryAtAsync(IQuerySession session, long position, CancellationToken ct) =>
        (await session.Query<ReadModels.CancellationAuditEntry>()
            .Where(e => e.ChainPosition == position || e.OutcomeChainPosition == position)
            .Select(e => e.CampaignId).ToListAsync(ct)).Cast<Guid?>().FirstOrDefault();

    /// <summary>Every tenant with audit events or a chain head, for verifying them all.</summary>
    public static async Task<IReadOnlyList<string>> AuditTenantsAsync(this IDocumentStore store, CancellationToken ct = default)
    {
        await using var session = store.LightweightSession();
        var schema = store.Options.Events.DatabaseSchemaName;
        await store.Storage.Database.EnsureStorageExistsAsync(typeof(IEvent), ct);
        await store.Storage.Database.EnsureStorageExistsAsync(typeof(AuditChainHead), ct);
        await session.BeginTransactionAsync(ct);
        await using var command = new NpgsqlCommand(
            $"select distinct tenant_id from {schema}.mt_events where type = any(@types) union select distinct tenant_id from {store.Options.Schema.For<AuditChainHead>(qualified: true)} order by 1",
            session.Connection);
        command.Parameters.AddWithValue("types", EventTypeNames.ToArray());
        var tenants = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) tenants.Add(reader.GetString(0));
        return tenants;
    }
}
