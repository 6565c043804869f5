using System.Text.Json;
using EventSourcedCampaigns.Benchmarks;
using EventSourcedCampaigns.Marten;

// bash eng/bench.sh [quick]: every figure with its baseline, a table on stdout, benchmark-results.json.
// --phase X runs one phase and writes its results to --output (the harness runs each phase that way);
// --phase worker --schema S is the lag phase's projection worker (only the async daemon, until stdin closes).
// --compare A.json B.json prints two runs' tables side by side (eng/bench.sh --fsync both: fsync off, fsync on).
var quick = args.Contains("--quick");
string? Option(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
if (args.FirstOrDefault() == "--compare" && args.Length == 3)
{
    Harness.Compare(JsonSerializer.Deserialize<Report>(await File.ReadAllTextAsync(args[1]))!,
        JsonSerializer.Deserialize<Report>(await File.ReadAllTextAsync(args[2]))!);
    return;
}
var output = Option("--output") ?? "benchmark-results.json";
// Both sides (the library and the hand-written baselines) connect as the service does: with Npgsql's automatic preparation.
var connection = CampaignConnectionStrings.WithAutoPrepare(Environment.GetEnvironmentVariable("CAMPAIGNS_POSTGRES")
    ?? throw new InvalidOperationException("Set CAMPAIGNS_POSTGRES (eng/bench.sh does)."));
if (Option("--phase") == "worker")
    await Lag.WorkerAsync(connection, Option("--schema") ?? throw new InvalidOperationException("--phase worker needs --schema."));
else if (Option("--phase") is { } phase)
    await File.WriteAllTextAsync(output, JsonSerializer.Serialize(await Harness.RunPhaseAsync(phase, connection, quick)));
else
    await Harness.RunAsync(connection, quick, output);
