using System.Diagnostics;
using System.Globalization;
using EventSourcedCampaigns.Ports;
using EventSourcedCampaigns.Smtp;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace EventSourcedCampaigns.Benchmarks;

/// <summary>
/// Recipients per second through <see cref="SmtpDispatcher"/> into the local capturing SMTP server (eng/smtp.sh, a
/// server of this phase's own in a temporary folder), against a hand-written MailKit loop sending the same messages
/// (same headers and body, same count, same number of connections) to the same server in the same run. Each side is
/// run several times, alternating, after a warm-up of both; the median of each is reported. The capturing server's
/// CPU time per wall second is reported too: near 1.0 on both sides means the single-threaded Python server, not the
/// client, sets the pace.
/// </summary>
public static class SmtpDelivery
{
    private const int Connections = 4;
    private const int BatchSize = 100;
    private static readonly Variant Variant = new("A", "Order status update", "Hello from Acme: your order has shipped.", 100);

    public static async Task<Result[]> RunAsync(bool quick)
    {
        var messages = quick ? 400 : 10_000;
        var rounds = quick ? 1 : 3;
        await using var server = await CaptureServer.StartAsync();
        var options = new SmtpDispatcherOptions
        {
            Host = "127.0.0.1", Port = server.Port, Security = SmtpSecurity.None, FromAddress = "news@shop.example",
            FromName = "Shop", MaxConnections = Connections, LocalDomain = "bench.shop.example",
        };

        // Warm-up of both sides (JIT, connection setup), not timed.
        await DispatcherAsync(options, Batches(Guid.NewGuid(), Connections * BatchSize));
        await MailKitLoopAsync(options, Batches(Guid.NewGuid(), Connections * BatchSize));

        var dispatcher = new List<(double Rate, double ServerBusy)>();
        var loop = new List<(double Rate, double ServerBusy)>();
        for (var round = 0; round < rounds; round++)
        {
            loop.Add(await MeasureAsync(server, messages, batches => MailKitLoopAsync(options, batches)));
            dispatcher.Add(await MeasureAsync(server, messages, batches => DispatcherAsync(options, batches)));
        }
        var (rate, busy) = (Median(dispatcher.Select(d => d.Rate)), Median(dispatcher.Select(d => d.ServerBusy)));
        var (baseRate, baseBusy) = (Median(loop.Select(d => d.Rate)), Median(loop.Select(d => d.ServerBusy)));
        Console.WriteLine($"smtp: {messages:N0} messages over {Connections} connections, {rounds} round(s): SmtpDispatcher {rate:N0}/s " +
                          $"(server CPU {busy:N2}), hand-written MailKit loop {baseRate:N0}/s (server CPU {baseBusy:N2})");
        return
        [
            new Result($"smtp: recipients/s through SmtpDispatcher, {messages:N0} messages, {Connections} connections", rate, baseRate,
                "recipients/s vs hand-written MailKit loop"),
            new Result("smtp: capturing server CPU while sending", busy, baseBusy, "server CPU s per wall s (dispatcher vs loop)"),
        ];
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>Times one side sending <paramref name="messages"/> messages of a new campaign and checks the server stored them all.</summary>
    private static async Task<(double Rate, double ServerBusy)> MeasureAsync(CaptureServer server, int messages, Func<IReadOnlyList<DispatchRequest>, Task> send)
    {
        var batches = Batches(Guid.NewGuid(), messages);
        var before = server.StoredCount();
        var cpuBefore = server.CpuTime();
        var started = Stopwatch.GetTimestamp();
        await send(batches);
        var elapsed = Stopwatch.GetElapsedTime(started);
        var cpu = server.CpuTime() - cpuBefore;
        var stored = server.StoredCount() - before;
        if (stored != messages) throw new InvalidOperationException($"The capturing server stored {stored} messages, not {messages}.");
        return (messages / elapsed.TotalSeconds, cpu.TotalSeconds / elapsed.TotalSeconds);
    }

    private static List<DispatchRequest> Batches(Guid campaign, int messages) =>
        Enumerable.Range(0, (messages + BatchSize - 1) / BatchSize).Select(b => new DispatchRequest(campaign, "bench", b + 1, Channel.Email, Variant,
            Enumerable.Range(b * BatchSize, Math.Min(BatchSize, messages - b * BatchSize))
                .Select(i => new Recipient($"c{i:D10}", $"contact.{i}@example.com", $"Contact {i}")).ToList())).ToList();

    /// <summary>The product: one dispatcher (its pool of <see cref="Connections"/>), <see cref="Connections"/> batches at once.</summary>
    private static async Task DispatcherAsync(SmtpDispatcherOptions options, IReadOnlyList<DispatchRequest> batches)
    {
        await using var dispatcher = new SmtpDispatcher(options);
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, Connections).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < batches.Count)
            {
                var result = await dispatcher.DispatchAsync(batches[i]);
                if (result.Delivered != batches[i].Recipients.Count) throw new InvalidOperationException($"Batch {i}: {result.Failed} refused.");
            }
        }));
    }

    /// <summary>The baseline: <see cref="Connections"/> MailKit clients, each sending whole batches one message per recipient
    /// with the same headers and body as the dispatcher's, nothing else (no pool, no refusal or reconnect handling).</summary>
    private static async Task MailKitLoopAsync(SmtpDispatcherOptions options, IReadOnlyList<DispatchRequest> batches)
    {
        var from = new MailboxAddress(options.FromName, options.FromAddress);
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, Connections).Select(async _ =>
        {
            using var client = new SmtpClient { LocalDomain = options.LocalDomain };
            await client.ConnectAsync(options.Host, options.Port, SecureSocketOptions.None);
            int i;
            while ((i = Interlocked.Increment(ref next)) < batches.Count)
            {
                var batch = batches[i];
                foreach (var recipient in batch.Recipients)
                {
                    var message = new MimeMessage { Subject = batch.Variant.Subject ?? "" };
                    message.From.Add(from);
                    message.To.Add(new MailboxAddress(recipient.Name, recipient.Address));
                    message.MessageId = SmtpDispatcher.MessageIdFor(batch.IdempotencyKey, recipient.Id, "shop.example").Trim('<', '>');
                    message.Headers.Add(SmtpDispatcher.IdempotencyHeader, $"{batch.IdempotencyKey}/{recipient.Id}");
                    message.Headers.Add(SmtpDispatcher.VariantHeader, batch.Variant.Key);
                    message.Body = new TextPart("plain") { Text = batch.Variant.Content };
                    await client.SendAsync(message);
                }
            }
            await client.DisconnectAsync(true);
        }));
    }

    /// <summary>A capturing SMTP server of this phase's own: eng/smtp.sh with its own folder, stopped and deleted at the end.</summary>
    private sealed class CaptureServer : IAsyncDisposable
    {
        private readonly string _folder;
        private readonly Process _process;

        private CaptureServer(string folder, int port, Process process) => (_folder, Port, _process) = (folder, port, process);

        public int Port { get; }

        public static async Task<CaptureServer> StartAsync()
        {
            var folder = Path.Combine(Path.GetTempPath(), $"bench-smtp-{Guid.NewGuid():N}");
            var output = await ScriptAsync(folder, "start");
            var port = int.Parse(output.Trim(), CultureInfo.InvariantCulture);
            var pid = int.Parse(File.ReadAllText(Path.Combine(folder, "pid")).Trim(), CultureInfo.InvariantCulture);
            return new CaptureServer(folder, port, Process.GetProcessById(pid));
        }

        public int StoredCount() => Directory.EnumerateFiles(Path.Combine(_folder, "messages"), "*.json").Count();

        public TimeSpan CpuTime()
        {
            _process.Refresh();
            return _process.TotalProcessorTime;
        }

        public async ValueTask DisposeAsync()
        {
            await ScriptAsync(_folder, "stop");
            _process.Dispose();
            try { Directory.Delete(_folder, recursive: true); }
            catch (IOException) { }
        }

        private static async Task<string> ScriptAsync(string folder, string command)
        {
            var start = new ProcessStartInfo("bash", [Path.Combine(RepositoryRoot(), "eng", "smtp.sh"), command])
            {
                RedirectStandardOutput = true, RedirectStandardError = true, Environment = { ["CAMPAIGNS_SMTP_DIR"] = folder },
            };
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            return process.ExitCode == 0 ? await output
                : throw new InvalidOperationException($"eng/smtp.sh {command} failed ({process.ExitCode}): {await output}{await error}");
        }

        private static string RepositoryRoot()
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "EventSourcedCampaigns.sln"))) return dir.FullName;
            throw new InvalidOperationException("Run the benchmarks from inside the repository (eng/smtp.sh is needed).");
        }
    }
}
