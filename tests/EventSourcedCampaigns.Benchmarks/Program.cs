using System.Diagnostics;
using EventSourcedCampaigns.Benchmarks;

// Figures with their baselines measured in the same run; never asserted, only reported.
var quick = args.Contains("--quick");
var connection = Environment.GetEnvironmentVariable("CAMPAIGNS_POSTGRES")
    ?? throw new InvalidOperationException("Set CAMPAIGNS_POSTGRES (eng/bench.sh does).");
var results = new List<Result>();

results.AddRange(await WriteModelLoad.RunAsync(connection, quick));
results.AddRange(await Rebuild.RunAsync(connection, quick));

Console.WriteLine();
Console.WriteLine($"{"figure",-58} {"value",14} {"baseline",14} {"ratio",7}");
foreach (var r in results)
    Console.WriteLine($"{r.Name,-58} {r.Value,14:N2} {r.Baseline,14:N2} {r.Ratio,7:N2}  {r.Unit}");

var output = Path.Combine(AppContext.BaseDirectory, "benchmark-results.json");
await File.WriteAllTextAsync(output, System.Text.Json.JsonSerializer.Serialize(new
{
    Machine = new { Environment.ProcessorCount, Os = Environment.OSVersion.ToString(), Dotnet = Environment.Version.ToString() },
    Mode = quick ? "quick" : "full",
    Results = results,
}, new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
Console.WriteLine($"results: {output}");
Console.WriteLine($"peak working set: {Process.GetCurrentProcess().PeakWorkingSet64 / 1024 / 1024} MiB");

public sealed record Result(string Name, double Value, double Baseline, string Unit)
{
    public double Ratio => Baseline == 0 ? 0 : Value / Baseline;
}
