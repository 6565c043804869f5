using System.Diagnostics;
using System.Text.Json;

namespace EventSourcedCampaigns.Benchmarks;

/// <summary>Every figure of docs/benchmarks.md with its baseline measured in the same run; never asserted, only reported.</summary>
public static class Harness
{
    /// <summary>The figures a complete run reports (names start with these).</summary>
    public static readonly string[] Figures =
    [
        "send pipeline, 1 campaign: recipients/s", "send pipeline, 1 campaign: batches/s",
        "send pipeline, 16 campaigns: recipients/s", "send pipeline, 16 campaigns: batches/s",
        "cancel (a) accepted -> no further claim (p50)", "cancel (a) accepted -> no further claim (p99)", "cancel (a) accepted -> no further claim (max)",
        "cancel (b) cancel -> CancelledDuringSend (p50)", "cancel (b) cancel -> CancelledDuringSend (p99)", "cancel (b) cancel -> CancelledDuringSend (max)",
        "cancel: batches claimed after the cancel commit",
        "write-model load+decide",
        "scheduling ",
        "rebuild all read models",
        "projection lag while sending (p50)", "projection lag while sending (p99)",
        "projection lag while sending, separate worker (p50)", "projection lag while sending, separate worker (p99)",
        "memory: worker peak RSS, rebuild", "memory: sender peak RSS, 16-campaign send",
        "smtp: recipients/s through SmtpDispatcher", "smtp: capturing server CPU while sending",
        "scale: scheduling ", "scale: sending ", "memory: peak RSS, scheduling ", "memory: peak RSS, sending ",
        "list: Campaigns query, ",
    ];

    /// <summary>The phases, each run in a child process of its own so that its peak RSS is its own.</summary>
    public static readonly string[] Phases = ["send", "lag", "writemodel", "scheduling", "rebuild", "smtp", "scale", "list"];

    public static async Task<Result[]> RunPhaseAsync(string phase, string connection, bool quick) => phase switch
    {
        "send" => await Send.RunAsync(connection, quick),
        "lag" => await Lag.RunAsync(connection, quick),
        "writemodel" => await WriteModelLoad.RunAsync(connection, quick),
        "scheduling" => await Scheduling.RunAsync(connection, quick),
        "rebuild" => await Rebuild.RunAsync(connection, quick),
        "smtp" => await SmtpDelivery.RunAsync(quick),
        "scale" => await Scale.RunAsync(connection, quick),
        "list" => await ListQuery.RunAsync(connection, quick),
        _ => throw new ArgumentOutOfRangeException(nameof(phase), phase, "Unknown phase."),
    };

    /// <summary>Run every phase (each in a child process: dotnet this-assembly --phase X), print the table, write the JSON.</summary>
    public static async Task<Report> RunAsync(string connection, bool quick, string output)
    {
        var results = new List<Result>();
        foreach (var phase in Phases)
        {
            var file = Path.Combine(Path.GetTempPath(), $"bench-{phase}-{Guid.NewGuid():N}.json");
            var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
            {
                ArgumentList = { typeof(Harness).Assembly.Location, "--phase", phase, "--output", file },
                UseShellExecute = false,
            };
            if (quick) start.ArgumentList.Add("--quick");
            start.Environment["CAMPAIGNS_POSTGRES"] = connection;
            using var child = Process.Start(start)!;
            await child.WaitForExitAsync();
            if (child.ExitCode != 0) throw new InvalidOperationException($"Benchmark phase '{phase}' failed (exit code {child.ExitCode}).");
            results.AddRange(JsonSerializer.Deserialize<Result[]>(await File.ReadAllTextAsync(file))!);
            File.Delete(file);
        }

        var report = new Report(quick ? "quick" : "full", await MachineAsync(connection), results);
        Console.WriteLine();
        // The machine first: a figure is read against the server's settings (fsync above all).
        foreach (var (setting, value) in report.Machine) Console.WriteLine($"{setting + ":",-32} {value}");
        Console.WriteLine();
        Console.WriteLine($"{"figure",-64} {"value",14} {"baseline",14} {"ratio",7}  unit");
        foreach (var r in results)
            Console.WriteLine($"{r.Name,-64} {r.Value,14:N2} {r.Baseline,14:N2} {r.Ratio,7:N2}  {r.Unit}");
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
        await File.WriteAllTextAsync(output, JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine($"results: {Path.GetFullPath(output)}");
        return report;
    }

    /// <summary>
    /// Two runs side by side (eng/bench.sh --fsync both): each figure's value and ratio in run A and run B, and B's value
    /// over A's. The header names each run by its server's fsync and synchronous_commit settings.
    /// </summary>
    public static void Compare(Report a, Report b)
    {
        static string Name(Report r) =>
            $"fsync {r.Machine.GetValueOrDefault("postgres fsync", "?")}, synchronous_commit {r.Machine.GetValueOrDefault("postgres synchronous_commit", "?")}";
        Console.WriteLine();
        Console.WriteLine($"A: {Name(a)}; B: {Name(b)}");
        Console.WriteLine($"{"figure",-64} {"value A",14} {"ratio A",7} {"value B",14} {"ratio B",7} {"B / A",7}  unit");
        foreach (var r in a.Results)
        {
            var other = b.Results.FirstOrDefault(x => x.Name == r.Name);
            var valueB = other is null ? "-" : other.Value.ToString("N2");
            var ratioB = other is null ? "-" : other.Ratio.ToString("N2");
            var change = other is null || r.Value == 0 ? "-" : (other.Value / r.Value).ToString("N2");
            Console.WriteLine($"{r.Name,-64} {r.Value,14:N2} {r.Ratio,7:N2} {valueB,14} {ratioB,7} {change,7}  {r.Unit}");
        }
    }

    private static async Task<Dictionary<string, string>> MachineAsync(string connection)
    {
        var machine = new Dictionary<string, string>
        {
            ["cores"] = Environment.ProcessorCount.ToString(),
            ["memory"] = $"{GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 1024 / 1024 / 1024.0:N1} GiB",
            ["os"] = Environment.OSVersion.ToString(),
            [".NET"] = Environment.Version.ToString(),
        };
        foreach (var setting in new[] { "server_version", "fsync", "synchronous_commit", "shared_buffers", "max_connections", "shared_preload_libraries" })
            machine[$"postgres {setting}"] = await Sql.ScalarAsync<string>(connection, $"show {setting}");
        return machine;
    }
}

public sealed record Report(string Mode, Dictionary<string, string> Machine, IReadOnlyList<Result> Results);

public sealed record Result(string Name, double Value, double Baseline, string Unit)
{
    public double Ratio => Baseline == 0 ? 0 : Value / Baseline;
}
