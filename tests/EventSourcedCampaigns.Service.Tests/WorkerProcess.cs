using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using EventSourcedCampaigns.IntegrationTests.Infrastructure;

namespace EventSourcedCampaigns.Service.Tests;

/// <summary>A real projection worker process on a local port, for failover and restart tests.</summary>
public sealed class WorkerProcess : IAsyncDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly Process _process;
    private readonly HttpClient _http;

    private WorkerProcess(Process process, int port)
    {
        _process = process;
        _http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(5) };
    }

    public int Id => _process.Id;
    public bool HasExited => _process.HasExited;

    public static async Task<WorkerProcess> StartAsync(string schema)
    {
        var port = FreePort();
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "EventSourcedCampaigns.Service.dll"), "--urls", $"http://127.0.0.1:{port}"])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = AppContext.BaseDirectory,
        };
        start.Environment["Campaigns__ConnectionString"] = TestDatabase.ConnectionString;
        start.Environment["Campaigns__Schema"] = schema;
        start.Environment["Campaigns__DaemonMode"] = "HotCold";
        start.Environment["Campaigns__ApplySchemaOnStartup"] = "false";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var worker = new WorkerProcess(process, port);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline && !process.HasExited)
        {
            try { if ((await worker._http.GetAsync("/health/live")).IsSuccessStatusCode) return worker; }
            catch (HttpRequestException) { }
            await Task.Delay(200);
        }
        await worker.DisposeAsync();
        throw new TimeoutException($"Worker on port {port} did not start within 60 s.");
    }

    public async Task<WorkerStatus?> StatusAsync()
    {
        try { return await _http.GetFromJsonAsync<WorkerStatus>("/ops/projections", Json); }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException) { return null; }
    }

    /// <summary>SIGKILL: no drain, no cleanup, as when a machine dies.</summary>
    public void Kill() => _process.Kill(entireProcessTree: true);

    /// <summary>SIGTERM: the graceful shutdown a service manager would send.</summary>
    public async Task StopAsync()
    {
        if (_process.HasExited) return;
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString()])) await kill.WaitForExitAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _process.WaitForExitAsync(timeout.Token);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited) Kill();
        await _process.WaitForExitAsync();
        _process.Dispose();
        _http.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

public sealed record WorkerStatus(bool Reachable, bool RunsProjections, bool AnyPaused, long HighWaterMark, Dictionary<string, long> Shards, long? Lag)
{
    /// <summary>The slowest read model's progress.</summary>
    public long ReadModelFloor => Shards.Where(s => s.Key != "HighWaterMark" && !s.Key.StartsWith("CampaignMetrics")).Select(s => s.Value).DefaultIfEmpty(0).Min();
}
