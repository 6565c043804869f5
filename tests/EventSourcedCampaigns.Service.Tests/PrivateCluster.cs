using System.Diagnostics;
using EventSourcedCampaigns.IntegrationTests.Infrastructure;

namespace EventSourcedCampaigns.Service.Tests;

/// <summary>
/// A throwaway PostgreSQL cluster of one test (eng/postgres.sh with CAMPAIGNS_POSTGRES_DIR and CAMPAIGNS_POSTGRES_PORT),
/// for tests that restart the server: restarting the shared test server would break the other test assemblies.
/// </summary>
public sealed class PrivateCluster : IAsyncDisposable
{
    private readonly string _dir;
    private readonly int _port;

    private PrivateCluster(string dir, int port, string connectionString) => (_dir, _port, ConnectionString) = (dir, port, connectionString);

    public string ConnectionString { get; }

    public static async Task<PrivateCluster> StartAsync()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"campaigns-pg-{Guid.NewGuid():N}"[..24]);
        var cluster = new PrivateCluster(dir, FreePorts.Take(), "");
        var (code, stdout, stderr) = await cluster.RunAsync("start", TimeSpan.FromMinutes(3));
        if (code != 0)
        {
            await cluster.DisposeAsync();
            throw new InvalidOperationException(
                $"This test needs a private PostgreSQL cluster (PostgreSQL server binaries: initdb, pg_ctl) and could not start one " +
                $"with eng/postgres.sh (exit {code}):{Environment.NewLine}{stderr}");
        }
        return new PrivateCluster(dir, cluster._port, stdout.Trim());
    }

    /// <summary>pg_ctl restart -m immediate (a crash and recovery), then wait until it accepts connections.</summary>
    public async Task RestartAsync()
    {
        var (code, _, stderr) = await RunAsync("restart", TimeSpan.FromSeconds(90));
        if (code != 0) throw new InvalidOperationException($"eng/postgres.sh restart failed (exit {code}):{Environment.NewLine}{stderr}");
    }

    public async ValueTask DisposeAsync()
    {
        var (code, _, stderr) = await RunAsync("wipe", TimeSpan.FromSeconds(60));
        if (code != 0) Console.Error.WriteLine($"eng/postgres.sh wipe of {_dir} failed (exit {code}): {stderr}");
    }

    private async Task<(int Code, string Stdout, string Stderr)> RunAsync(string command, TimeSpan timeout)
    {
        var root = RepositoryRoot();
        var start = new ProcessStartInfo("bash", [Path.Combine(root, "eng", "postgres.sh"), command])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = root,
        };
        start.Environment.Remove("CAMPAIGNS_POSTGRES"); // the script would use that server and start nothing
        start.Environment["CAMPAIGNS_POSTGRES_DIR"] = _dir;
        start.Environment["CAMPAIGNS_POSTGRES_PORT"] = _port.ToString();
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            return (-1, await stdout, $"eng/postgres.sh {command} did not finish within {timeout.TotalSeconds:0} s. {await stderr}");
        }
        return (process.ExitCode, await stdout, await stderr);
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "EventSourcedCampaigns.sln"))) return dir.FullName;
        throw new InvalidOperationException($"No EventSourcedCampaigns.sln above {AppContext.BaseDirectory}: run the tests from inside the repository.");
    }
}
