using System.Diagnostics;
using EventSourcedCampaigns.IntegrationTests.Infrastructure;

namespace EventSourcedCampaigns.Service.Tests;

/// <summary>The service's operations CLI (<c>dotnet EventSourcedCampaigns.Service.dll ...</c>) run as an operator runs it.</summary>
internal static class Cli
{
    public static async Task<(int ExitCode, string Output)> RunAsync(string schema, params string[] args)
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
