using System.Diagnostics;
using System.Reflection;
using System.Text;
using System.Xml.Linq;

namespace EventSourcedCampaigns.Packaging.Tests;

/// <summary>The repository this test runs in, and child processes run the way a developer would run them.</summary>
public static class Repo
{
    public static string Root { get; } = FindRoot();

    /// <summary>The one package version, from Directory.Build.props.</summary>
    public static string Version { get; } =
        XDocument.Load(Path.Combine(Root, "Directory.Build.props")).Descendants("Version").Single().Value.Trim();

    /// <summary>The configuration this test assembly was built in; the packages are packed in the same one.</summary>
    public static string Configuration { get; } = typeof(Repo).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "Configuration").Value!;

    private static readonly Lazy<Task<string>> Postgres = new(ResolvePostgresAsync);

    /// <summary>CAMPAIGNS_POSTGRES, or the throwaway cluster of eng/postgres.sh.</summary>
    public static Task<string> PostgresAsync() => Postgres.Value;

    private static async Task<string> ResolvePostgresAsync()
    {
        if (Environment.GetEnvironmentVariable("CAMPAIGNS_POSTGRES") is { Length: > 0 } fromEnvironment) return fromEnvironment;
        var start = await RunAsync("bash", [Path.Combine(Root, "eng", "postgres.sh"), "start"], Root, new Dictionary<string, string>(),
            TimeSpan.FromMinutes(3), mergeError: false);
        return start.ExitCode == 0 ? start.Output.Trim() : throw new InvalidOperationException($"eng/postgres.sh start failed:\n{start.Output}");
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "EventSourcedCampaigns.sln"))) return dir.FullName;
        throw new InvalidOperationException("Run the packaging tests from inside the repository.");
    }

    public sealed record Result(int ExitCode, string Output, TimeSpan Took);

    /// <summary>
    /// Runs a command to completion and returns its exit code and output. MSBuild variables of the test host are
    /// dropped and build servers are off, so a child build neither inherits this build's settings nor leaves a
    /// server process holding the output pipes open.
    /// </summary>
    public static async Task<Result> RunAsync(string file, IEnumerable<string> args, string workingDirectory,
        IReadOnlyDictionary<string, string> environment, TimeSpan timeout, bool mergeError = true)
    {
        var start = new ProcessStartInfo(file, args)
        {
            WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)).ToList())
            start.Environment.Remove(name);
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        start.Environment["UseSharedCompilation"] = "false";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach (var (name, value) in environment) start.Environment[name] = value;

        var output = new StringBuilder();
        var stopwatch = Stopwatch.StartNew();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null && mergeError) lock (output) output.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', start.ArgumentList)} did not finish within {timeout}:\n{output}");
        }
        lock (output) return new Result(process.ExitCode, output.ToString(), stopwatch.Elapsed);
    }
}
