using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using EventSourcedCampaigns.IntegrationTests.Infrastructure;

namespace EventSourcedCampaigns.Service.Tests;

/// <summary>A real service process (any roles) on a local port, for failover, restart and multi-node tests.</summary>
public sealed class WorkerProcess : IAsyncDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private const int KeptOutputLines = 200;
    private readonly Process _process;
    private readonly HttpClient _http;
    private readonly ConcurrentQueue<string> _output = new();

    private WorkerProcess(Process process, int port)
    {
        _process = process;
        BaseAddress = new Uri($"http://127.0.0.1:{port}");
        _http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
    }

    public int Id => _process.Id;
    public bool HasExited => _process.HasExited;
    public Uri BaseAddress { get; }

    /// <summary>The last lines the process wrote (stdout and stderr), for failure messages.</summary>
    public string RecentOutput => string.Join(Environment.NewLine, _output);

    /// <summary>
    /// Start the service on <paramref name="schema"/>. Defaults: all roles, HotCold, no schema changes at start-up
    /// (the test created the schema). <paramref name="settings"/> are "Campaigns:..." keys (or any configuration key)
    /// that override or add to those, for example <c>["Campaigns:Roles"] = "Sender"</c>.
    /// <paramref name="connectionString"/> defaults to the shared test database; when given, CAMPAIGNS_POSTGRES is
    /// removed from the child's environment so that nothing can fall back to the shared server.
    /// </summary>
    /// <summary>A node alone on a new schema named after <paramref name="prefix"/>, which it creates as it starts.</summary>
    public static Task<WorkerProcess> StartAloneAsync(string prefix) =>
        StartAsync(TestDatabase.UniqueSchema(prefix), new Dictionary<string, string> { ["Campaigns:ApplySchemaOnStartup"] = "true" });

    public static async Task<WorkerProcess> StartAsync(string schema, IReadOnlyDictionary<string, string>? settings = null,
        string? connectionString = null)
    {
        var port = FreePort();
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "EventSourcedCampaigns.Service.dll"), "--urls", $"http://127.0.0.1:{port}"])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = AppContext.BaseDirectory,
        };
        start.Environment["Campaigns__ConnectionString"] = connectionString ?? TestDatabase.ConnectionString;
        if (connectionString is not null) start.Environment.Remove("CAMPAIGNS_POSTGRES");
        start.Environment["Campaigns__Schema"] = schema;
        foreach (var (key, value) in TestAuth.Settings) start.Environment[key.Replace(":", "__")] = value;
        start.Environment["Campaigns__DaemonMode"] = "HotCold";
        start.Environment["Campaigns__ApplySchemaOnStartup"] = "false";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
            start.Environment[key.Replace(":", "__")] = value;
        var process = Process.Start(start)!;
        var worker = new WorkerProcess(process, port);
        process.OutputDataReceived += (_, e) => worker.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => worker.Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline && !process.HasExited)
        {
            try { if ((await worker._http.GetAsync("/health/live")).IsSuccessStatusCode) return worker; }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException) { }
            await Task.Delay(200);
        }
        var exited = process.HasExited;
        await worker.DisposeAsync();
        throw new TimeoutException((exited ? $"The service on port {port} exited during start-up." : $"The service on port {port} did not start within 60 s.")
                                   + $" Its last output:{Environment.NewLine}{worker.RecentOutput}");
    }

    private void Keep(string? line)
    {
        if (line is null) return;
        _output.Enqueue(line);
        while (_output.Count > KeptOutputLines) _output.TryDequeue(out _);
    }

    /// <summary>A client of this process's HTTP API for <paramref name="tenant"/>, as <paramref name="actor"/>.</summary>
    public HttpClient Client(string tenant, string actor = "ana@shop.example")
    {
        // Generous: the first command of a fresh process compiles its Wolverine handlers (Roslyn) on a 2-core machine.
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(120) };
        client.SignedIn(tenant, actor);
        return client;
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

    internal static int FreePort()
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
