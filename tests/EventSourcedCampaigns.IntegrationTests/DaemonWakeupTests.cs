using EventSourcedCampaigns.IntegrationTests.Infrastructure;
using EventSourcedCampaigns.Marten;
using Marten;
using Marten.Events.Daemon.HighWater;
using Npgsql;

namespace EventSourcedCampaigns.IntegrationTests;

/// <summary>CampaignStoreOptions.WakeDaemonOnAppend: the async daemon applies an append without waiting for its poll.</summary>
public sealed class the_async_daemon_woken_by_appends
{
    [Fact]
    public async Task applies_a_cancel_long_before_its_next_poll() => await AppliesACancelWokenAsync(appenderOfItsOwn: false);

    /// <summary>The appender in another process (here another store, with a wakeup of its own): woken through the database.</summary>
    [Fact]
    public async Task applies_another_processs_cancel_long_before_its_next_poll() => await AppliesACancelWokenAsync(appenderOfItsOwn: true);

    private static async Task AppliesACancelWokenAsync(bool appenderOfItsOwn)
    {
        var schema = TestDatabase.UniqueSchema("wakeup");
        // Polls a minute apart: within the test only the wakeup can bring the read models up to date.
        DocumentStore Store() => DocumentStore.For(opts =>
        {
            TestDatabase.Configure(opts, schema);
            opts.Projections.FastPollingTime = opts.Projections.SlowPollingTime = TimeSpan.FromMinutes(1);
        });
        await using var store = Store();
        await using var another = appenderOfItsOwn ? Store() : null;
        var appender = another ?? store;
        await store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();
        var driver = new CampaignDriver(appender, "shop-a", new TestClock());
        var id = await driver.ScheduledAsync(batches: 2);

        using var daemon = await store.BuildProjectionDaemonAsync();
        await daemon.StartAllAsync();
        await store.WaitForProjectionsAsync(TimeSpan.FromSeconds(30)); // the daemon's first look, at its start
        await driver.CancelAsync(id);

        await store.WaitForProjectionsAsync(TimeSpan.FromSeconds(20));
        await using var query = store.QuerySession("shop-a");
        Assert.Equal(CampaignStatus.Cancelled, (await query.QueryCampaignsAsync(new CampaignListQuery())).Items.Single().Status);
        await daemon.StopAllAsync();
    }

    /// <summary>
    /// An append notifies inside its transaction, as Marten's own wakeup does; a session marked
    /// <see cref="DaemonWakeup.WakeDaemonAfterCommit"/> (a cancel's) sends no notification in its transaction, which then
    /// does not queue for PostgreSQL's notify lock as it commits, and notifies once it has committed.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task an_append_notifies_inside_its_transaction_unless_its_session_wakes_the_daemon_after_the_commit(bool afterCommit)
    {
        var statements = new RecordedStatements();
        await using var store = DocumentStore.For(opts =>
        {
            TestDatabase.Configure(opts, TestDatabase.UniqueSchema("wakeup"));
            opts.Logger(statements);
        });
        await store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();
        var schema = store.Options.Events.DatabaseSchemaName;
        await using var listener = new NpgsqlConnection(TestDatabase.ConnectionString);
        await listener.OpenAsync();
        var ours = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        listener.Notification += (_, e) => { if (e.Payload == schema) ours.TrySetResult(); };
        await using (var listen = new NpgsqlCommand($"listen {PostgresqlListenWakeup.DefaultChannel}", listener))
            await listen.ExecuteNonQueryAsync();
        using var stop = new CancellationTokenSource();
        var receiving = Task.Run(async () => { while (!stop.IsCancellationRequested) await listener.WaitAsync(TimeSpan.FromMilliseconds(100)); });
        try
        {
            await using (var session = store.LightweightSession("shop-a"))
            {
                if (afterCommit) session.WakeDaemonAfterCommit();
                var id = Guid.NewGuid();
                session.Events.StartStream<CampaignState>(id,
                    new CampaignCreated(id, "Spring sale", Channel.Email, [new Variant("A", "Spring", "Ten percent off", 100)], null, CampaignDriver.Marketer, DateTimeOffset.UtcNow));
                await session.SaveChangesAsync();
            }

            var appended = Assert.Single(statements.Sessions, s => s.Any(sql => sql.Contains("mt_quick_append_events", StringComparison.Ordinal)));
            Assert.Equal(!afterCommit, appended.Any(sql => sql.Contains(PostgresqlListenWakeup.DefaultChannel, StringComparison.Ordinal)));
            if (afterCommit) await ours.Task.WaitAsync(TimeSpan.FromSeconds(10)); // named by its schema, from a connection of its own
        }
        finally
        {
            await stop.CancelAsync();
            await receiving;
        }
    }

    /// <summary>
    /// A tenancy of several databases has no default database to listen on (Marten's throws when asked for it): the daemon
    /// then waits out its poll, where a throwing wait would have ended its high-water loop.
    /// </summary>
    [Fact]
    public async Task polls_when_the_store_has_no_default_database_to_listen_on()
    {
        var opts = new StoreOptions();
        opts.MultiTenantedDatabasesWithMasterDatabaseTable(TestDatabase.ConnectionString);
        opts.AddCampaigns();
        var wakeup = opts.Projections.Wakeup ?? throw new InvalidOperationException("AddCampaigns installed no wakeup.");

        var waited = System.Diagnostics.Stopwatch.StartNew();
        await wakeup.WaitAsync(TimeSpan.FromMilliseconds(200), CancellationToken.None);
        await wakeup.WaitAsync(TimeSpan.FromMilliseconds(200), CancellationToken.None);

        Assert.True(waited.Elapsed >= TimeSpan.FromMilliseconds(350), $"waited {waited.Elapsed.TotalMilliseconds:N0} ms");
    }
}
