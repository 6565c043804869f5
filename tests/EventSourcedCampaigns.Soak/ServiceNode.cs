using System.Diagnostics;
using System.Text.Json;

namespace EventSourcedCampaigns.Soak;

/// <summary>
/// One service process with every role (Api, Sender, Projections) on a fixed port, run from this program's output
/// folder as eng/serve.sh runs it (Development: development tokens are accepted). It can be SIGKILLed and started
/// again on the same port; its output goes to a log file.
/// </summary>
public sealed class ServiceNode(string name, int port, IReadOnlyDictionary<string, string> settings, string logFile) : IAsyncDisposable
{
    private readonly HttpClient _probe = new() { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(5) };
    private readonly Lock _gate = new();
    private Process? _process;
    private StreamWriter? _log;

    public string Name => name;
    public Uri BaseAddress => _probe.BaseAddress!;
    public int? Pid { get { lock (_gate) return _process is { HasExited: false } p ? p.Id : null; } }

    /// <summary>False from the moment it is killed until it answers /health/live again.</summary>
    public bool Up { get; private set; }

    public async Task StartAsync(TimeSpan patience)
    {
        // Another program listening on the port would answer the probe below in this node's place, and the soak would drive it.
        using (var listener = new System.Net.Sockets.TcpClient())
        {
            try
            {
                await listener.ConnectAsync(BaseAddress.Host, BaseAddress.Port);
                throw new PortInUseException($"Port {BaseAddress.Port} is in use (another service listens there): stop it, or choose other ports with --port.");
            }
            catch (System.Net.Sockets.SocketException) { } // nobody listens: free
        }
        var dll = Path.Combine(AppContext.BaseDirectory, "EventSourcedCampaigns.Service.dll");
        var start = new ProcessStartInfo("dotnet", [dll, "--urls", BaseAddress.ToString().TrimEnd('/')])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = AppContext.BaseDirectory,
        };
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        start.Environment.Remove("CAMPAIGNS_POSTGRES");
        foreach (var (key, value) in settings) start.Environment[key.Replace(":", "__")] = value;
        lock (_gate)
        {
            _log ??= new StreamWriter(logFile, append: true) { AutoFlush = true };
            _log.WriteLine($"---- {DateTimeOffset.UtcNow:O} starting {name} on {BaseAddress}");
            _process = Process.Start(start)!;
        }
        var process = _process;
        process.OutputDataReceived += (_, e) => Write(e.Data);
        process.ErrorDataReceived += (_, e) => Write(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < patience)
        {
            if (process.HasExited)
            {
                process.WaitForExit(); // its last output written to the log
                throw new InvalidOperationException($"{name} exited during start-up (code {process.ExitCode}); {logFile} ends:{Environment.NewLine}{LogTail()}");
            }
            try
            {
                if ((await _probe.GetAsync("/health/live")).IsSuccessStatusCode) { Up = true; return; }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { }
            await Task.Delay(200);
        }
        throw new TimeoutException($"{name} did not answer /health/live within {patience.TotalSeconds:0} s; see {logFile}");
    }

    // The log's last lines, for the failure's message: a test deletes the log's folder when it ends.
    private string LogTail()
    {
        lock (_gate) _log?.Flush();
        try { return string.Join(Environment.NewLine, File.ReadLines(logFile).TakeLast(40)); }
        catch (IOException e) { return e.Message; }
    }

    private void Write(string? line)
    {
        if (line is null) return;
        lock (_gate) _log?.WriteLine(line);
    }

    /// <summary>SIGKILL: no drain, no clean-up, as when a machine dies.</summary>
    public async Task KillAsync()
    {
        Up = false;
        Process? process;
        lock (_gate) process = _process;
        if (process is null || process.HasExited) return;
        Write($"---- {DateTimeOffset.UtcNow:O} SIGKILL");
        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
    }

    /// <summary>SIGTERM, the graceful stop a service manager sends; SIGKILL if it has not exited after <paramref name="patience"/>.</summary>
    public async Task StopAsync(TimeSpan patience)
    {
        Up = false;
        Process? process;
        lock (_gate) process = _process;
        if (process is null || process.HasExited) return;
        using (var term = Process.Start("kill", ["-TERM", process.Id.ToString()])) await term.WaitForExitAsync();
        using var timeout = new CancellationTokenSource(patience);
        try { await process.WaitForExitAsync(timeout.Token); }
        catch (OperationCanceledException) { await KillAsync(); }
    }

    /// <summary>Resident set size in MiB (VmRSS of /proc/PID/status); null while the process is down.</summary>
    public double? RssMiB()
    {
        if (Pid is not { } pid) return null;
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                    return double.Parse(line[6..].Trim().Split(' ')[0]) / 1024.0;
        }
        catch (IOException) { }
        return null;
    }

    /// <summary>Whether this node runs the projections now (GET /ops/projections); null when it does not answer.</summary>
    public async Task<bool?> RunsProjectionsAsync()
    {
        try
        {
            var body = JsonDocument.Parse(await _probe.GetStringAsync("/ops/projections")).RootElement;
            return body.TryGetProperty("runsProjections", out var runs) && runs.GetBoolean();
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException) { return null; }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        lock (_gate)
        {
            _process?.Dispose();
            _log?.Dispose();
            _log = null;
        }
        _probe.Dispose();
    }
}

/// <summary>A node's port already taken by another program.</summary>
public sealed class PortInUseException(string message) : InvalidOperationException(message);
