using System.Text.RegularExpressions;

namespace EventSourcedCampaigns.Demo;

/// <summary>Command-line options: --audience, --send-audience, --batch-size, --parallelism, --latency-ms, --schema.</summary>
public sealed record DemoOptions(long Audience, long SendAudience, int BatchSize, int Parallelism, int LatencyMs, string Schema)
{
    public const string Usage = """
        EventSourcedCampaigns demo: the Klaviyo and PushPushGo cancel scenarios, for real, against PostgreSQL.

          --audience N       recipients of the large campaigns scheduled (default 1000000)
          --send-audience N  recipients of the campaigns that send (default 200000)
          --batch-size N     recipients per batch (default 1000)
          --parallelism N    batches of one campaign with the provider at once (default 8)
          --latency-ms N     the fake provider's latency per batch (default 25)
          --schema NAME      PostgreSQL schema to use (default campaigns_demo; wiped at start)

        So that there is something left to cancel: --audience at least 100 batches, --send-audience at least
        10 x --parallelism batches (the defaults are 1,000 and 200 batches).
        """;

    public static DemoOptions Parse(string[] args)
    {
        var values = new Dictionary<string, string>();
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
                throw new ArgumentException($"Unexpected argument '{args[i]}'.");
            values[args[i][2..]] = args[++i];
        }
        var known = new[] { "audience", "send-audience", "batch-size", "parallelism", "latency-ms", "schema" };
        if (values.Keys.FirstOrDefault(k => !known.Contains(k)) is { } unknown) throw new ArgumentException($"Unknown option --{unknown}.");

        long Number(string name, long fallback, long min, long max) =>
            !values.TryGetValue(name, out var raw) ? fallback
            : long.TryParse(raw, out var n) && n >= min && n <= max ? n
            : throw new ArgumentException($"--{name} must be a whole number from {min:N0} to {max:N0}, not '{raw}'.");

        var options = new DemoOptions(
            Number("audience", 1_000_000, 1_000, 50_000_000),
            Number("send-audience", 200_000, 1_000, 10_000_000),
            (int)Number("batch-size", 1_000, 10, 100_000),
            (int)Number("parallelism", 8, 1, 64),
            (int)Number("latency-ms", 25, 0, 10_000),
            UsableSchema(values.GetValueOrDefault("schema", "campaigns_demo")));
        // Smaller, the audience is prepared before the cancel meant for its preparation arrives, and every batch is claimed
        // before the cancel meant for the middle of the send: the demo would fail its own expectations.
        if (options.Audience < 100L * options.BatchSize)
            throw new ArgumentException($"--audience must be at least 100 batches ({100L * options.BatchSize:N0} with --batch-size {options.BatchSize:N0}), so that its preparation can be cancelled midway.");
        if (options.SendAudience < 10L * options.Parallelism * options.BatchSize)
            throw new ArgumentException($"--send-audience must be at least 10 x --parallelism batches ({10L * options.Parallelism * options.BatchSize:N0} with --parallelism {options.Parallelism} and --batch-size {options.BatchSize:N0}), so that its send can be cancelled midway.");
        return options;
    }

    /// <summary>
    /// A schema the demo may drop and create: a plain lower-case name (it is written into SQL as it is), and none that
    /// PostgreSQL or other programs rely on (`--schema public` dropped the database's public schema).
    /// </summary>
    private static string UsableSchema(string name) =>
        Regex.IsMatch(name, "^[a-z_][a-z0-9_]{0,62}$") && name is not ("public" or "information_schema") && !name.StartsWith("pg_", StringComparison.Ordinal)
            ? name
            : throw new ArgumentException($"--schema must be a lower-case name of letters, digits and underscores (at most 63) other than public, information_schema and pg_*, since the demo drops it: not '{name}'.");
}
