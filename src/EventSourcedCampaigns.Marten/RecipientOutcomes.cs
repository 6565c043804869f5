using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using EventSourcedCampaigns.Ports;
using Marten;
using Npgsql;
using Weasel.Core;
using Weasel.Core.Migrations;
using Weasel.Postgresql;
using Weasel.Postgresql.Tables;

namespace EventSourcedCampaigns.Marten;

/// <summary>What became of one recipient of a campaign.</summary>
public enum RecipientOutcome
{
    /// <summary>The provider accepted the message for this recipient.</summary>
    Delivered,
    /// <summary>The provider refused this recipient (a bad address...) or the whole batch failed; the reason says which.</summary>
    Failed,
    /// <summary>Never handed to the provider: the campaign was cancelled before this recipient's batch was sent (or, when an
    /// earlier attempt got part of the batch through, before the rest of it was tried again).</summary>
    NotSent,
    /// <summary>The provider took the batch but reported fewer refusals by name than it counted: this recipient may or may not have got it.</summary>
    Unknown,
}

/// <summary>One recipient's outcome in one campaign.</summary>
/// <param name="CampaignId">The campaign.</param>
/// <param name="RecipientId">The recipient's id in the contact base.</param>
/// <param name="Outcome">What became of the message to this recipient.</param>
/// <param name="BatchNumber">The batch the recipient was in.</param>
/// <param name="Variant">The A/B variant the recipient was to get.</param>
/// <param name="RecordedAt">When the batch's outcome was recorded.</param>
/// <param name="Reason">The provider's refusal reason, or why the whole batch failed; null when delivered or not sent.</param>
public sealed record RecipientResult(Guid CampaignId, string RecipientId, RecipientOutcome Outcome, string? Reason,
    int BatchNumber, string Variant, DateTimeOffset RecordedAt);

/// <summary>A batch's recorded outcome in counts (<see cref="RecipientOutcomes.LoadRecordedBatchOutcomesAsync"/>).</summary>
public sealed record RecordedBatchOutcome(int BatchNumber, int Recipients, int Delivered, int Failed, int NotSent, int Unknown, string? Error);

/// <summary>Page through a campaign's recipients, optionally of one outcome (in batch order).</summary>
public sealed record RecipientOutcomeQuery(Guid CampaignId, RecipientOutcome? Outcome = null, int PageNumber = 1, int PageSize = 50);

/// <summary>
/// Who received a campaign: one row per recorded batch in table <c>cmp_recipient_outcomes</c>, written by the send
/// pipeline's dispatch step with the provider's answer (delivered, failed, released: <see cref="RecordBatchOutcome"/>), or
/// with the batch's event from its <see cref="CampaignBatch"/> document, and for every batch never claimed once the
/// campaign has finished (<see cref="RecordNotSentRemainder"/>), before those documents are deleted. A row holds the
/// batch's recipient ids (<c>text[]</c>), one outcome code per recipient (<c>codes</c>: D, F, N, U), the refusal reasons
/// (sparse <c>text[]</c>), the whole batch's error, and, for not-sent recipients only, their address and name (what a
/// clone for the remainder sends to). A GIN index on the ids answers "did X get Y" and the erase of a recipient.
/// Not event-derived: the events count recipients, they do not name them (10,000,000 names would not belong in a
/// stream), so this table cannot be rebuilt from the events; it is written once per batch and never updated except by
/// <see cref="EraseRecipientAsync"/>.
/// </summary>
public static class RecipientOutcomes
{
    /// <summary>The table's name (in the store's schema).</summary>
    public const string TableName = "cmp_recipient_outcomes";

    private static string Table(IQuerySession session)
    {
        // Created on first use where the store creates its schema objects itself (AutoCreate); a cached check after that.
        session.Database.EnsureStorageExists(typeof(Storage));
        return $"{session.DocumentStore.Options.DatabaseSchemaName}.{TableName}";
    }

    private static string OutcomeName(string code) =>
        $"case {code} when 'D' then 'Delivered' when 'F' then 'Failed' when 'N' then 'NotSent' else 'Unknown' end";

    /// <summary>
    /// A row's recipients, one per line (<c>x.id</c>, <c>x.code</c>, <c>x.reason</c>, <c>x.address</c>, <c>x.name</c>,
    /// <c>x.o</c> the place in the batch), each array read once. Subscripting them per recipient (<c>t.recipient_ids[x.o]</c>,
    /// <c>substr(t.codes, x.o, 1)</c>) decompressed the whole stored array for every recipient: a batch of 50,000 took
    /// minutes, past the command timeout, and a clone for its remainder never prepared (an audit at scale).
    /// </summary>
    private const string Unnested =
        "cross join lateral unnest(t.recipient_ids, string_to_array(t.codes, null), t.reasons, t.addresses, t.names) with ordinality as x(id, code, reason, address, name, o)";

    private static string Code(RecipientOutcome outcome) => outcome switch
    {
        RecipientOutcome.Delivered => "D", RecipientOutcome.Failed => "F", RecipientOutcome.NotSent => "N", _ => "U",
    };

    // ---- writing ----

    /// <summary>
    /// Record the recipients' outcomes that <paramref name="events"/> settle, in the session's transaction: a delivered
    /// batch (its recipients delivered, except the <paramref name="refusals"/>, which failed with their reason, and the
    /// <paramref name="notSent"/> ones, never handed over: its <see cref="BatchDelivered.NotSent"/> part; when the
    /// provider counted more failures than it named, the others are <see cref="RecipientOutcome.Unknown"/>), a failed
    /// batch (all failed with its error), a released batch (all not sent). The events that finish a send settle the
    /// batches never sent with <see cref="RecordNotSentRemainder"/>. Reads the batches' <see cref="CampaignBatch"/>
    /// documents in the database: queue it before they are deleted. A batch is recorded once; recording it again does nothing.
    /// </summary>
    public static void RecordRecipientOutcomes(this IDocumentSession session, Guid campaignId, IEnumerable<ICampaignEvent> events,
        IReadOnlyList<RecipientRefusal>? refusals = null, IReadOnlyCollection<string>? notSent = null)
    {
        foreach (var e in events)
        {
            switch (e)
            {
                case BatchDelivered d:
                    Insert(session, campaignId, d.BatchNumber, DeliveredCode(d.Failed, refusals ?? []), Exceptions(refusals ?? [], notSent ?? []),
                        null, d.DeliveredAt);
                    break;
                case BatchFailed f:
                    Insert(session, campaignId, f.BatchNumber, "F", [], f.Error, f.FailedAt);
                    break;
                case BatchReleased r:
                    Insert(session, campaignId, r.BatchNumber, "N", [], null, r.ReleasedAt);
                    break;
            }
        }
    }

    /// <summary>
    /// Record the outcome of one batch from its loaded recipients, before its event is recorded: the send pipeline does
    /// this in its dispatch step, in the transaction that passes the provider's answer on, outside the campaign's stream
    /// lock. <paramref name="outcome"/>: <see cref="RecipientOutcome.Delivered"/> (except the <paramref name="refusals"/>,
    /// failed, and the <paramref name="notSent"/> recipients, never handed over because a cancel released them, with their
    /// addresses; <see cref="RecipientOutcome.Unknown"/> when the provider counted more failures than it named),
    /// <see cref="RecipientOutcome.Failed"/> (all, with <paramref name="error"/>) or <see cref="RecipientOutcome.NotSent"/>
    /// (all, with their addresses). One row, its arrays built here: the database neither re-reads nor expands the batch's
    /// JSON. Recording a batch again does nothing.
    /// </summary>
    public static void RecordBatchOutcome(this IDocumentSession session, CampaignBatch batch, RecipientOutcome outcome, int failed,
        IReadOnlyList<RecipientRefusal> refusals, string? error, DateTimeOffset at, IReadOnlyCollection<string>? notSent = null)
    {
        var (sql, values) = BatchOutcomeRow(session, batch, outcome, failed, refusals, notSent ?? [], error, at);
        session.QueueSqlCommand(sql, values);
    }

    /// <summary>
    /// <see cref="RecordBatchOutcome"/> written at once, in a transaction of its own: one statement, one round trip (the
    /// send pipeline's dispatch step writes every batch's row this way, before it passes the provider's answer on).
    /// </summary>
    public static async Task WriteBatchOutcomeAsync(this IQuerySession session, CampaignBatch batch, RecipientOutcome outcome, int failed,
        IReadOnlyList<RecipientRefusal> refusals, string? error, DateTimeOffset at, IReadOnlyCollection<string>? notSent = null,
        CancellationToken ct = default)
    {
        var (sql, values) = BatchOutcomeRow(session, batch, outcome, failed, refusals, notSent ?? [], error, at);
        await using var connection = session.Database.CreateConnection();
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand(Positional(sql), connection);
        foreach (var value in values) command.Parameters.Add(new NpgsqlParameter { Value = value });
        await command.ExecuteNonQueryAsync(ct);
    }

    // Marten's `?` placeholders as Npgsql's positional $1, $2... (the statement has no other question mark).
    private static string Positional(string sql)
    {
        var (text, n) = (new StringBuilder(sql.Length + 16), 0);
        foreach (var c in sql)
            if (c == '?') text.Append('$').Append(++n);
            else text.Append(c);
        return text.ToString();
    }

    private static (string Sql, object[] Values) BatchOutcomeRow(IQuerySession session, CampaignBatch batch, RecipientOutcome outcome, int failed,
        IReadOnlyList<RecipientRefusal> refusals, IReadOnlyCollection<string> notSent, string? error, DateTimeOffset at)
    {
        var code = outcome switch
        {
            // The erased recipients are among the failed, and named by none of the refusals.
            RecipientOutcome.Delivered => DeliveredCode(failed - batch.Recipients.Count(CampaignBatch.IsErased), refusals),
            RecipientOutcome.Failed or RecipientOutcome.NotSent => Code(outcome),
            _ => throw new ArgumentOutOfRangeException(nameof(outcome), outcome, "A batch is delivered, failed or not sent."),
        };
        var exceptions = new Dictionary<string, (char Code, string? Reason)>();
        if (outcome is RecipientOutcome.Delivered)
            foreach (var e in Exceptions(refusals, notSent)) exceptions.TryAdd(e.Id, (e.Code, e.Reason));
        var recipients = batch.Recipients;
        var (ids, codes, reasons) = (new string?[recipients.Length], new char[recipients.Length], new string?[recipients.Length]);
        for (var i = 0; i < recipients.Length; i++)
        {
            // Erased before the batch was sent: never handed over, so failed (or not sent with a released batch), naming nobody.
            if (CampaignBatch.IsErased(recipients[i]))
                (codes[i], reasons[i]) = outcome is RecipientOutcome.NotSent ? ('N', null) : ('F', ErasedReason);
            else
                (ids[i], (codes[i], reasons[i])) = (recipients[i].Id, exceptions.TryGetValue(recipients[i].Id, out var exception) ? exception : (code[0], null));
        }
        // The address and name of each recipient not sent (the audience of a clone for the remainder), null for the others.
        string?[]? NotSentOnly(Func<Recipient, string?> value) =>
            codes.Contains('N') ? recipients.Select((r, i) => codes[i] == 'N' && ids[i] is not null ? value(r) : null).ToArray() : null;
        var (addresses, names) = (NotSentOnly(r => r.Address), NotSentOnly(r => r.Name));
        var (delivered, failedCount, notSentCount) = (codes.Count(c => c == 'D'), codes.Count(c => c == 'F'), codes.Count(c => c == 'N'));
        return ($"""
            insert into {Table(session)} (tenant_id, campaign_id, batch_number, variant, recorded_at, recipient_ids, codes, reasons, error,
                addresses, names, delivered, failed, not_sent)
            values (?, ?, ?, ?, ?, ?::text[], ?, ?::text[], ?, ?::text[], ?::text[], ?, ?, ?)
            on conflict (tenant_id, campaign_id, batch_number) do nothing
            """,
            [
                session.TenantId, batch.CampaignId, batch.BatchNumber, batch.Variant, at.ToUniversalTime(), ids, new string(codes),
                reasons.Any(r => r is not null) ? reasons : DBNull.Value, (object?)error ?? DBNull.Value,
                (object?)addresses ?? DBNull.Value, names is not null && names.Any(n => n is not null) ? names : DBNull.Value,
                delivered, failedCount, notSentCount,
            ]);
    }

    // Delivered, unless the provider counted failures without naming them all: then who failed is unknown.
    private static string DeliveredCode(int failed, IReadOnlyList<RecipientRefusal> refusals) =>
        failed == 0 || refusals.Select(r => r.RecipientId).Distinct().Count() == failed ? "D" : "U";

    /// <summary>The recipients of a delivered batch whose outcome is not the batch's: the refused (failed, with their
    /// reason) and those never handed over (not sent).</summary>
    private static (string Id, char Code, string? Reason)[] Exceptions(IReadOnlyList<RecipientRefusal> refusals, IReadOnlyCollection<string> notSent) =>
        [.. refusals.Select(r => (r.RecipientId, 'F', (string?)r.Reason)), .. notSent.Select(id => (id, 'N', (string?)null))];

    /// <summary>
    /// The outcomes already written for batches <paramref name="batchNumbers"/> of a campaign (by the dispatch step, with
    /// the provider's answer): per batch its size and how many recipients were delivered, failed, not sent or unknown,
    /// and the whole batch's error. A batch with no row has none yet. The reconciler reads this before it records a
    /// claim with no result as lost: a row means the provider answered and only the batch's record went missing.
    /// </summary>
    public static async Task<IReadOnlyList<RecordedBatchOutcome>> LoadRecordedBatchOutcomesAsync(this IQuerySession session, Guid campaignId,
        int[] batchNumbers, CancellationToken ct = default)
    {
        if (batchNumbers.Length == 0) return [];
        return await session.AdvancedSql.QueryAsync<RecordedBatchOutcome>($"""
            select jsonb_build_object('BatchNumber', batch_number, 'Recipients', length(codes),
                'Delivered', length(codes) - length(replace(codes, 'D', '')), 'Failed', length(codes) - length(replace(codes, 'F', '')),
                'NotSent', length(codes) - length(replace(codes, 'N', '')), 'Unknown', length(codes) - length(replace(codes, 'U', '')),
                'Error', error)
            from {Table(session)} where tenant_id = ? and campaign_id = ? and batch_number = any(?)
            """, ct, session.TenantId, campaignId, batchNumbers);
    }

    /// <summary>
    /// SQL that is true when batch <c>?</c> (the one parameter) of the campaign in columns <paramref name="tenantId"/> and
    /// <paramref name="campaignId"/> has its outcome row: the send gate reads it in its statement (<see cref="SendGate"/>).
    /// </summary>
    internal static string IsRecordedSql(IQuerySession session, string tenantId, string campaignId, string batchNumber = "?") =>
        $"exists (select 1 from {Table(session)} o where o.tenant_id = {tenantId} and o.campaign_id = {campaignId} and o.batch_number = {batchNumber})";

    /// <summary>
    /// Record every batch of a finished campaign that has no outcome yet as not sent (the batches never claimed, with the
    /// addresses they were to go to), and drop the tenant's expired outcomes. Reads the <see cref="CampaignBatch"/>
    /// documents: queue it before they are deleted, once every recorded batch's outcome is committed.
    /// </summary>
    public static void RecordNotSentRemainder(this IDocumentSession session, Guid campaignId, DateTimeOffset at) => Finish(session, campaignId, at);

    /// <summary>Every batch not recorded yet is not sent; and the tenant's expired outcomes go.</summary>
    private static void Finish(IDocumentSession session, Guid campaignId, DateTimeOffset at)
    {
        Insert(session, campaignId, null, "N", [], null, at);
        if (Retention.TryGetValue(session.DocumentStore.Options, out var retention) && retention.Value is { } keep)
            session.QueueSqlCommand($"delete from {Table(session)} where tenant_id = ? and recorded_at < ?", session.TenantId, (at - keep).ToUniversalTime());
    }

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<object, StrongBox<TimeSpan?>> Retention = new();

    private static void Insert(IDocumentSession session, Guid campaignId, int? batchNumber, string code,
        IReadOnlyList<(string Id, char Code, string? Reason)> exceptions, string? error, DateTimeOffset at)
    {
        var batches = session.DocumentStore.Options.Schema.For<CampaignBatch>();
        // A finish settles only the batches not recorded yet: skipping the recorded ones before expanding their
        // recipients keeps the finish of a fully sent campaign to an index probe per batch.
        // The batch number is read from the document id ({campaign}/{batch}), not from its JSON: reading the JSON of every
        // batch already recorded would de-TOAST each 1,000-recipient document (seconds per finish, under the stream lock).
        // (Both forms take the same parameters: a batch ignores the campaign id, which is never null.)
        var which = batchNumber is { } n ? "d.id = ? and ? is not null"
            : $"CAST(d.data ->> 'CampaignId' as uuid) = ? and not exists (select 1 from {Table(session)} o " +
              "where o.tenant_id = d.tenant_id and o.campaign_id = ? and o.batch_number = split_part(d.id, '/', 2)::int)";
        object key = batchNumber is { } number ? CampaignBatch.IdFor(campaignId, number) : campaignId;
        // The batch documents are read once each (a materialized CTE): with d.data referenced per recipient row, PostgreSQL
        // de-TOASTed each batch's whole document again for every recipient (3 x 1,000 times a batch), and the finish of
        // a cancel during the scheduling of 300,000 recipients took minutes, holding the campaign's stream row.
        // Each batch's recipients are aggregated on their own (lateral): one sort of all the batches' recipients together
        // spilled to disk and made the finish of a cancelled campaign ~30% slower. (An empty batch writes no row, as before.)
        session.QueueSqlCommand($"""
            with d as materialized (
                select d.tenant_id, CAST(d.data ->> 'CampaignId' as uuid) as campaign_id, (d.data ->> 'BatchNumber')::int as batch_number,
                    d.data ->> 'Variant' as variant, d.data -> 'Recipients' as recipients
                from {batches} d
                where d.tenant_id = ? and {which}
                for share of d -- an erase of a recipient rewrites the batches: it goes first or waits, never between read and insert
            )
            insert into {Table(session)} (tenant_id, campaign_id, batch_number, variant, recorded_at, recipient_ids, codes, reasons, error,
                addresses, names, delivered, failed, not_sent)
            select d.tenant_id, d.campaign_id, d.batch_number, d.variant, ?, b.ids, b.codes, b.reasons, ?, b.addresses, b.names,
                b.delivered, b.failed, b.not_sent
            from d cross join lateral (
                select array_agg(r.rid order by r.o) as ids, string_agg(r.code, '' order by r.o) as codes,
                    case when count(r.reason) > 0 then array_agg(r.reason order by r.o) end as reasons,
                    case when bool_or(r.code = 'N') then array_agg(case when r.code = 'N' then r.address end order by r.o) end as addresses,
                    case when bool_or(r.code = 'N' and r.name is not null) then array_agg(case when r.code = 'N' then r.name end order by r.o) end as names,
                    count(*) filter (where r.code = 'D') as delivered, count(*) filter (where r.code = 'F') as failed,
                    count(*) filter (where r.code = 'N') as not_sent
                from (
                    select e.o, nullif(e.value ->> 'Id', '') as rid, nullif(e.value ->> 'Address', '') as address, e.value ->> 'Name' as name,
                        -- erased before the batch was sent (CampaignBatch.IsErased): failed, or not sent with the rest of a released batch
                        case when x.erased and p.code <> 'N' then ? else f.reason end as reason,
                        case when x.erased then case when p.code = 'N' then 'N' else 'F' end else coalesce(f.code, p.code) end as code
                    from jsonb_array_elements(d.recipients) with ordinality as e(value, o)
                    cross join lateral (select coalesce(e.value ->> 'Id', '') = '' as erased) x
                    cross join (select ?::text as code) p
                    left join unnest(?::text[], ?::text[], ?::text[]) as f(id, code, reason) on f.id = e.value ->> 'Id' and not x.erased
                ) r
            ) b
            where b.ids is not null
            on conflict (tenant_id, campaign_id, batch_number) do nothing
            """,
            session.TenantId, key, campaignId, at.ToUniversalTime(), (object?)error ?? DBNull.Value, ErasedReason, code,
            exceptions.Select(e => e.Id).ToArray(), exceptions.Select(e => e.Code.ToString()).ToArray(), exceptions.Select(e => e.Reason).ToArray());
    }

    /// <summary>Delete a campaign's recipient outcomes (its retention has passed).</summary>
    public static void ForgetRecipientOutcomes(this IDocumentSession session, Guid campaignId) =>
        session.QueueSqlCommand($"delete from {Table(session)} where tenant_id = ? and campaign_id = ?", session.TenantId, campaignId);

    /// <summary>
    /// Erase a recipient across the tenant's campaigns (a GDPR erasure): from the recorded recipient outcomes the id, the
    /// address, the name and the refusal reason are removed, and the counts stay (they name nobody); from the batches
    /// prepared and not sent yet (campaigns Scheduling, Scheduled, Paused, Sending) the recipient is taken out
    /// (<see cref="CampaignBatch.IsErased"/>): they are never handed to the provider, and count as failed with
    /// <see cref="ErasedReason"/>, naming nobody. Returns the number of campaigns the recipient was erased from. What it
    /// cannot stop: a batch whose provider call has begun, and audience pages that scheduling resolves after the erase
    /// (they come from the audience: remove the recipient there first).
    /// </summary>
    public static async Task<long> EraseRecipientAsync(this IDocumentStore store, string tenantId, string recipientId, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(tenantId);
        ArgumentException.ThrowIfNullOrEmpty(recipientId);
        await using var session = store.LightweightSession(tenantId);
        var (table, batches) = (Table(session), session.DocumentStore.Options.Schema.For<CampaignBatch>());
        // One transaction, the prepared batches first, each in place: their recipient keeps its position with an empty id and
        // address, so the batch keeps its size and its counts add up (a scan of the tenant's prepared batches: only they can
        // hold the recipient). A finished campaign's settle, which turns its prepared batches into outcome rows, share-locks
        // them: it waits for this erase and reads the erased batches, or it went first and this erase finds its rows below.
        await store.Storage.Database.EnsureStorageExistsAsync(typeof(CampaignBatch), ct); // a store that never prepared a batch
        await using var connection = session.Database.CreateConnection();
        await connection.OpenAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        async Task<List<Guid>> CampaignsOf(string sql, params object[] values)
        {
            await using var command = new NpgsqlCommand(Positional(sql), connection, transaction);
            foreach (var value in values) command.Parameters.Add(new NpgsqlParameter { Value = value });
            var campaigns = new List<Guid>();
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct)) campaigns.Add(reader.GetGuid(0));
            return campaigns;
        }
        var prepared = await CampaignsOf($"""
            update {batches} d set data = jsonb_set(d.data, array['Recipients'], (
                select jsonb_agg(case when e.value ->> 'Id' = ?::text then jsonb_build_object('Id', '', 'Address', '') else e.value end order by e.o)
                from jsonb_array_elements(d.data -> 'Recipients') with ordinality as e(value, o)))
            where d.tenant_id = ? and d.data -> 'Recipients' @> jsonb_build_array(jsonb_build_object('Id', ?::text))
            returning CAST(d.data ->> 'CampaignId' as uuid)
            """, recipientId, tenantId, recipientId);
        // Every place the recipient holds in a row (an audience may repeat an id), in one statement: its expressions read the row as it was.
        // Unnested once, as the reads are (a subscript per place decompressed the whole array each time).
        const string Others = "(select array_agg(case when u.id = ?::text then null else u.v end order by u.o) from unnest(t.recipient_ids, t.{0}) with ordinality u(id, v, o))";
        var recorded = await CampaignsOf($"""
            update {table} t set
                addresses = case when t.addresses is null then null else {string.Format(CultureInfo.InvariantCulture, Others, "addresses")} end,
                names = case when t.names is null then null else {string.Format(CultureInfo.InvariantCulture, Others, "names")} end,
                reasons = case when t.reasons is null then null else {string.Format(CultureInfo.InvariantCulture, Others, "reasons")} end,
                recipient_ids = array_replace(t.recipient_ids, ?::text, null)
            where t.tenant_id = ? and t.recipient_ids @> array[?::text]
            returning t.campaign_id
            """, recipientId, recipientId, recipientId, recipientId, tenantId, recipientId);
        await transaction.CommitAsync(ct);
        return prepared.Concat(recorded).Distinct().LongCount();
    }

    /// <summary>Why a recipient erased from a prepared batch was not sent to (its outcome, failed, names nobody).</summary>
    public const string ErasedReason = "Erased before the batch was sent.";

    // ---- reading ----

    /// <summary>Did recipient <paramref name="recipientId"/> get campaign <paramref name="campaignId"/>: its outcome, or null when the campaign has no such recipient recorded.</summary>
    public static async Task<RecipientResult?> LoadRecipientOutcomeAsync(this IQuerySession session, Guid campaignId, string recipientId,
        CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(recipientId);
        var rows = await session.AdvancedSql.QueryAsync<RecipientResult>($"""
            select {JsonAt} from {Table(session)} t cross join lateral (select array_position(t.recipient_ids, ?::text) as o) x
            where t.tenant_id = ? and t.campaign_id = ? and t.recipient_ids @> array[?::text]
            """, ct, recipientId, session.TenantId, campaignId, recipientId);
        return rows.FirstOrDefault();
    }

    private static string Json(string id, string code, string reason) =>
        $"jsonb_build_object('CampaignId', t.campaign_id, 'RecipientId', {id}, 'Outcome', {OutcomeName(code)}, " +
        $"'Reason', coalesce({reason}, case when {code} = 'F' then t.error end), 'BatchNumber', t.batch_number, 'Variant', t.variant, 'RecordedAt', t.recorded_at)";

    /// <summary>One recipient of a row, at its place <c>x.o</c>.</summary>
    private static readonly string JsonAt = Json("t.recipient_ids[x.o]", "substr(t.codes, x.o::int, 1)", "t.reasons[x.o]");

    /// <summary>Every recipient of a row, from <see cref="Unnested"/>.</summary>
    private static readonly string JsonUnnested = Json("x.id", "x.code", "x.reason");

    /// <summary>
    /// A page of a campaign's recipients and their outcomes, in batch order (for example the recipients not reached:
    /// <c>Outcome = NotSent</c>). <see cref="Page{T}.Total"/> counts the recorded recipients of that outcome, erased
    /// ones included (the page leaves those out).
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="query"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Page number or size out of range.</exception>
    public static async Task<Page<RecipientResult>> QueryRecipientOutcomesAsync(this IQuerySession session, RecipientOutcomeQuery query,
        CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfLessThan(query.PageNumber, 1, nameof(query.PageNumber));
        ArgumentOutOfRangeException.ThrowIfLessThan(query.PageSize, 1, nameof(query.PageSize));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(query.PageSize, CampaignQueries.MaxPageSize, nameof(query.PageSize));
        var offset = (long)(query.PageNumber - 1) * query.PageSize;
        var count = CountExpression(query.Outcome);
        var code = query.Outcome is { } o ? Code(o) : null;
        // The total first: outcomes are only ever added (a batch's when it is recorded, the never-sent ones when the
        // campaign settles), so a page read after its total holds every recipient the total counts. Read the other way
        // round, a settle committing in between gave a total of thousands over an empty page.
        var total = (await session.AdvancedSql.QueryAsync<long>(
            $"select coalesce(sum({count}), 0)::bigint from {Table(session)} t where tenant_id = ? and campaign_id = ?", ct, session.TenantId, query.CampaignId)).Single();
        // Skip whole batches by their counts, then unnest only from the batch the page starts in.
        var items = await session.AdvancedSql.QueryAsync<RecipientResult>($"""
            with counted as (
                select batch_number, n, coalesce(sum(n) over (order by batch_number rows between unbounded preceding and 1 preceding), 0) as before
                from (select batch_number, {count} as n from {Table(session)} t where tenant_id = ? and campaign_id = ?) c where n > 0),
            start as (select batch_number, before from counted where before + n > ? order by batch_number limit 1)
            select {JsonUnnested}
            from {Table(session)} t
            cross join start
            {Unnested}
            where t.tenant_id = ? and t.campaign_id = ? and t.batch_number >= start.batch_number
              and (?::text is null or x.code = ?::text)
            order by t.batch_number, x.o
            offset ? - (select before from start) limit ?
            """, ct, session.TenantId, query.CampaignId, offset, session.TenantId, query.CampaignId,
            (object?)code ?? DBNull.Value, (object?)code ?? DBNull.Value, offset, query.PageSize);
        return new Page<RecipientResult>(items.Where(i => i.RecipientId is not null).ToList(), total, query.PageNumber, query.PageSize);
    }

    private static string CountExpression(RecipientOutcome? outcome) => outcome switch
    {
        null => "cardinality(t.recipient_ids)",
        RecipientOutcome.Delivered => "t.delivered",
        RecipientOutcome.Failed => "t.failed",
        RecipientOutcome.NotSent => "t.not_sent",
        _ => "(cardinality(t.recipient_ids) - t.delivered - t.failed - t.not_sent)",
    };

    /// <summary>Every recorded recipient of a campaign (of one outcome, or all), in batch order, read <paramref name="batchesPerRead"/> batches at a time: for exports.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchesPerRead"/> is less than 1 (thrown when enumeration starts).</exception>
    public static async IAsyncEnumerable<RecipientResult> StreamRecipientOutcomesAsync(this IQuerySession session, Guid campaignId,
        RecipientOutcome? outcome = null, int batchesPerRead = 50, [EnumeratorCancellation] CancellationToken ct = default)
    {
        // Zero read nothing and ended the export as if it were complete.
        ArgumentOutOfRangeException.ThrowIfLessThan(batchesPerRead, 1);
        var code = outcome is { } o ? Code(o) : null;
        var after = 0;
        while (true)
        {
            var rows = await session.AdvancedSql.QueryAsync<RecipientResult>($"""
                select {JsonUnnested} from (select * from {Table(session)} where tenant_id = ? and campaign_id = ? and batch_number > ?
                    order by batch_number limit ?) t
                {Unnested}
                where (?::text is null or x.code = ?::text)
                order by t.batch_number, x.o
                """, ct, session.TenantId, campaignId, after, batchesPerRead, (object?)code ?? DBNull.Value, (object?)code ?? DBNull.Value);
            var last = (await session.AdvancedSql.QueryAsync<int>(
                $"select coalesce(max(batch_number), -1) from (select batch_number from {Table(session)} where tenant_id = ? and campaign_id = ? and batch_number > ? order by batch_number limit ?) b",
                ct, session.TenantId, campaignId, after, batchesPerRead)).Single();
            foreach (var row in rows)
                if (row.RecipientId is not null) yield return row;
            if (last < 0) yield break;
            after = last;
        }
    }

    /// <summary>
    /// A page of the recipients a campaign did not reach (<see cref="RecipientOutcome.NotSent"/>), with the address and name
    /// they were to be sent to: the audience of a clone for the remainder. The continuation is the position after the
    /// page (<c>batch:index</c>), stable, so a page read again gives the same recipients.
    /// </summary>
    public static async Task<AudiencePage> LoadNotSentPageAsync(this IQuerySession session, Guid campaignId, string? continuation, int pageSize,
        CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        var (batch, index) = (0, 0L);
        if (continuation is not null)
        {
            var parts = continuation.Split(':');
            if (parts is not [var b, var i] || !int.TryParse(b, CultureInfo.InvariantCulture, out batch) || !long.TryParse(i, CultureInfo.InvariantCulture, out index))
                throw new InvalidContinuationException(continuation);
        }
        // Only the batches that can hold the page are unnested: from the continuation's batch, while the not-sent counts
        // before each are under the page (plus that first batch's own count, some of which the continuation skips).
        // Unnesting every batch after the continuation and sorting them took 6-24 s a page at 1,100,000 recipients.
        var rows = (await session.AdvancedSql.QueryAsync<string>($"""
            select jsonb_build_object('Batch', t.batch_number, 'Index', x.o, 'Id', x.id, 'Address', x.address, 'Name', x.name)::text
            from {Table(session)} t
            {Unnested}
            where t.tenant_id = ? and t.campaign_id = ? and (t.batch_number, x.o) > (?, ?)
              and t.batch_number in (
                select w.batch_number from (
                  select batch_number, sum(not_sent) over (order by batch_number) - not_sent as before from {Table(session)}
                  where tenant_id = ? and campaign_id = ? and batch_number >= ? and not_sent > 0) w
                where w.before < ? + coalesce((select not_sent from {Table(session)} where tenant_id = ? and campaign_id = ? and batch_number = ?), 0))
              and x.code = 'N' and x.id is not null
            order by t.batch_number, x.o
            limit ?
            """, ct, session.TenantId, campaignId, batch, index, session.TenantId, campaignId, batch, pageSize + 1,
            session.TenantId, campaignId, batch, pageSize + 1))
            .Select(json => System.Text.Json.JsonSerializer.Deserialize<NotSentRow>(json)!).ToList();
        var total = (await session.AdvancedSql.QueryAsync<long>(
            $"select coalesce(sum(not_sent), 0)::bigint from {Table(session)} where tenant_id = ? and campaign_id = ?", ct, session.TenantId, campaignId)).Single();
        var page = rows.Take(pageSize).ToList();
        var next = rows.Count > pageSize ? $"{page[^1].Batch}:{page[^1].Index}" : null;
        return new AudiencePage(page.Select(r => new Recipient(r.Id, r.Address ?? "", r.Name)).ToList(), total, next);
    }

    private sealed record NotSentRow(int Batch, long Index, string Id, string? Address, string? Name);

    // ---- schema ----

    /// <summary>The table, for Marten's schema management (<c>db-apply</c>, <c>ApplyAllDatabaseChangesOnStartup</c>).</summary>
    internal sealed class Storage : FeatureSchemaBase
    {
        private readonly StoreOptions options;

        public Storage(StoreOptions options, TimeSpan? retention) : base("RecipientOutcomes", options.Advanced.Migrator)
        {
            this.options = options;
            Retention.AddOrUpdate(options, new StrongBox<TimeSpan?>(retention));
        }

        protected override IEnumerable<ISchemaObject> schemaObjects()
        {
            var table = new Lz4Table(new PostgresqlObjectName(options.DatabaseSchemaName, TableName, Weasel.Postgresql.SchemaUtils.IdentifierUsage.General),
                "codes", "recipient_ids", "reasons", "addresses", "names");
            table.AddColumn("tenant_id", "varchar").NotNull().AsPrimaryKey();
            table.AddColumn("campaign_id", "uuid").NotNull().AsPrimaryKey();
            table.AddColumn("batch_number", "integer").NotNull().AsPrimaryKey();
            table.AddColumn("variant", "varchar").NotNull();
            table.AddColumn("recorded_at", "timestamp with time zone").NotNull();
            table.AddColumn("delivered", "integer").NotNull();
            table.AddColumn("failed", "integer").NotNull();
            table.AddColumn("not_sent", "integer").NotNull();
            table.AddColumn("codes", "text").NotNull();
            table.AddColumn("recipient_ids", "text[]").NotNull();
            table.AddColumn("reasons", "text[]");
            table.AddColumn("error", "text");
            table.AddColumn("addresses", "text[]");
            table.AddColumn("names", "text[]");
            table.Indexes.Add(new IndexDefinition($"ix_{TableName}_recipient_ids") { Columns = ["recipient_ids"], Method = IndexMethod.gin });
            table.Indexes.Add(new IndexDefinition($"ix_{TableName}_recorded_at") { Columns = ["tenant_id", "recorded_at"] });
            yield return table;
        }
    }

    /// <summary>
    /// A table whose <paramref name="columns"/> are compressed with lz4 where the server has it (PostgreSQL 14 or later built
    /// with lz4, as the Debian and PGDG packages are; elsewhere they keep the server's default). A row holds 1,000 ids and,
    /// for recipients not sent, their addresses and names: with PostgreSQL's default (pglz) compressing them took ~4 ms of the
    /// server's time per batch, more than the rest of the batch's statements, and lz4 ~0.5 ms (docs/benchmarks.md).
    /// Set when the table is created: a table created by an earlier version keeps pglz (docs/upgrades.md).
    /// </summary>
    private sealed class Lz4Table(PostgresqlObjectName name, params string[] columns) : Table(name)
    {
        public override void WriteCreateStatement(Migrator migrator, TextWriter writer)
        {
            base.WriteCreateStatement(migrator, writer);
            writer.WriteLine();
            writer.WriteLine($$"""
                DO $lz4$ BEGIN
                  IF EXISTS (SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)) THEN
                    ALTER TABLE {{Identifier}} {{string.Join(", ", columns.Select(c => $"ALTER COLUMN {c} SET COMPRESSION lz4"))}};
                  END IF;
                END $lz4$;
                """);
        }
    }
}

/// <summary>
/// The audience of a clone for the remainder: the recipients campaign <paramref name="sourceCampaignId"/> did not reach
/// (<see cref="RecipientOutcome.NotSent"/>), read from its recipient outcomes, with the addresses they were to be sent
/// to. The lists of the clone's schedule are not resolved. Failed recipients are not included: a refused address
/// should not be retried blindly, and a batch the reconciler failed may have gone out.
/// </summary>
public sealed class RemainderAudience(IQuerySession session, Guid sourceCampaignId) : IAudienceResolver
{
    /// <inheritdoc />
    public async ValueTask<AudiencePage> ResolvePageAsync(string tenantId, Audience audience, string? continuation, int pageSize,
        CancellationToken cancellation = default)
    {
        if (tenantId != session.TenantId)
            throw new InvalidOperationException($"The remainder of a campaign of tenant '{session.TenantId}' was asked for tenant '{tenantId}'.");
        // The source's never-sent batches are recorded a moment after it finished, and its prepared batches deleted in
        // the same transaction: while any is left, the remainder is not complete yet (the caller tries again).
        if (continuation is null && await session.Query<CampaignBatch>().AnyAsync(b => b.CampaignId == sourceCampaignId, cancellation))
            throw new InvalidOperationException($"Campaign {sourceCampaignId} is still recording the recipients it did not reach; its remainder is read once that is done.");
        return await session.LoadNotSentPageAsync(sourceCampaignId, continuation, pageSize, cancellation);
    }
}
