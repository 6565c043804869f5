using System.Diagnostics;
using EventSourcedCampaigns.IntegrationTests.Infrastructure;
using EventSourcedCampaigns.Marten;
using EventSourcedCampaigns.Marten.ReadModels;
using Marten;

namespace EventSourcedCampaigns.Service.Tests;

/// <summary>The operator's rebuild: <c>dotnet EventSourcedCampaigns.Service.dll read-models rebuild</c>.</summary>
public sealed class read_models_command
{
    [Fact]
    public async Task rebuild_gives_the_documents_the_live_daemon_built()
    {
        await using var store = await TestDatabase.NewStoreAsync("cli_rebuild");
        await ReadModelSnapshot.ProjectLiveAsync(store, () => new CampaignDriver(store, "shop-a", new TestClock()).EveryStatusAsync());
        var live = await ReadModelSnapshot.TakeAsync(store);
        await store.Advanced.Clean.DeleteDocumentsByTypeAsync(typeof(CampaignListItem));

        var (exitCode, output) = await RunAsync(store.Options.DatabaseSchemaName, "read-models", "rebuild");

        Assert.True(exitCode == 0, output);
        Assert.Contains("Rebuilt the campaign list", output);
        // Which copy it rebuilds, before it does (found by an audit: the host read ":0" from a connection never opened).
        var target = new Npgsql.NpgsqlConnectionStringBuilder(TestDatabase.ConnectionString);
        Assert.Contains($"Rebuilding the read models of schema {store.Options.DatabaseSchemaName} in database {target.Database} on {target.Host}:{target.Port}.", output);
        Assert.Equal(live, await ReadModelSnapshot.TakeAsync(store));
    }

    [Fact]
    public async Task rebuild_refuses_while_a_projection_node_runs_then_runs_once_it_stopped()
    {
        await using var store = await TestDatabase.NewStoreAsync("cli_running");
        var schema = store.Options.DatabaseSchemaName;
        await ReadModelSnapshot.ProjectLiveAsync(store, () => new CampaignDriver(store, "shop-a", new TestClock()).EveryStatusAsync());
        var live = await ReadModelSnapshot.TakeAsync(store);

        // Found by an audit: the rebuild ran beside a projection node, which went on writing what the rebuild replaced.
        await using (var node = await WorkerProcess.StartAsync(schema))
        {
            for (var i = 0; i < 300 && await node.StatusAsync() is not { RunsProjections: true }; i++) await Task.Delay(100);
            Assert.True(await node.StatusAsync() is { RunsProjections: true }, node.RecentOutput);
            var (refused, refusal) = await RunAsync(schema, "read-models", "rebuild");
            Assert.True(refused != 0, refusal);
            Assert.Contains("A projection node is running against this database", refusal);
            Assert.Equal(live, await ReadModelSnapshot.TakeAsync(store)); // nothing deleted
            await node.StopAsync();
        }

        var (exitCode, output) = await RunAsync(schema, "read-models", "rebuild");
        Assert.True(exitCode == 0, output);
        Assert.Equal(live, await ReadModelSnapshot.TakeAsync(store));
    }

    [Fact]
    public async Task an_unknown_action_is_refused()
    {
        var (exitCode, output) = await RunAsync("cli_unknown", "read-models", "drop");

        Assert.NotEqual(0, exitCode);
        Assert.Contains("Use: read-models rebuild", output);
    }

    [Fact]
    public async Task marten_s_rebuild_of_a_projection_no_one_has_is_refused_and_of_one_named_in_any_case_runs()
    {
        // Found by an audit: "projections rebuild -p CampaignStates" (a typo in the upgrade notes' step) rebuilt nothing and
        // exited 0, and the upgrade went on.
        await using var store = await TestDatabase.NewStoreAsync("cli_projections");
        var schema = store.Options.DatabaseSchemaName;

        var (refused, refusal) = await RunAsync(schema, "projections", "rebuild", "-p", "CampaignStates");
        Assert.True(refused == 1, refusal);
        Assert.Contains("No projection is named 'CampaignStates'. The projections: CampaignListItem, CampaignMetrics, CampaignState, CancellationAuditEntry, SendReport.", refusal);

        var (exitCode, output) = await RunAsync(schema, "projections", "rebuild", "--projection", "sendreport");
        Assert.True(exitCode == 0, output);
        Assert.Contains("Starting to rebuild projections SendReport", output);
    }

    private static Task<(int ExitCode, string Output)> RunAsync(string schema, params string[] args) => Cli.RunAsync(schema, args);
}
