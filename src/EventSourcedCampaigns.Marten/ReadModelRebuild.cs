using System.Reflection;
using EventSourcedCampaigns.Marten.ReadModels;
using JasperFx.Events;
using JasperFx.Events.Daemon;
using Marten;
using Npgsql;

namespace EventSourcedCampaigns.Marten;

/// <summary>Rebuilding the read models from the events alone.</summary>
public static class ReadModelRebuild
{
    /// <summary>The daemon's shard of each read model, as <c>mt_event_progression</c> names it.</summary>
    private static readonly string[] Shards = [.. ReadModelWaiting.ReadModels.Select(name => name + ":All")];

    /// <summary>
    /// Rebuild the campaign list, the send reports and the cancellation audit from the events, in one pass: the events
    /// up to the store's high-water mark are read once, in stream order, each campaign's events are folded by the
    /// three projections' own <c>Evolve</c>, and the documents are written with <c>COPY</c>; then each read model's
    /// progress is set to that mark, and the async daemon goes on from there. Marten's daemon rebuild reads and
    /// deserializes every event once per read model and writes page by page: it took 5-6 times as long as the same
    /// work in SQL (docs/benchmarks.md). Memory holds one campaign's events and at most a thousand documents.
    /// </summary>
    /// <param name="store">The store; no async daemon may run these read models meanwhile (stop the projection workers).</param>
    /// <param name="timeout">How long the rebuild may take.</param>
    /// <param name="cancellation">Stops the rebuild; the read models are then incomplete until a rebuild completes.</param>
    public static async Task RebuildReadModelsAsync(this IDocumentStore store, TimeSpan timeout, CancellationToken cancellation = default)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        limit.CancelAfter(timeout);
        var token = limit.Token;
        var options = (StoreOptions)store.Options;

        // Held until the rebuild ends: a projection node running now would overwrite what it writes, one starting
        // meanwhile waits for it.
        await using var fence = await ProjectionLocksAsync(store, options, token);

        // Every event at or below the high-water mark is committed: the daemon's own gap detection, as its rebuild uses.
        long ceiling;
        using (var daemon = await store.BuildProjectionDaemonAsync())
        {
            await daemon.PrepareForRebuildsAsync();
            ceiling = daemon.Tracker.HighWaterMark;
        }

        foreach (var type in new[] { typeof(CampaignListItem), typeof(SendReport), typeof(CancellationAuditEntry) })
            await store.Advanced.Clean.DeleteDocumentsByTypeAsync(type, token);

        var folds = new Folds();
        var types = CampaignEvents.All.Where(folds.Reads).ToDictionary(CampaignEvents.StoredName);
        var writer = new Writer(store);
        var schema = options.Events.DatabaseSchemaName;
        await using (var connection = store.Storage.Database.CreateConnection())
        {
            await connection.OpenAsync(token);
            await using var transaction = await connection.BeginTransactionAsync(token);
            // Walk the (tenant, stream, version) index: rows come at once, and the server reads while this process
            // folds, instead of sorting every event before the first row.
            await using (var plan = new NpgsqlCommand("set local enable_sort = off", connection, transaction))
                await plan.ExecuteNonQueryAsync(token);
            await using var command = new NpgsqlCommand(
                $"select tenant_id, stream_id, seq_id, id, version, type, data, timestamp from {schema}.mt_events " +
                "where seq_id <= $1 and type = any($2) and not is_archived order by tenant_id, stream_id, version", connection, transaction)
            {
                Parameters = { new() { Value = ceiling }, new() { Value = types.Keys.ToArray() } },
            };
            await using var reader = await command.ExecuteReaderAsync(token);
            var serializer = options.Serializer();
            var stream = new List<IEvent>();
            while (await reader.ReadAsync(token))
            {
                var (tenant, streamId) = (reader.GetString(0), reader.GetGuid(1));
                if (stream.Count > 0 && (stream[0].TenantId != tenant || stream[0].StreamId != streamId))
                {
                    await writer.AddAsync(folds.Fold(stream), token);
                    stream.Clear();
                }
                var type = types[reader.GetString(5)];
                var e = Wrap(type, serializer.FromJson(type, reader, 6));
                e.TenantId = tenant;
                e.StreamId = streamId;
                e.Sequence = reader.GetInt64(2);
                e.Id = reader.GetGuid(3);
                e.Version = reader.GetInt64(4);
                e.Timestamp = reader.GetFieldValue<DateTimeOffset>(7);
                stream.Add(e);
            }
            if (stream.Count > 0) await writer.AddAsync(folds.Fold(stream), token);
        }
        await writer.FlushAsync(token);

        await using var progress = store.Storage.Database.CreateConnection();
        await progress.OpenAsync(token);
        await using var update = new NpgsqlCommand(
            $"insert into {schema}.mt_event_progression (name, last_seq_id, last_updated) select unnest($1), $2, now() " +
            "on conflict (name) do update set last_seq_id = excluded.last_seq_id, last_updated = excluded.last_updated", progress)
        {
            Parameters = { new() { Value = Shards }, new() { Value = ceiling } },
        };
        await update.ExecuteNonQueryAsync(token);
    }

    /// <summary>
    /// The advisory locks through which HotCold projection nodes elect their leader (Marten's single-tenant distributor:
    /// one per shard, <see cref="ProjectionLockIds.Compute"/>), taken on a connection of their own; a lock another
    /// session holds means a projection node runs, and the rebuild refuses to start.
    /// </summary>
    private static async Task<NpgsqlConnection> ProjectionLocksAsync(IDocumentStore store, StoreOptions options, CancellationToken token)
    {
        var schema = options.Events.DatabaseSchemaName;
        var shards = options.Projections.AllShards().Select(shard => shard.Name).ToList();
        var connection = store.Storage.Database.CreateConnection();
        try
        {
            await connection.OpenAsync(token);
            foreach (var shard in shards)
            {
                await using var take = new NpgsqlCommand("select pg_try_advisory_lock($1)", connection)
                {
                    Parameters = { new() { Value = (long)ProjectionLockIds.Compute(schema, shard, options.Projections.DaemonLockId) } },
                };
                if (await take.ExecuteScalarAsync(token) is not true)
                    throw new ProjectionsRunningException(shard.Identity);
            }
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// An event as the projections see it: they read its data, ids, tenant and position, so Marten's event mapping
    /// (<c>BuildEvent</c>, a lookup per event on the store's <c>DocumentStore</c>) is not needed.
    /// </summary>
    private static IEvent Wrap(Type type, object data) => Wrappers[type](data);

    private static readonly Dictionary<Type, Func<object, IEvent>> Wrappers = CampaignEvents.All.ToDictionary(type => type,
        type => typeof(ReadModelRebuild).GetMethod(nameof(WrapAs), BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(type)
            .CreateDelegate<Func<object, IEvent>>());

    private static IEvent WrapAs<T>(object data) where T : notnull => new Event<T>((T)data);

    /// <summary>One campaign stream's documents.</summary>
    private sealed record Built(string TenantId, CampaignListItem? Item, SendReport? Report, IReadOnlyCollection<CancellationAuditEntry> Audit);

    /// <summary>The three projections, each fed the event types it reads, as the daemon feeds it.</summary>
    private sealed class Folds
    {
        private readonly CampaignListProjection _list = new();
        private readonly SendReportProjection _reports = new();
        private readonly CancellationAuditProjection _audit = new();

        public bool Reads(Type type) =>
            !CampaignListProjection.Ignored.Contains(type) || !SendReportProjection.Ignored.Contains(type) || CancellationAuditProjection.EventTypes.Contains(type);

        public Built Fold(IReadOnlyList<IEvent> stream)
        {
            var (item, report) = ((CampaignListItem?)null, (SendReport?)null);
            var audit = new Dictionary<Guid, CancellationAuditEntry?>();
            foreach (var e in stream)
            {
                var type = e.Data.GetType();
                if (!CampaignListProjection.Ignored.Contains(type)) item = _list.Evolve(item, e.StreamId, e);
                if (!SendReportProjection.Ignored.Contains(type)) report = _reports.Evolve(report, e.StreamId, e);
                if (CancellationAuditProjection.EventTypes.Contains(type))
                {
                    var id = CancellationAuditProjection.IdentityOf(e);
                    audit[id] = _audit.Evolve(audit.GetValueOrDefault(id), id, e);
                }
            }
            return new Built(stream[0].TenantId, item, report, [.. audit.Values.OfType<CancellationAuditEntry>()]);
        }
    }

    /// <summary>Buffers documents per tenant and writes them with COPY, a thousand at a time.</summary>
    private sealed class Writer(IDocumentStore store)
    {
        private readonly Dictionary<string, (List<CampaignListItem> Items, List<SendReport> Reports, List<CancellationAuditEntry> Audit)> _tenants = [];
        private int _buffered;

        public async Task AddAsync(Built built, CancellationToken token)
        {
            if (!_tenants.TryGetValue(built.TenantId, out var buffers))
                _tenants[built.TenantId] = buffers = ([], [], []);
            if (built.Item is not null) buffers.Items.Add(built.Item);
            if (built.Report is not null) buffers.Reports.Add(built.Report);
            buffers.Audit.AddRange(built.Audit);
            _buffered += 2 + built.Audit.Count;
            if (_buffered >= 1_000) await FlushAsync(token);
        }

        public async Task FlushAsync(CancellationToken token)
        {
            foreach (var (tenant, (items, reports, audit)) in _tenants)
            {
                await WriteAsync(tenant, items, token);
                await WriteAsync(tenant, reports, token);
                await WriteAsync(tenant, audit, token);
            }
            _buffered = 0;
        }

        private async Task WriteAsync<T>(string tenant, List<T> documents, CancellationToken token) where T : notnull
        {
            if (documents.Count == 0) return;
            await store.BulkInsertAsync(tenant, documents, cancellation: token); // inserts only: the tables were emptied
            documents.Clear();
        }
    }
}

/// <summary>
/// A read model rebuild refused because a projection node (an async daemon in HotCold mode) runs against the same
/// database and schema: it would go on writing the read models the rebuild replaces. Stop the projection workers, then
/// rebuild; they go on from where the rebuild ended.
/// </summary>
public sealed class ProjectionsRunningException(string shard)
    : InvalidOperationException($"A projection node is running against this database (it holds the lock of {shard}): stop every " +
                                "process with the projections role, then rebuild. They go on from where the rebuild ends.")
{
    /// <summary>The shard whose lock another session holds, e.g. <c>CampaignListItem:All</c>.</summary>
    public string Shard { get; } = shard;
}
