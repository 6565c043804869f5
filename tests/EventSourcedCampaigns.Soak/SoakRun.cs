using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using EventSourcedCampaigns.IntegrationTests.Infrastructure;
using EventSourcedCampaigns.Marten;
using Marten;
using Npgsql;

namespace EventSourcedCampaigns.Soak;

public sealed record Kill(double Minute, string Node, bool WasLeader, double DownSeconds);

public sealed record SoakResult(
    string Settings, IReadOnlyList<Sample> Samples, IReadOnlyList<Kill> Kills, IReadOnlyDictionary<string, int> Outcomes,
    int Campaigns, int Finished, long ReportsChecked, long EventsChecked, bool? RebuildEqual, double SettleSeconds,
    long TransportFailures, long Retries, IReadOnlyCollection<string> ServerErrors, IReadOnlyDictionary<string, int> LoggedErrors,
    IReadOnlyCollection<string> Failures)
{
    public bool Passed => Failures.Count == 0;
}

/// <summary>The soak run (docs/benchmarks.md, "Soak run"): see <see cref="RunAsync"/>.</summary>
public static class SoakRun
{
    private const string Schema = "campaigns";
    private static readonly string[] Tenants = ["soak-a", "soak-b"];

    /// <summary>
    /// A fresh database; two service processes with every role; <see cref="SoakOptions.Campaigns"/> campaigns started
    /// at random times in the first 80% of the run, each scheduled and then sent, paused and resumed, paused and
    /// cancelled, or cancelled before or during the send; one node SIGKILLed and restarted every
    /// <see cref="SoakOptions.KillEvery"/>. Samples and event-store invariants every <see cref="SoakOptions.SampleEvery"/>.
    /// Then: every campaign must reach its expected final status within <see cref="SoakOptions.Settle"/>, its totals
    /// must add up and match its events, and the live read models must equal a rebuild.
    /// </summary>
    public static async Task<SoakResult> RunAsync(SoakOptions options, TextWriter log)
    {
        var connection = new NpgsqlConnectionStringBuilder(options.Server) { Database = options.Database, Pooling = true }.ConnectionString;
        await RecreateDatabaseAsync(options.Server, options.Database);
        await using var data = NpgsqlDataSource.Create(connection);
        var logs = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(options.Output))!, "soak-logs");
        Directory.CreateDirectory(logs);
        foreach (var old in Directory.GetFiles(logs)) File.Delete(old); // this run's logs only
        log.WriteLine($"soak: {options}");
        log.WriteLine($"soak: database {options.Database}, node logs in {logs}");

        var settings = NodeSettings(options, connection);
        var nodes = new[]
        {
            new ServiceNode("A", options.Port, settings, Path.Combine(logs, "node-A.log")),
            new ServiceNode("B", options.Port + 1, settings, Path.Combine(logs, "node-B.log")),
        };
        var invariants = new Invariants(data, Schema);
        var samples = new List<Sample>();
        var kills = new List<Kill>();
        var random = new Random(options.Seed);
        var campaigns = Plan(options, random);
        try
        {
            // The first node creates the schema; the second starts once it exists.
            await nodes[0].StartAsync(TimeSpan.FromMinutes(2));
            await nodes[1].StartAsync(TimeSpan.FromMinutes(2));
            var tokens = new Dictionary<string, string>();
            foreach (var tenant in Tenants) tokens[tenant] = await DevTokenAsync(tenant, $"soak@{tenant}.example");
            using var api = new SoakApi(nodes, tokens);

            var runStart = DateTimeOffset.UtcNow;
            using var settle = new CancellationTokenSource();
            var scripts = campaigns.Select(c => RunScriptAsync(c, api, invariants, runStart, settle.Token, log)).ToArray();
            using var end = new CancellationTokenSource(options.Duration);
            var killer = KillLoopAsync(options, nodes, runStart, kills, log, end.Token);
            using var sampling = new CancellationTokenSource();
            var sampler = SampleLoopAsync(options, data, nodes, campaigns, invariants, samples, runStart, log, sampling.Token);

            await killer; // returns when the run's duration is over, with both nodes up
            log.WriteLine($"soak: {options.Duration.TotalMinutes:0.#} min over; waiting up to {options.Settle.TotalSeconds:0} s for every campaign to finish");
            var settleWatch = Stopwatch.StartNew();
            settle.CancelAfter(options.Settle);
            await Task.WhenAll(scripts);
            var settleSeconds = settleWatch.Elapsed.TotalSeconds;
            foreach (var stranded in campaigns.Where(c => !c.Finished))
                invariants.Fail($"campaign {stranded.Index} ({stranded.Id}, {stranded.Fate}) stranded: still {stranded.LastStatus ?? "unknown"} " +
                                $"{options.Settle.TotalSeconds:0} s after the run (steps: {string.Join("; ", stranded.Steps)})");

            // The read models catch up, then one more sample and the final checks.
            await WaitForReadModelsAsync(data, TimeSpan.FromMinutes(2), log);
            await sampling.CancelAsync();
            await sampler;
            var (claims, _, _) = await invariants.CheckEventsAsync();
            var last = await new Sampler(data, Schema, nodes).TakeAsync(runStart, campaigns, claims);
            foreach (var campaign in campaigns.Where(c => c.Finished))
            {
                var report = await api.GetAsync(campaign.Tenant, $"/api/campaigns/{campaign.Id}/report");
                if (report.Ok) await invariants.CheckFinishedAsync(campaign, report.Body!.Value);
                else invariants.Fail($"campaign {campaign.Index} ({campaign.Id}): final report answered {report}");
            }

            foreach (var node in nodes) await node.StopAsync(TimeSpan.FromSeconds(30));
            var rebuildEqual = await CompareWithRebuildAsync(connection, logs, invariants, log);

            var outcomes = campaigns.GroupBy(c => $"{c.Fate} -> {c.LastStatus ?? "unknown"}").OrderBy(g => g.Key).ToDictionary(g => g.Key, g => g.Count());
            return new SoakResult(options.ToString(), samples, kills, outcomes, campaigns.Count, campaigns.Count(c => c.Finished),
                invariants.ReportsChecked, last.Events, rebuildEqual, settleSeconds, api.TransportFailures, api.Retries,
                api.ServerErrors, LoggedErrors(logs), invariants.Failures);
        }
        finally
        {
            foreach (var node in nodes) await node.DisposeAsync();
        }
    }

    private static List<CampaignScript> Plan(SoakOptions options, Random random)
    {
        var campaigns = new List<CampaignScript>();
        for (var i = 0; i < options.Campaigns; i++)
        {
            var roll = random.NextDouble();
            var fate = roll switch
            {
                < 0.40 => Fate.Send,
                < 0.55 => Fate.PauseResume,
                < 0.65 => Fate.PauseCancel,
                < 0.75 => Fate.CancelBeforeSend,
                _ => Fate.CancelMidSend,
            };
            var list = $"s{10 * (1 + random.Next(10))}"; // s10 .. s100: 10% .. 100% of the contacts
            var startAt = TimeSpan.FromSeconds(random.NextDouble() * options.Duration.TotalSeconds * 0.8);
            campaigns.Add(new CampaignScript(i, Tenants[i % Tenants.Length], list, fate, startAt, new Random(random.Next()), options));
        }
        return campaigns;
    }

    private static Dictionary<string, string> NodeSettings(SoakOptions options, string connection)
    {
        var settings = new Dictionary<string, string>
        {
            ["Campaigns:ConnectionString"] = connection,
            ["Campaigns:Schema"] = Schema,
            ["Campaigns:Roles"] = "Api,Sender,Projections",
            ["Campaigns:DaemonMode"] = "HotCold",
            ["Campaigns:Local:Contacts"] = options.MaxRecipients.ToString(CultureInfo.InvariantCulture),
            ["Campaigns:Local:Latency"] = options.ProviderLatency.ToString("c", CultureInfo.InvariantCulture),
            ["Campaigns:Sending:MessagesPerMinutePerCampaign"] = options.MessagesPerMinutePerCampaign.ToString(CultureInfo.InvariantCulture),
            ["Campaigns:Sending:ClaimTimeout"] = options.ClaimTimeout.ToString("c", CultureInfo.InvariantCulture),
            ["Campaigns:Sending:ReconcileInterval"] = "00:00:10",
            // The soak measures sending under failures, not the per-tenant request limit.
            ["Campaigns:Auth:RequestsPerMinutePerTenant"] = "100000",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = "Information",
        };
        for (var share = 10; share <= 100; share += 10)
            settings[$"Campaigns:Local:Lists:s{share}"] = (share / 100.0).ToString(CultureInfo.InvariantCulture);
        return settings;
    }

    private static async Task RunScriptAsync(CampaignScript campaign, SoakApi api, Invariants invariants, DateTimeOffset runStart,
        CancellationToken settle, TextWriter log)
    {
        try
        {
            await campaign.RunAsync(api, invariants, runStart, settle);
        }
        catch (OperationCanceledException) when (settle.IsCancellationRequested)
        {
            // Not finished within the settle bound: reported as stranded.
        }
        catch (Exception e)
        {
            invariants.Fail($"campaign {campaign.Index} ({campaign.Id}, {campaign.Fate}): {e.GetType().Name}: {e.Message}");
            log.WriteLine(e);
        }
    }

    /// <summary>Every <see cref="SoakOptions.KillEvery"/> (from a third of it, then ±20%), SIGKILL the next node, restart it.</summary>
    private static async Task KillLoopAsync(SoakOptions options, ServiceNode[] nodes, DateTimeOffset runStart, List<Kill> kills,
        TextWriter log, CancellationToken end)
    {
        var random = new Random(options.Seed + 1);
        var next = 0;
        while (true)
        {
            var wait = options.KillEvery * (0.8 + 0.4 * random.NextDouble());
            try { await Task.Delay(wait, end); }
            catch (OperationCanceledException) { return; }
            var node = nodes[next++ % nodes.Length];
            var wasLeader = await node.RunsProjectionsAsync() == true;
            var minute = (DateTimeOffset.UtcNow - runStart).TotalMinutes;
            var watch = Stopwatch.StartNew();
            await node.KillAsync();
            log.WriteLine($"soak: {minute:N1} min: SIGKILL node {node.Name}{(wasLeader ? " (the projection leader)" : "")}");
            await Task.Delay(options.RestartAfter, CancellationToken.None);
            await node.StartAsync(TimeSpan.FromMinutes(2));
            kills.Add(new Kill(minute, node.Name, wasLeader, watch.Elapsed.TotalSeconds));
            log.WriteLine($"soak: node {node.Name} answers again {watch.Elapsed.TotalSeconds:N1} s after the kill");
        }
    }

    private static async Task SampleLoopAsync(SoakOptions options, NpgsqlDataSource data, ServiceNode[] nodes, List<CampaignScript> campaigns,
        Invariants invariants, List<Sample> samples, DateTimeOffset runStart, TextWriter log, CancellationToken stop)
    {
        var sampler = new Sampler(data, Schema, nodes);
        log.WriteLine(Sampler.Header);
        while (!stop.IsCancellationRequested)
        {
            try { await Task.Delay(options.SampleEvery, stop); }
            catch (OperationCanceledException) { return; }
            try
            {
                var (claims, _, _) = await invariants.CheckEventsAsync();
                var sample = await sampler.TakeAsync(runStart, campaigns, claims);
                lock (samples) samples.Add(sample);
                log.WriteLine(Sampler.Row(sample));
            }
            catch (NpgsqlException e)
            {
                log.WriteLine($"soak: sample skipped: {e.Message}");
            }
        }
    }

    private static async Task WaitForReadModelsAsync(NpgsqlDataSource data, TimeSpan patience, TextWriter log)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < patience)
        {
            await using var command = data.CreateCommand($"""
                select (select coalesce(max(seq_id), 0) from {Schema}.mt_events)
                     - {Sampler.ReadModelFloor(Schema)}
                """);
            if (Convert.ToInt64(await command.ExecuteScalarAsync()) <= 0) return;
            await Task.Delay(500);
        }
        log.WriteLine($"soak: the read models were still behind after {patience.TotalSeconds:0} s");
    }

    /// <summary>The live read models (every document of the three) against a rebuild from the events alone.</summary>
    private static async Task<bool> CompareWithRebuildAsync(string connection, string logs, Invariants invariants, TextWriter log)
    {
        await using var store = DocumentStore.For(opts =>
        {
            opts.Connection(connection);
            opts.DatabaseSchemaName = Schema;
            opts.AddCampaigns();
        });
        var live = await ReadModelSnapshot.TakeAsync(store);
        var watch = Stopwatch.StartNew();
        await ReadModelSnapshot.RebuildAllAsync(store, TimeSpan.FromMinutes(5));
        var rebuilt = await ReadModelSnapshot.TakeAsync(store);
        log.WriteLine($"soak: rebuilt the read models ({ReadModelSnapshot.CampaignCount(rebuilt)} campaigns) in {watch.Elapsed.TotalSeconds:N1} s");
        if (live == rebuilt) return true;
        await File.WriteAllTextAsync(Path.Combine(logs, "read-models-live.json"), live);
        await File.WriteAllTextAsync(Path.Combine(logs, "read-models-rebuilt.json"), rebuilt);
        var at = Enumerable.Range(0, Math.Min(live.Length, rebuilt.Length)).FirstOrDefault(i => live[i] != rebuilt[i]);
        invariants.Fail($"the live read models differ from a rebuild at character {at}: live ...{Around(live, at)}... rebuilt ...{Around(rebuilt, at)}... " +
                        $"(both written to {logs})");
        return false;
    }

    /// <summary>
    /// The errors the nodes logged ("fail:" lines), counted by logger category and the first exception line after it:
    /// what the service retried or gave up on (an invariant that held despite them is still worth reading about).
    /// </summary>
    private static Dictionary<string, int> LoggedErrors(string logs)
    {
        var counts = new Dictionary<string, int>();
        foreach (var file in Directory.GetFiles(logs, "node-*.log"))
        {
            string? category = null;
            var lookahead = 0;
            foreach (var line in File.ReadLines(file))
            {
                // The service's console lines start with their time (appsettings.json).
                if (System.Text.RegularExpressions.Regex.Match(line, @"^(?:\d{4}-\d\d-\d\dT[\d:.]+Z )?fail: (?<category>[^\[]*)") is { Success: true } failed)
                {
                    if (category is not null) Count(category);
                    category = failed.Groups["category"].Value;
                    lookahead = 30;
                }
                else if (category is not null && (line.Contains("Exception (", StringComparison.Ordinal) || line.Contains("Exception: ", StringComparison.Ordinal)))
                {
                    var text = line.Trim();
                    Count($"{category}: {(text.Length > 140 ? text[..140] + "..." : text)}");
                    category = null;
                }
                else if (category is not null && --lookahead == 0)
                {
                    Count(category);
                    category = null;
                }
            }
            if (category is not null) Count(category);
        }
        return counts.OrderByDescending(c => c.Value).ToDictionary(c => c.Key, c => c.Value);

        void Count(string key) => counts[key] = counts.GetValueOrDefault(key) + 1;
    }

    private static string Around(string text, int at) => text.Substring(Math.Max(0, at - 120), Math.Min(240, text.Length - Math.Max(0, at - 120)));

    private static async Task RecreateDatabaseAsync(string server, string database)
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(server) { Database = "postgres", Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        await using (var drop = new NpgsqlCommand($"drop database if exists \"{database}\" with (force)", connection)) await drop.ExecuteNonQueryAsync();
        await using (var create = new NpgsqlCommand($"create database \"{database}\"", connection)) await create.ExecuteNonQueryAsync();
    }

    /// <summary>A development bearer token from the service's own command (what <c>bash eng/serve.sh token</c> runs).</summary>
    private static async Task<string> DevTokenAsync(string tenant, string actor)
    {
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "EventSourcedCampaigns.Service.dll"), "dev-token", "--tenant", tenant, "--actor", actor])
        {
            RedirectStandardOutput = true, WorkingDirectory = AppContext.BaseDirectory,
        };
        using var process = Process.Start(start)!;
        var token = (await process.StandardOutput.ReadToEndAsync()).Trim();
        await process.WaitForExitAsync();
        return process.ExitCode == 0 && token.Length > 0 ? token : throw new InvalidOperationException($"dev-token exited with {process.ExitCode}");
    }

    public static string ToJson(SoakResult result) => JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true });
}
