using System.Diagnostics;

namespace EventSourcedCampaigns.Service.Tests;

/// <summary>Runs the service's process with only the given <c>Campaigns__*</c> settings, expecting it to refuse them.</summary>
internal static class RefusedStart
{
    /// <summary>
    /// Run the service with <paramref name="arguments"/> and <paramref name="environment"/> (a null value removes the
    /// variable), and return the one line it wrote to stderr once it exited with code 2.
    /// </summary>
    public static async Task<string> RunAsync(string[] arguments, IReadOnlyDictionary<string, string?> environment)
    {
        // JasperFx's assembly discovery may write to stdout; the refusal goes to stderr.
        var (exitCode, _, stderr) = await ServiceProcess.RunAsync(arguments, environment);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(2, exitCode);
        return Assert.Single(lines);
    }
}

/// <summary>Runs the service's process (a command, or the service until it stops) with only the given <c>Campaigns__*</c> settings.</summary>
internal static class ServiceProcess
{
    /// <summary>
    /// Run the service with <paramref name="arguments"/> and <paramref name="environment"/> (a null value removes the
    /// variable) until it exits, within 60 s: its exit code, stdout and stderr.
    /// </summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string[] arguments, IReadOnlyDictionary<string, string?> environment)
    {
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "EventSourcedCampaigns.Service.dll"), .. arguments])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = AppContext.BaseDirectory,
        };
        foreach (var inherited in start.Environment.Keys.Where(k => k.StartsWith("Campaigns__", StringComparison.OrdinalIgnoreCase)).ToList())
            start.Environment.Remove(inherited);
        foreach (var (key, value) in environment)
            if (value is null) start.Environment.Remove(key);
            else start.Environment[key] = value;
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
        return (process.ExitCode, await stdout, await stderr);
    }
}
