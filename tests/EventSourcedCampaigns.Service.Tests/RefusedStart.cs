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
        var (exited, exitCode, stdout, stderr) = await RunToExitAsync(start, TimeSpan.FromSeconds(60));
        if (!exited) Assert.Fail($"The service did not stop within 60 s. Its output: {stdout}{stderr}");
        return (exitCode, stdout, stderr);
    }

    /// <summary>
    /// Run <paramref name="start"/> (its output redirected) until it exits, or kill it (and its children) after
    /// <paramref name="limit"/>: whether it exited by itself, its exit code, stdout and stderr.
    /// </summary>
    public static async Task<(bool Exited, int ExitCode, string Stdout, string Stderr)> RunToExitAsync(ProcessStartInfo start, TimeSpan limit)
    {
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(limit);
        var exited = true;
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            exited = false;
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
        return (exited, process.ExitCode, await stdout, await stderr);
    }
}
