using JasperFx.Events.Daemon.HighWater;
using Marten;
using Marten.Events.Daemon.HighWater;
using Marten.Services;
using Marten.Storage;
using Npgsql;

namespace EventSourcedCampaigns.Marten;

/// <summary>
/// <see cref="CampaignStoreOptions.WakeDaemonOnAppend"/>: every commit that appended events is followed by a <c>NOTIFY</c>
/// naming the store's event schema, and the async daemon's high-water agent, listening on one connection, looks at once.
/// <para>
/// Not Marten's <c>UseListenNotifyForEventAppends</c>, which sends the <c>NOTIFY</c> inside each appending transaction:
/// PostgreSQL serializes the commits of all such transactions on one database-wide lock, each held through its commit's
/// flush, and with fsync on two cores committed about 2.5 times fewer small appends a second with it than without
/// (docs/benchmarks.md, twenty-second pass). Here the <c>NOTIFY</c> has a transaction of its own after the commit, which
/// does not wait for its flush (a notification does not outlive a crash anyway), and the commits of one process share
/// it while one is on its way. Marten's listener also dropped a notification that came while the agent was looking (it
/// empties its signals before each wait), and woke for every store's appends in the database.
/// </para>
/// The daemon's polls remain the fallback for a notification lost with a connection. Nodes of versions that notify inside
/// the transaction (on the same channel, naming no schema) still wake this listener, and this notification wakes theirs.
/// </summary>
internal static class DaemonWakeup
{
    public static void Install(StoreOptions opts)
    {
        opts.Listeners.Add(new AppendNotifier(opts));
        opts.Projections.Wakeup = new Listener(opts);
    }

    private const string Channel = PostgresqlListenWakeup.DefaultChannel;

    /// <summary>Notifies after a commit with events; at most one notification of this store's appends on its way at a time.</summary>
    private sealed class AppendNotifier(StoreOptions opts) : DocumentSessionListenerBase
    {
        private const int Idle = 0, Sending = 1, SendingAndAppendedSince = 2;
        private int _state;

        public override Task AfterCommitAsync(IDocumentSession session, IChangeSet commit, CancellationToken token)
        {
            if (commit.GetEvents().Any()) Appended(session.Database);
            return Task.CompletedTask;
        }

        private void Appended(IMartenDatabase database)
        {
            while (true)
            {
                switch (Volatile.Read(ref _state))
                {
                    case Idle when Interlocked.CompareExchange(ref _state, Sending, Idle) == Idle:
                        _ = Task.Run(() => SendAsync(database));
                        return;
                    case Sending when Interlocked.CompareExchange(ref _state, SendingAndAppendedSince, Sending) == Sending:
                    case SendingAndAppendedSince:
                        return; // the notification on its way, or the one after it, covers this commit
                }
            }
        }

        private async Task SendAsync(IMartenDatabase database)
        {
            while (true)
            {
                await NotifyAsync(database);
                if (Interlocked.CompareExchange(ref _state, Idle, Sending) == Sending) return;
                // Appended while the notification was on its way, perhaps after the daemon looked: once more.
                Volatile.Write(ref _state, Sending);
            }
        }

        private async Task NotifyAsync(IMartenDatabase database)
        {
            try
            {
                await using var connection = database.CreateConnection();
                await connection.OpenAsync();
                await using var command = new NpgsqlCommand("select pg_notify($1, $2), set_config('synchronous_commit', 'off', true)", connection)
                {
                    Parameters = { new() { Value = Channel }, new() { Value = opts.Events.DatabaseSchemaName } },
                };
                await command.ExecuteNonQueryAsync();
            }
            catch (Exception)
            {
                // The daemon's next poll finds the events: a wakeup is never worth failing or logging a commit for.
            }
        }
    }

    /// <summary>
    /// Listens from the daemon's first wait until it is disposed (and again if it waits after that). A notification that
    /// comes while the agent is looking ends its next wait at once, so an append committed meanwhile is not left to a poll.
    /// </summary>
    private sealed class Listener(StoreOptions opts) : IDaemonWakeup, IDisposable
    {
        private readonly SemaphoreSlim _appended = new(0, 1);
        private readonly Lock _lock = new();
        private CancellationTokenSource? _listening;

        public Task WaitAsync(TimeSpan timeout, CancellationToken token)
        {
            lock (_lock)
                if (_listening is null)
                {
                    _listening = new CancellationTokenSource();
                    var stop = _listening.Token;
                    _ = Task.Run(() => ListenAsync(stop), CancellationToken.None);
                }
            return _appended.WaitAsync(timeout, token);
        }

        private async Task ListenAsync(CancellationToken stop)
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    await using var connection = opts.Tenancy.Default.Database.CreateConnection();
                    await connection.OpenAsync(stop);
                    var schema = opts.Events.DatabaseSchemaName;
                    // An empty payload: a node of a version that notified inside its transaction, naming no schema.
                    connection.Notification += (_, e) => { if (e.Payload.Length == 0 || e.Payload == schema) Wake(); };
                    await using (var listen = new NpgsqlCommand($"listen {Channel}", connection))
                        await listen.ExecuteNonQueryAsync(stop);
                    Wake(); // appends committed while nobody listened are looked for now
                    while (true) await connection.WaitAsync(stop);
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception)
                {
                    // The database is out of reach or the connection was lost: the polls go on meanwhile.
                    try { await Task.Delay(TimeSpan.FromSeconds(1), stop); }
                    catch (OperationCanceledException) { return; }
                }
            }
        }

        private void Wake()
        {
            // One pending wakeup is enough: the agent looks at everything committed so far.
            lock (_lock)
                if (_appended.CurrentCount == 0) _appended.Release();
        }

        public void Dispose()
        {
            lock (_lock)
            {
                _listening?.Cancel();
                _listening = null;
            }
        }
    }
}
