using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using EventSourcedCampaigns.IntegrationTests.Infrastructure;

namespace EventSourcedCampaigns.Service.Tests;

/// <summary>
/// docs/getting-started.md's service block, pasted in one go as a reader does, against the service <c>bash eng/serve.sh</c>
/// starts: it ends with the report of the cancel. (It read the report at once and showed Scheduling, the read models not
/// having applied the cancel yet.)
/// </summary>
public sealed partial class the_getting_started_guide
{
    [Fact]
    public async Task service_block_pasted_in_one_go_ends_with_the_report_of_the_cancel()
    {
        var root = the_openapi_document.RepositoryRoot();
        var port = WorkerProcess.FreePort();
        var block = ServiceBlock(await File.ReadAllTextAsync(Path.Combine(root, "docs", "getting-started.md")))
            .Replace("localhost:5080", $"localhost:{port}", StringComparison.Ordinal);

        var serve = new ProcessStartInfo("bash", [Path.Combine(root, "eng", "serve.sh"), "--no-build", "--port", $"{port}"])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = root,
        };
        foreach (var inherited in serve.Environment.Keys.Where(k => k.StartsWith("Campaigns__", StringComparison.OrdinalIgnoreCase)).ToList())
            serve.Environment.Remove(inherited);
        serve.Environment["CAMPAIGNS_POSTGRES"] = TestDatabase.ConnectionString; // no throwaway cluster for it to start
        serve.Environment["Campaigns__Schema"] = TestDatabase.UniqueSchema("guide");
        var log = new StringBuilder();
        var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var service = new Process { StartInfo = serve };
        service.OutputDataReceived += (_, line) => Seen(line.Data);
        service.ErrorDataReceived += (_, line) => Seen(line.Data);
        service.Start();
        service.BeginOutputReadLine();
        service.BeginErrorReadLine();
        try
        {
            await listening.Task.WaitAsync(TimeSpan.FromSeconds(120));
            var reader = new ProcessStartInfo("bash", ["-euo", "pipefail", "-c", block])
            {
                RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = root,
            };
            var (exited, exitCode, stdout, stderr) = await ServiceProcess.RunToExitAsync(reader, TimeSpan.FromSeconds(120));
            Assert.True(exited && exitCode == 0, $"The block failed ({exitCode}).\nstdout: {stdout}\nstderr: {stderr}");

            var report = JsonDocument.Parse(stdout.TrimEnd().Split('\n')[^1]).RootElement;
            Assert.Equal("Cancelled", report.GetProperty("status").GetString());
            Assert.Equal(0, report.GetProperty("totals").GetProperty("delivered").GetInt64());
        }
        catch (TimeoutException)
        {
            Assert.Fail($"eng/serve.sh did not say it listens within 120 s: {log}");
        }
        finally
        {
            service.Kill(entireProcessTree: true);
            await service.WaitForExitAsync();
        }

        void Seen(string? line)
        {
            if (line is null) return;
            lock (log) log.AppendLine(line);
            if (line.StartsWith("Listening on", StringComparison.Ordinal)) listening.TrySetResult();
        }
    }

    /// <summary>The guide's block that mints a token and runs a campaign over HTTP.</summary>
    private static string ServiceBlock(string guide) =>
        BashBlocks().Matches(guide).Select(m => m.Groups[1].Value).Single(b => b.Contains("TOKEN=", StringComparison.Ordinal));

    [GeneratedRegex(@"```bash\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex BashBlocks();
}
