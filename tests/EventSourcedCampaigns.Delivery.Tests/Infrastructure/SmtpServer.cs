using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using MimeKit;

namespace EventSourcedCampaigns.Delivery.Tests.Infrastructure;

/// <summary>
/// A real SMTP server of this test's own (eng/smtp.sh: aiosmtpd with eng/smtp/capture_server.py, installed if missing),
/// in its own folder: the messages it accepted, and the faults it injects (faults.json).
/// </summary>
public sealed class SmtpServer : IAsyncDisposable
{
    private SmtpServer(string folder, int port) => (Folder, Port) = (folder, port);

    public string Folder { get; }
    public int Port { get; }

    public static async Task<SmtpServer> StartAsync()
    {
        var folder = Path.Combine(Path.GetTempPath(), $"campaigns-smtp-{Guid.NewGuid():N}");
        return new SmtpServer(folder, await StartInAsync(folder, port: 0));
    }

    /// <summary>The server goes away at once (SIGKILL: open connections are cut, no reply is finished); its messages stay.</summary>
    public void Kill()
    {
        using var process = Process.GetProcessById(int.Parse(File.ReadAllText(Path.Combine(Folder, "pid")), CultureInfo.InvariantCulture));
        process.Kill();
        process.WaitForExit();
    }

    /// <summary>Start the server again on the same port, with the same messages and faults.</summary>
    public async Task RestartAsync()
    {
        var port = await StartInAsync(Folder, Port);
        if (port != Port) throw new InvalidOperationException($"The SMTP server came back on port {port} instead of {Port}.");
    }

    private static async Task<int> StartInAsync(string folder, int port)
    {
        var (code, output) = await RunAsync(folder, "start", port);
        return code == 0 && int.TryParse(output.Trim(), out var actual)
            ? actual
            : throw new InvalidOperationException($"eng/smtp.sh start failed ({code}): {output}");
    }

    /// <summary>How many messages the server accepted so far (without reading them).</summary>
    public int MessageCount() => Directory.GetFiles(Path.Combine(Folder, "messages"), "*.json").Length;

    /// <summary>Faults for the next transactions (see eng/smtp/capture_server.py); counters start again.</summary>
    public void Inject(object faults) => File.WriteAllText(Path.Combine(Folder, "faults.json"), JsonSerializer.Serialize(faults));

    public void ClearFaults() => File.WriteAllText(Path.Combine(Folder, "faults.json"), "");

    /// <summary>Every message the server accepted, in order.</summary>
    public IReadOnlyList<Captured> Messages()
    {
        var files = Directory.GetFiles(Path.Combine(Folder, "messages"), "*.json").Order(StringComparer.Ordinal);
        return files.Select(file =>
        {
            var json = JsonNode.Parse(File.ReadAllText(file))!;
            using var data = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json["data"]!.GetValue<string>()));
            return new Captured(json["mail_from"]!.GetValue<string>(), json["rcpt_tos"]!.AsArray().Select(r => r!.GetValue<string>()).ToArray(),
                MimeMessage.Load(data));
        }).ToList();
    }

    public async ValueTask DisposeAsync()
    {
        await RunAsync(Folder, "stop");
        try { Directory.Delete(Folder, recursive: true); }
        catch (IOException) { }
    }

    /// <param name="port">For start: the port to listen on (0: any free port).</param>
    private static async Task<(int Code, string Output)> RunAsync(string folder, string command, int port = 0)
    {
        var start = new ProcessStartInfo("bash", [Path.Combine(RepositoryRoot(), "eng", "smtp.sh"), command])
        {
            RedirectStandardOutput = true, RedirectStandardError = true,
            Environment = { ["CAMPAIGNS_SMTP_DIR"] = folder, ["CAMPAIGNS_SMTP_PORT"] = port.ToString(CultureInfo.InvariantCulture) },
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        // apt-get may run on a fresh machine: generous, but bounded.
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        try { await process.WaitForExitAsync(limit.Token); }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"eng/smtp.sh {command} did not finish within 5 minutes: {await error}");
        }
        return (process.ExitCode, process.ExitCode == 0 ? await output : await output + await error);
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "EventSourcedCampaigns.sln"))) return dir.FullName;
        throw new InvalidOperationException("Run the tests from inside the repository (eng/smtp.sh is needed).");
    }
}

/// <summary>One message as the server received it: envelope and parsed content.</summary>
public sealed record Captured(string MailFrom, string[] RcptTos, MimeMessage Message)
{
    public string? IdempotencyKey => Message.Headers[EventSourcedCampaigns.Smtp.SmtpDispatcher.IdempotencyHeader];
    public string Body => Message.TextBody ?? Message.HtmlBody ?? "";
}
