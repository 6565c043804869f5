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
        Assert.Equal(live, await ReadModelSnapshot.TakeAsync(store));
    }

    [Fact]
    public async Task an_unknown_action_is_refused()
    {
        var (exitCode, output) = await RunAsync("cli_unknown", "read-models", "drop");

        Assert.NotEqual(0, exitCode);
        Assert.Contains("Use: read-models rebuild", output);
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string schema, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "EventSourcedCampaigns.Service.dll"), .. args])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = AppContext.BaseDirectory,
        };
        start.Environment["Campaigns__ConnectionString"] = TestDatabase.ConnectionString;
        start.Environment["Campaigns__Schema"] = schema;
        start.Environment["Campaigns__ApplySchemaOnStartup"] = "false";
        foreach (var (key, value) in TestAuth.Settings) start.Environment[key.Replace(":", "__")] = value;
        using var process = Process.Start(start)!;
        var (stdout, stderr) = (process.StandardOutput.ReadToEndAsync(), process.StandardError.ReadToEndAsync());
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }
}
