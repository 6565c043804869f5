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

        return new DemoOptions(
            Number("audience", 1_000_000, 1_000, 50_000_000),
            Number("send-audience", 200_000, 1_000, 10_000_000),
            (int)Number("batch-size", 1_000, 10, 100_000),
            (int)Number("parallelism", 8, 1, 64),
            (int)Number("latency-ms", 25, 0, 10_000),
            values.GetValueOrDefault("schema", "campaigns_demo"));
    }
}
