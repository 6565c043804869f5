using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using EventSourcedCampaigns.Decisions;
using EventSourcedCampaigns.Ports;
using EventSourcedCampaigns.Testing;
using EventSourcedCampaigns.Marten;
using EventSourcedCampaigns.Wolverine;
using Npgsql;
using NpgsqlTypes;

namespace EventSourcedCampaigns.Benchmarks;

/// <summary>
/// The physical limit of this design: a hand-written Npgsql program that writes, per batch, the rows the pipeline
/// writes (docs/benchmarks.md, "What the pipeline writes per batch"), in the same transactions, with the same
/// concurrency (lanes per campaign, commands and dispatches in parallel), and no framework. Tables are copies
/// (<c>like ... including all</c>, plus the events' foreign key) of the pipeline's own Marten and Wolverine tables.
/// Per batch: dispatch step = the send gate (a transaction that reads the batch document, and the write model under a
/// share lock of the stream row with whether the batch's outcome row exists, and starts the provider call before it ends:
/// what makes "no provider call after the cancel commits" hold, nor a second one for a batch already answered) and
/// 1 transaction (the batch's recipient outcome row, BatchSent message row in, SendBatch row handled); record step = 1 transaction (stream row lock + write model read, the events, stream version, write-model
/// upsert, next SendBatch row, BatchSent row handled, commit); after the last record, 1 transaction settles the
/// campaign (never-sent batches recorded as not sent, prepared batches deleted).
/// </summary>
public sealed class SendBaseline
{
    private static readonly JsonSerializerOptions Json = new()
    {
        Converters = { new JsonStringEnumConverter() }, AllowOutOfOrderMetadataProperties = true,
    };

    private readonly NpgsqlDataSource _data;
    private readonly string _s;
    private readonly FakeDispatcher _dispatcher = new();
    private readonly SemaphoreSlim _commands;
    private readonly SemaphoreSlim _dispatches;
    private readonly int _lanes;
    private readonly List<double> _recordLatencies = [];
    private readonly List<double> _cycleLatencies = [];

    private SendBaseline(NpgsqlDataSource data, string schema, CampaignSendingOptions options)
    {
        _data = data;
        _s = schema;
        _commands = new SemaphoreSlim(options.MaxParallelCommands);
        _dispatches = new SemaphoreSlim(options.MaxParallelDispatches);
        _lanes = options.BatchesInFlightPerCampaign(null!);
    }

    /// <summary>Lock → commit of every record transaction (what a hand-written cancel costs under this load), ms.</summary>
    public IReadOnlyList<double> RecordLatencies => _recordLatencies;

    /// <summary>Claim commit → record commit of every batch (the longest a cancel waits for a batch in flight), ms.</summary>
    public IReadOnlyList<double> CycleLatencies => _cycleLatencies;

    /// <summary>Tables like the pipeline's, in the pipeline's schema (which must exist).</summary>
    public static async Task<SendBaseline> CreateAsync(NpgsqlDataSource data, string schema, CampaignSendingOptions options)
    {
        await using var command = data.CreateCommand($"""
            drop table if exists {schema}.base_events, {schema}.base_streams, {schema}.base_state, {schema}.base_batch, {schema}.base_envelopes,
              {schema}.base_list, {schema}.base_report, {schema}.base_outcomes;
            drop sequence if exists {schema}.base_events_seq;
            create sequence {schema}.base_events_seq;
            create table {schema}.base_streams (like {schema}.mt_streams including all);
            create table {schema}.base_events (like {schema}.mt_events including all);
            alter table {schema}.base_events add foreign key (tenant_id, stream_id) references {schema}.base_streams (tenant_id, id);
            create table {schema}.base_state (like {schema}.mt_doc_campaignstate including all);
            create table {schema}.base_batch (like {schema}.mt_doc_campaignbatch including all);
            create table {schema}.base_envelopes (like {schema}.wolverine_incoming_envelopes including all);
            create table {schema}.base_outcomes (like {schema}.{RecipientOutcomes.TableName} including all);
            create table {schema}.base_list (tenant_id varchar, id uuid, last_event varchar, delivered bigint, updated_at timestamptz, primary key (tenant_id, id));
            create table {schema}.base_report (tenant_id varchar, id uuid, delivered bigint, failed bigint, claimed bigint, updated_at timestamptz, primary key (tenant_id, id));
            """);
        await command.ExecuteNonQueryAsync();
        return new SendBaseline(data, schema, options);
    }

    /// <summary>Campaigns that have just started sending, with their prepared batches (not timed).</summary>
    public async Task<(Guid Id, int Batches)[]> SeedAsync(int campaigns, int batches)
    {
        var result = new List<(Guid, int)>();
        var audience = BogusAudience.Everyone((long)batches * 1_000);
        for (var c = 0; c < campaigns; c++)
        {
            var id = Guid.NewGuid();
            var now = DateTimeOffset.UtcNow.AddMinutes(-5);
            CampaignState? state = null;
            var events = new List<ICampaignEvent>();
            void Run(CampaignCommand command)
            {
                foreach (var e in Decider.Decide(command, state, now).EventsOrThrow()) { events.Add(e); state = CampaignState.Evolve(state, e); }
            }
            long recipients = (long)batches * 1_000;
            Run(new CreateCampaign(id, "Baseline", Channel.Email, [new Variant("A", "Hello", "Body", 100)], Pipeline.Actor));
            Run(new ScheduleCampaign(id, now.AddMinutes(1), Audience.Of("everyone"), 1_000, Pipeline.Actor));
            Run(new CompleteScheduling(id, recipients, batches, [new VariantShare("A", recipients)]));
            now = now.AddMinutes(1);
            Run(new StartSend(id));
            await using var conn = await _data.OpenConnectionAsync();
            await using (var tx = await conn.BeginTransactionAsync())
            {
                await using var batch = new NpgsqlBatch(conn, tx);
                batch.BatchCommands.Add(Command($"insert into {_s}.base_streams (tenant_id, id, type, version) values (@tenant, @id, 'campaign_state', @version)",
                    ("tenant", Pipeline.Tenant), ("id", id), ("version", (long)events.Count)));
                batch.BatchCommands.Add(EventsInsert(id, 1, events));
                batch.BatchCommands.Add(StateUpsert(id, state!, events.Count));
                await batch.ExecuteNonQueryAsync();
                await tx.CommitAsync();
            }
            await using var copy = await conn.BeginBinaryImportAsync(
                $"copy {_s}.base_batch (tenant_id, id, data, mt_version, mt_dotnet_type, variant, recipient_count) from stdin (format binary)");
            var docs = Batching.Split(id, state!.Variants, Enumerable.Range(0, (int)recipients).Select(i => audience.RecipientAt(i)).ToArray(), 0, 1, 1_000);
            foreach (var doc in docs)
            {
                await copy.StartRowAsync();
                await copy.WriteAsync(Pipeline.Tenant);
                await copy.WriteAsync(doc.Id);
                await copy.WriteAsync(JsonSerializer.Serialize(doc, Json), NpgsqlDbType.Jsonb);
                await copy.WriteAsync(Guid.NewGuid());
                await copy.WriteAsync(typeof(CampaignBatch).FullName!);
                await copy.WriteAsync(doc.Variant);
                await copy.WriteAsync(doc.RecipientCount);
            }
            await copy.CompleteAsync();
            result.Add((id, batches));
        }
        await using var analyze = _data.CreateCommand($"analyze {_s}.base_batch; analyze {_s}.base_events; analyze {_s}.base_state; analyze {_s}.base_streams");
        await analyze.ExecuteNonQueryAsync();
        return result.ToArray();
    }

    /// <summary>Send every campaign to the end; returns the elapsed time.</summary>
    public async Task<TimeSpan> SendAsync((Guid Id, int Batches)[] campaigns)
    {
        var started = Stopwatch.GetTimestamp();
        await Task.WhenAll(campaigns.Select(async c =>
        {
            // StartSend: one transaction claims batches 1..lanes (the pipeline's StartSend handler).
            var claimed = await Locked(() => StartAsync(c.Id));
            await Task.WhenAll(claimed.Select(first => LaneAsync(c.Id, first)));
        }));
        return Stopwatch.GetElapsedTime(started);
    }

    private async Task<T> Locked<T>(Func<Task<T>> step)
    {
        await _commands.WaitAsync();
        try { return await step(); }
        finally { _commands.Release(); }
    }

    private async Task LaneAsync(Guid id, (int Number, Guid Envelope, long ClaimedAt) claim)
    {
        while (true)
        {
            await _dispatches.WaitAsync();
            (Guid Envelope, DispatchResult Result) sent;
            try { sent = await DispatchAsync(id, claim.Number, claim.Envelope); }
            finally { _dispatches.Release(); }
            var next = await Locked(() => RecordAsync(id, claim.Number, sent.Envelope, sent.Result));
            lock (_cycleLatencies) _cycleLatencies.Add(Stopwatch.GetElapsedTime(claim.ClaimedAt).TotalMilliseconds);
            if (next is not { } n) return;
            claim = n;
        }
    }

    private async Task<(int, Guid, long)[]> StartAsync(Guid id)
    {
        await using var conn = await _data.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        var (version, state) = await LockAsync(conn, tx, id);
        var now = Now(state);
        var plan = ((CampaignPhase.Sending)state.Phase).Plan;
        var counts = await BatchShapesAsync(conn, tx, id, Enumerable.Range(1, Math.Min(_lanes, plan.Batches)).ToArray());
        var events = new List<ICampaignEvent>();
        var claims = new List<(int, Guid, long)>();
        await using var write = new NpgsqlBatch(conn, tx);
        foreach (var (number, variant, recipients) in counts)
            foreach (var e in Decider.Decide(new ClaimBatch(id, number, variant, recipients), state, now).EventsOrThrow())
            {
                events.Add(e);
                state = CampaignState.Evolve(state, e)!;
                var envelope = Guid.NewGuid();
                write.BatchCommands.Add(EnvelopeInsert(envelope, new SendBatch(id, number, _lanes), "local://campaign-dispatch/"));
                claims.Add((number, envelope, 0));
            }
        AddAppend(write, id, version, events, state);
        await write.ExecuteNonQueryAsync();
        await tx.CommitAsync();
        var at = Stopwatch.GetTimestamp();
        return claims.Select(c => (c.Item1, c.Item2, at)).ToArray();
    }

    private async Task<(Guid, DispatchResult)> DispatchAsync(Guid id, int number, Guid sendEnvelope)
    {
        await using var conn = await _data.OpenConnectionAsync();
        // The send gate, one round trip: the batch document, and the write model under a share lock of the stream row
        // (both rows locked, as the pipeline's gate does) with whether the batch's outcome row exists; the provider call
        // starts before the transaction ends.
        CampaignBatch doc;
        CampaignState state;
        bool recorded;
        ValueTask<DispatchResult> call;
        await using (var gate = await conn.BeginTransactionAsync())
        {
            await using (var read = new NpgsqlBatch(conn, gate))
            {
                read.BatchCommands.Add(Command($"select data from {_s}.base_batch where tenant_id = @tenant and id = @id",
                    ("tenant", Pipeline.Tenant), ("id", CampaignBatch.IdFor(id, number))));
                read.BatchCommands.Add(Command($"select d.data, exists (select 1 from {_s}.base_outcomes o where o.tenant_id = s.tenant_id " +
                    $"and o.campaign_id = s.id and o.batch_number = @number) from {_s}.base_streams s join {_s}.base_state d on d.id = s.id " +
                    "and d.tenant_id = s.tenant_id where s.tenant_id = @tenant and s.id = @id for share of s, d",
                    ("tenant", Pipeline.Tenant), ("id", id), ("number", number)));
                await using var reader = await read.ExecuteReaderAsync();
                await reader.ReadAsync();
                doc = JsonSerializer.Deserialize<CampaignBatch>(reader.GetString(0), Json)!;
                await reader.NextResultAsync();
                await reader.ReadAsync();
                state = JsonSerializer.Deserialize<CampaignState>(reader.GetString(0), Json)!;
                recorded = reader.GetBoolean(1);
            }
            if (((CampaignPhase.Sending)state.Phase).Progress.InFlight.ContainsKey(number) is false || recorded)
                throw new InvalidOperationException($"Batch {number} is not in flight, or its outcome is recorded.");
            call = _dispatcher.DispatchAsync(new DispatchRequest(id, Pipeline.Tenant, number, state.Channel, state.Variants[0], doc.Recipients));
            await gate.RollbackAsync(); // nothing was written: ending it releases the share lock without a commit to flush (as the pipeline's gate)
        }
        var result = await call;
        // One transaction: the batch's recipient outcome row (the pipeline's row, built the same way), the BatchSent
        // message row in, the SendBatch row handled.
        var envelope = Guid.NewGuid();
        await using var write = new NpgsqlBatch(conn);
        write.BatchCommands.Add(OutcomeInsert(doc, result));
        write.BatchCommands.Add(EnvelopeInsert(envelope, new BatchSent(id, number, _lanes, result.Delivered, result.Failed, null), "local://campaigns/"));
        write.BatchCommands.Add(EnvelopeHandled(sendEnvelope));
        await write.ExecuteNonQueryAsync();
        return (envelope, result);
    }

    /// <summary>A delivered batch's row of the recipient outcomes: its ids, a code per recipient, the refusals' reasons.</summary>
    private NpgsqlBatchCommand OutcomeInsert(CampaignBatch batch, DispatchResult result)
    {
        var refused = new Dictionary<string, string>();
        foreach (var r in result.Refusals ?? []) refused.TryAdd(r.RecipientId, r.Reason);
        var reasons = batch.Recipients.Select(r => refused.GetValueOrDefault(r.Id)).ToArray();
        var codes = new string(batch.Recipients.Select(r => refused.ContainsKey(r.Id) ? 'F' : 'D').ToArray());
        return Command($"""
            insert into {_s}.base_outcomes (tenant_id, campaign_id, batch_number, variant, recorded_at, recipient_ids, codes, reasons, error,
                addresses, names, delivered, failed, not_sent)
            values (@tenant, @campaign, @batch, @variant, now(), @ids, @codes, @reasons, null, null, null, @delivered, @failed, 0)
            on conflict (tenant_id, campaign_id, batch_number) do nothing
            """,
            ("tenant", Pipeline.Tenant), ("campaign", batch.CampaignId), ("batch", batch.BatchNumber), ("variant", batch.Variant),
            ("ids", batch.Recipients.Select(r => r.Id).ToArray()), ("codes", codes),
            ("reasons", new NpgsqlParameter("reasons", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = refused.Count > 0 ? reasons : DBNull.Value }),
            ("delivered", codes.Count(c => c == 'D')), ("failed", codes.Count(c => c == 'F')));
    }

    /// <summary>
    /// A finished campaign, after its last record: every batch with no outcome row is not sent (none, for a campaign sent
    /// to the end: one index probe per batch), then its prepared batches go. One transaction, outside the stream lock.
    /// </summary>
    private async Task SettleAsync(Guid id)
    {
        await using var write = _data.CreateBatch();
        write.BatchCommands.Add(Command($"""
            insert into {_s}.base_outcomes (tenant_id, campaign_id, batch_number, variant, recorded_at, recipient_ids, codes, addresses, delivered, failed, not_sent)
            select d.tenant_id, @id, split_part(d.id, '/', 2)::int, d.data ->> 'Variant', now(),
                array(select r ->> 'Id' from jsonb_array_elements(d.data -> 'Recipients') r), repeat('N', jsonb_array_length(d.data -> 'Recipients')),
                array(select r ->> 'Address' from jsonb_array_elements(d.data -> 'Recipients') r), 0, 0, jsonb_array_length(d.data -> 'Recipients')
            from {_s}.base_batch d
            where d.tenant_id = @tenant and CAST(d.data ->> 'CampaignId' as uuid) = @id and not exists (select 1 from {_s}.base_outcomes o
                where o.tenant_id = d.tenant_id and o.campaign_id = @id and o.batch_number = split_part(d.id, '/', 2)::int)
            on conflict (tenant_id, campaign_id, batch_number) do nothing
            """, ("tenant", Pipeline.Tenant), ("id", id)));
        write.BatchCommands.Add(Command($"delete from {_s}.base_batch where tenant_id = @tenant and CAST(data ->> 'CampaignId' as uuid) = @id",
            ("tenant", Pipeline.Tenant), ("id", id)));
        await write.ExecuteNonQueryAsync();
    }

    private async Task<(int, Guid, long)?> RecordAsync(Guid id, int number, Guid sentEnvelope, DispatchResult result)
    {
        var started = Stopwatch.GetTimestamp();
        await using var conn = await _data.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        var (version, state) = await LockAsync(conn, tx, id);
        var now = Now(state);
        var events = Decider.Decide(new RecordBatchDelivery(id, number, result.Delivered, result.Failed), state, now).EventsOrThrow().ToList();
        state = events.Aggregate((CampaignState?)state, CampaignState.Evolve)!;
        await using var write = new NpgsqlBatch(conn, tx);
        (int, Guid, long)? next = null;
        // As the pipeline: the first batch nobody claimed, while fewer than the lanes are in flight.
        if (state.Phase is CampaignPhase.Sending sending && sending.Progress.InFlight.Count < _lanes
                                                          && Enumerable.Range(1, sending.Plan.Batches).FirstOrDefault(b => !sending.Progress.IsClaimed(b)) is var first and > 0)
        {
            var (n, variant, recipients) = (await BatchShapesAsync(conn, tx, id, [first]))[0];
            var claimed = Decider.Decide(new ClaimBatch(id, n, variant, recipients), state, now).EventsOrThrow();
            events.AddRange(claimed);
            state = claimed.Aggregate((CampaignState?)state, CampaignState.Evolve)!;
            var envelope = Guid.NewGuid();
            write.BatchCommands.Add(EnvelopeInsert(envelope, new SendBatch(id, n, _lanes), "local://campaign-dispatch/"));
            next = (n, envelope, 0);
        }
        write.BatchCommands.Add(EnvelopeHandled(sentEnvelope));
        AddAppend(write, id, version, events, state);
        await write.ExecuteNonQueryAsync();
        await tx.CommitAsync();
        var at = Stopwatch.GetTimestamp();
        lock (_recordLatencies) _recordLatencies.Add(Stopwatch.GetElapsedTime(started, at).TotalMilliseconds);
        if (events.Any(e => e is SendCompleted)) await SettleAsync(id);
        return next is { } x ? (x.Item1, x.Item2, at) : null;
    }

    /// <summary>
    /// BEGIN, the stream row lock, then the write model, in one round trip. Two statements: a join would read the
    /// write model from the snapshot taken before waiting for the lock (PostgreSQL re-checks only the locked row).
    /// </summary>
    private async Task<(long Version, CampaignState State)> LockAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid id)
    {
        await using var batch = new NpgsqlBatch(conn, tx);
        batch.BatchCommands.Add(Command($"select version from {_s}.base_streams where tenant_id = @tenant and id = @id for update",
            ("tenant", Pipeline.Tenant), ("id", id)));
        batch.BatchCommands.Add(Command($"select data from {_s}.base_state where tenant_id = @tenant and id = @id", ("tenant", Pipeline.Tenant), ("id", id)));
        await using var reader = await batch.ExecuteReaderAsync();
        await reader.ReadAsync();
        var version = reader.GetInt64(0);
        await reader.NextResultAsync();
        await reader.ReadAsync();
        return (version, JsonSerializer.Deserialize<CampaignState>(reader.GetString(0), Json)!);
    }

    /// <summary>The variant and size of batches about to be claimed (a claim records both), from their columns as the pipeline reads them.</summary>
    private async Task<(int Number, string Variant, int Recipients)[]> BatchShapesAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid id, int[] numbers)
    {
        await using var command = new NpgsqlCommand(
            $"select split_part(id, '/', 2)::int, variant, recipient_count from {_s}.base_batch where tenant_id = @tenant and id = any(@ids)",
            conn, tx);
        command.Parameters.AddWithValue("tenant", Pipeline.Tenant);
        command.Parameters.AddWithValue("ids", numbers.Select(n => CampaignBatch.IdFor(id, n)).ToArray());
        var shapes = new List<(int, string, int)>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) shapes.Add((reader.GetInt32(0), reader.GetString(1), reader.GetInt32(2)));
        return shapes.OrderBy(s => s.Item1).ToArray();
    }

    private void AddAppend(NpgsqlBatch batch, Guid id, long version, List<ICampaignEvent> events, CampaignState state)
    {
        if (events.Count == 0) return;
        batch.BatchCommands.Add(EventsInsert(id, version + 1, events));
        batch.BatchCommands.Add(Command($"update {_s}.base_streams set version = @version, timestamp = now() where tenant_id = @tenant and id = @id",
            ("tenant", Pipeline.Tenant), ("id", id), ("version", version + events.Count)));
        batch.BatchCommands.Add(StateUpsert(id, state, version + events.Count));
    }

    private NpgsqlBatchCommand EventsInsert(Guid stream, long firstVersion, List<ICampaignEvent> events) => Command($"""
        insert into {_s}.base_events (seq_id, id, stream_id, version, data, type, tenant_id, timestamp, mt_dotnet_type, is_archived)
        select nextval('{_s}.base_events_seq'), u.id, @stream, u.version, u.data, u.type, @tenant, u.ts, u.dotnet, false
        from unnest(@ids, @versions, @datas, @types, @ts, @dotnet) as u(id, version, data, type, ts, dotnet)
        """,
        ("stream", stream), ("tenant", Pipeline.Tenant),
        ("ids", events.Select(_ => Guid.NewGuid()).ToArray()),
        ("versions", events.Select((_, i) => firstVersion + i).ToArray()),
        ("datas", new NpgsqlParameter("datas", NpgsqlDbType.Array | NpgsqlDbType.Jsonb) { Value = events.Select(e => JsonSerializer.Serialize(e, e.GetType(), Json)).ToArray() }),
        ("types", events.Select(e => CampaignEvents.StoredName(e.GetType())).ToArray()),
        ("ts", events.Select(_ => DateTimeOffset.UtcNow).ToArray()),
        ("dotnet", events.Select(e => $"{e.GetType().FullName}, {e.GetType().Assembly.GetName().Name}").ToArray()));

    private NpgsqlBatchCommand StateUpsert(Guid id, CampaignState state, long version) => Command($"""
        insert into {_s}.base_state (tenant_id, id, data, mt_version, mt_dotnet_type, mt_last_modified)
        values (@tenant, @id, @data, @version, @type, transaction_timestamp())
        on conflict (tenant_id, id) do update set data = excluded.data, mt_version = excluded.mt_version, mt_last_modified = excluded.mt_last_modified
        """,
        ("tenant", Pipeline.Tenant), ("id", id), ("version", version), ("type", typeof(CampaignState).FullName!),
        ("data", new NpgsqlParameter("data", NpgsqlDbType.Jsonb) { Value = JsonSerializer.Serialize(state, Json) }));

    private NpgsqlBatchCommand EnvelopeInsert(Guid envelope, object message, string receivedAt) => Command($"""
        insert into {_s}.base_envelopes (body, id, status, owner_id, execution_time, attempts, message_type, received_at, keep_until)
        values (@body, @id, 'Incoming', 1, null, 0, @type, @at, null)
        """,
        ("body", JsonSerializer.SerializeToUtf8Bytes(message, message.GetType(), Json)), ("id", envelope),
        ("type", message.GetType().FullName!), ("at", receivedAt));

    private NpgsqlBatchCommand EnvelopeHandled(Guid envelope) => Command(
        $"update {_s}.base_envelopes set status = 'Handled', keep_until = @keep, owner_id = 0 where id = @id",
        ("keep", DateTimeOffset.UtcNow.AddMinutes(5)), ("id", envelope));

    private static NpgsqlBatchCommand Command(string sql, params (string Name, object Value)[] parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var (name, value) in parameters)
            command.Parameters.Add(value as NpgsqlParameter ?? new NpgsqlParameter(name, value));
        return command;
    }

    private static DateTimeOffset Now(CampaignState state)
    {
        var now = DateTimeOffset.UtcNow;
        return state.LastChangedAt > now ? state.LastChangedAt : now;
    }

    /// <summary>
    /// The raw-SQL projector for the lag baseline: while <paramref name="stop"/> is not cancelled, fold the events
    /// appended since the last pass into the list and report tables with one incremental upsert each.
    /// <paramref name="progress"/> is the last sequence number folded.
    /// </summary>
    public async Task ProjectAsync(Progress progress, CancellationToken stop)
    {
        await using var conn = await _data.OpenConnectionAsync();
        while (!stop.IsCancellationRequested)
        {
            await using var max = new NpgsqlCommand($"/*poll*/ select coalesce(max(seq_id), 0) from {_s}.base_events", conn);
            var to = (long)(await max.ExecuteScalarAsync())!;
            if (to > progress.Value)
            {
                await using var fold = new NpgsqlCommand($"""
                    insert into {_s}.base_report as r (tenant_id, id, delivered, failed, claimed, updated_at)
                    select tenant_id, stream_id,
                      coalesce(sum((data->>'Delivered')::bigint) filter (where type = 'campaign_batch_delivered'), 0),
                      coalesce(sum((data->>'Failed')::bigint) filter (where type = 'campaign_batch_delivered'), 0)
                        + coalesce(sum((data->>'Recipients')::bigint) filter (where type = 'campaign_batch_failed'), 0),
                      coalesce(sum((data->>'Recipients')::bigint) filter (where type = 'campaign_batch_claimed'), 0),
                      max(timestamp)
                    from {_s}.base_events where seq_id > @from and seq_id <= @to group by tenant_id, stream_id
                    on conflict (tenant_id, id) do update set delivered = r.delivered + excluded.delivered, failed = r.failed + excluded.failed,
                      claimed = r.claimed + excluded.claimed, updated_at = greatest(r.updated_at, excluded.updated_at);
                    insert into {_s}.base_list as l (tenant_id, id, last_event, delivered, updated_at)
                    select tenant_id, stream_id, (array_agg(type order by seq_id desc))[1],
                      coalesce(sum((data->>'Delivered')::bigint) filter (where type = 'campaign_batch_delivered'), 0), max(timestamp)
                    from {_s}.base_events where seq_id > @from and seq_id <= @to group by tenant_id, stream_id
                    on conflict (tenant_id, id) do update set last_event = excluded.last_event, delivered = l.delivered + excluded.delivered,
                      updated_at = greatest(l.updated_at, excluded.updated_at);
                    """, conn);
                fold.Parameters.AddWithValue("from", progress.Value);
                fold.Parameters.AddWithValue("to", to);
                await fold.ExecuteNonQueryAsync();
                progress.Value = to;
            }
            else
            {
                try { await Task.Delay(20, stop); } catch (OperationCanceledException) { }
            }
        }
    }
}

/// <summary>The last event sequence number a projector has folded (read by the lag sampler).</summary>
public sealed class Progress
{
    private long _value;
    public long Value { get => Volatile.Read(ref _value); set => Volatile.Write(ref _value, value); }
}
