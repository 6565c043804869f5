using System.Diagnostics;

namespace EventSourcedCampaigns.Service.Tests;

/// <summary>
/// The database connection is a setting like the others: none (no Campaigns:ConnectionString and no CAMPAIGNS_POSTGRES,
/// as when the operations CLI of docs/security.md is run from a fresh shell) or one that does not parse stops the service
/// and its CLI with exit code 2 and one line naming the setting, not an unhandled exception's stack trace.
/// </summary>
public sealed class the_connection_settings
{
    [Theory]
    [InlineData(null, "Campaigns:ConnectionString is required (or CAMPAIGNS_POSTGRES): an Npgsql connection string.")]
    [InlineData("Host=127.0.0.1;Password=s3cret;NoSuchKeyword=1", "Campaigns:ConnectionString is not an Npgsql connection string (ArgumentException).")]
    public async Task a_missing_or_unreadable_connection_string_stops_the_service_with_exit_code_2_and_one_line(string? connectionString, string named)
    {
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "EventSourcedCampaigns.Service.dll"), "api-keys", "list", "--tenant", "shop"])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = AppContext.BaseDirectory,
        };
        foreach (var inherited in start.Environment.Keys.Where(k => k.StartsWith("Campaigns__", StringComparison.OrdinalIgnoreCase)).ToList())
            start.Environment.Remove(inherited);
        start.Environment.Remove("CAMPAIGNS_POSTGRES");
        if (connectionString is not null) start.Environment["Campaigns__ConnectionString"] = connectionString;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"The service did not stop within 60 s. Its output: {await stdout}{await stderr}");
        }

        await stdout; // JasperFx's assembly discovery may write there; the refusal goes to stderr
        var lines = (await stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(2, process.ExitCode);
        var line = Assert.Single(lines);
        Assert.Equal($"The campaigns service cannot start: {named}", line);
        Assert.DoesNotContain("s3cret", line);
    }
}
