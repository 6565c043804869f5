using JasperFx.Events.Daemon.HighWater;
using Marten;
using Marten.Events.Daemon.HighWater;
using Marten.Services;
using Marten.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Weasel.Postgresql;

namespace EventSourcedCampaigns.Marten;

/// <summary>
/// <see cref="CampaignStoreOptions.WakeDaemonOnAppend"/>: a commit that appends events sends a PostgreSQL <c>NOTIFY</c>
/// on Marten's channel, and the async daemon's high-water agent, listening on one connection (Marten's
/// <see cref="PostgresqlListenWakeup"/>), looks at once.
/// <para>
/// Marten's <c>UseListenNotifyForEventAppends</c> sends it inside every appending transaction. PostgreSQL serializes the
/// commits of all notifying transactions on one database-wide lock, each held through its commit's flush, so a cancel
/// committed after the lanes' commits queued ahead of it (docs/benchmarks.md, twenty-third pass). A session marked with
/// <see cref="WakeDaemonAfterCommit"/> notifies after its commit instead, in a transaction of its own that its caller does
/// not wait for. The lanes keep notifying inside theirs: moving every append's notification after its commit made the
/// read models' lag worse (twenty-second pass).
/// </para>
/// </summary>
internal static class DaemonWakeup
{
    private const string Channel = PostgresqlListenWakeup.DefaultChannel;

    internal static void Install(StoreOptions opts)
    {
        opts.Listeners.Add(new Notifier());
        opts.Projections.Wakeup = new Listener(opts);
    }

    /// <summary>
    /// The events this session commits wake the async daemon after the commit rather than inside its transaction, so the
    /// commit does not queue behind other appending transactions' commits for PostgreSQL's notify lock. Nothing changes
    /// without <see cref="CampaignStoreOptions.WakeDaemonOnAppend"/>.
    /// </summary>
    public static void WakeDaemonAfterCommit(this IDocumentSession session)
    {
        if (!session.Listeners.Contains(AfterCommit.Marker)) session.Listeners.Add(AfterCommit.Marker);
    }

    private sealed class AfterCommit : DocumentSessionListenerBase
    {
        public static readonly AfterCommit Marker = new();
    }

    private sealed class Notifier : DocumentSessionListenerBase
    {
        // A statement that returns no rows: Marten's batch reads no result set for it.
        private const string NotifyInside = "notify " + Channel;

        public override Task BeforeSaveChangesAsync(IDocumentSession session, CancellationToken token)
        {
            if (Appends(session) && !session.Listeners.Contains(AfterCommit.Marker)) session.QueueSqlCommand(NotifyInside);
            return Task.CompletedTask;
        }

        public override Task AfterCommitAsync(IDocumentSession session, IChangeSet commit, CancellationToken token)
        {
            if (session.Listeners.Contains(AfterCommit.Marker) && commit.GetEvents().Any())
                _ = NotifyAsync(session.Database, session.DocumentStore.Options.Events.DatabaseSchemaName);
            return Task.CompletedTask;
        }

        private static bool Appends(IDocumentSession session) => session.PendingChanges.Streams().Any(stream => stream.Events.Count > 0);

        // Named by the store's event schema: the daemon wakes for any notification, a reader of the channel can tell whose.
        private static async Task NotifyAsync(IMartenDatabase database, string schema)
        {
            try
            {
                await using var connection = database.CreateConnection();
                await connection.OpenAsync();
                // Not waiting for its flush: a notification does not outlive a crash anyway.
                await using var command = new NpgsqlCommand("select pg_notify($1, $2), set_config('synchronous_commit', 'off', true)", connection)
                {
                    Parameters = { new() { Value = Channel }, new() { Value = schema } },
                };
                await command.ExecuteNonQueryAsync();
            }
            catch (Exception)
            {
                // The daemon's next poll finds the events: a wakeup is never worth failing a command for.
            }
        }
    }

    /// <summary>
    /// Marten's listener on the store's database, made when the daemon first waits (Marten makes it as it starts the
    /// daemon, but only with its own in-transaction notifications), and made again if the daemon waits after disposing it.
    /// A tenancy of several databases has no default one to listen on: there the daemon polls, as without the wakeup
    /// (a wait must not throw: it would end the daemon's high-water loop).
    /// </summary>
    private sealed class Listener(StoreOptions opts) : IDaemonWakeup, IDisposable
    {
        private readonly Lock _lock = new();
        private PostgresqlListenWakeup? _listening;
        private bool _noDefaultDatabase;

        public Task WaitAsync(TimeSpan timeout, CancellationToken token)
        {
            PostgresqlListenWakeup? listening;
            lock (_lock) listening = _listening ??= _noDefaultDatabase ? null : Listen();
            return listening?.WaitAsync(timeout, token) ?? Task.Delay(timeout, token);
        }

        // Its only warning is a lost connection to the database, which the daemon reports itself (the store's logger
        // factory is not public).
        private PostgresqlListenWakeup? Listen()
        {
            try
            {
                return new(((PostgresqlDatabase)opts.Tenancy.Default.Database).DataSource, NullLogger.Instance);
            }
            catch (NotSupportedException)
            {
                _noDefaultDatabase = true;
                return null;
            }
        }

        public void Dispose()
        {
            PostgresqlListenWakeup? listening;
            lock (_lock) (listening, _listening) = (_listening, null);
            listening?.Dispose();
        }
    }
}
