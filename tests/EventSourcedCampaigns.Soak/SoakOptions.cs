using System.Globalization;

namespace EventSourcedCampaigns.Soak;

/// <summary>What one soak run does. The defaults are the published 30-minute run (docs/benchmarks.md).</summary>
public sealed record SoakOptions
{
    /// <summary>Npgsql connection string of the server; the run creates (and drops first) its own database on it.</summary>
    public required string Server { get; init; }

    /// <summary>The database the run creates on <see cref="Server"/>.</summary>
    public string Database { get; init; } = "soak";

    /// <summary>How long campaigns are started, commanded and nodes killed; then the run settles and checks.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromMinutes(30);

    public int Campaigns { get; init; } = 100;

    /// <summary>The largest audience: the contact base; the lists hold 10%, 20% ... 100% of it.</summary>
    public int MaxRecipients { get; init; } = 20_000;

    public int BatchSize { get; init; } = 250;

    /// <summary>The local provider's time per batch.</summary>
    public TimeSpan ProviderLatency { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Messages a minute one campaign may go out at, per node (Campaigns:Sending:MessagesPerMinutePerCampaign).</summary>
    public int MessagesPerMinutePerCampaign { get; init; } = 60_000;

    /// <summary>Campaigns that will be paused are scheduled this far ahead plus up to as much again (time to be Scheduled first).</summary>
    public TimeSpan PauseLead { get; init; } = TimeSpan.FromSeconds(40);

    /// <summary>A paused campaign stays paused 5 s plus up to this long.</summary>
    public TimeSpan MaxPause { get; init; } = TimeSpan.FromSeconds(40);

    /// <summary>One node is SIGKILLed this often (alternating), and restarted after <see cref="RestartAfter"/>.</summary>
    public TimeSpan KillEvery { get; init; } = TimeSpan.FromMinutes(3);

    public TimeSpan RestartAfter { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How often throughput, lag and memory are sampled and the event-store invariants checked.</summary>
    public TimeSpan SampleEvery { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>After <see cref="Duration"/>: how long every campaign has to reach its expected final status.</summary>
    public TimeSpan Settle { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>A claim with no provider result after this long is recorded as failed (Campaigns:Sending:ClaimTimeout).</summary>
    public TimeSpan ClaimTimeout { get; init; } = TimeSpan.FromMinutes(1);

    public int Seed { get; init; } = 14;

    /// <summary>First of the two consecutive HTTP ports of the nodes.</summary>
    public int Port { get; init; } = 5090;

    /// <summary>Where the JSON results and the nodes' logs go.</summary>
    public string Output { get; init; } = "soak-results.json";

    /// <summary>Parse <c>--minutes 30 --campaigns 100 ...</c>; unknown options are an error.</summary>
    public static SoakOptions Parse(string[] args, string server)
    {
        var options = new SoakOptions { Server = server };
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            double Number()
            {
                var (name, raw) = (args[i], Value());
                return double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && double.IsFinite(n) && n >= 0
                    ? n : throw new ArgumentException($"{name} takes a number of 0 or more, not '{raw}'");
            }
            options = args[i] switch
            {
                "--minutes" => options with { Duration = TimeSpan.FromMinutes(Number()) },
                "--campaigns" => options with { Campaigns = (int)Number() },
                "--max-recipients" => options with { MaxRecipients = (int)Number() },
                "--batch-size" => options with { BatchSize = (int)Number() },
                "--latency-ms" => options with { ProviderLatency = TimeSpan.FromMilliseconds(Number()) },
                "--rate" => options with { MessagesPerMinutePerCampaign = (int)Number() },
                "--pause-lead" => options with { PauseLead = TimeSpan.FromSeconds(Number()) },
                "--max-pause" => options with { MaxPause = TimeSpan.FromSeconds(Number()) },
                "--kill-every" => options with { KillEvery = TimeSpan.FromSeconds(Number()) },
                "--restart-after" => options with { RestartAfter = TimeSpan.FromSeconds(Number()) },
                "--sample-every" => options with { SampleEvery = TimeSpan.FromSeconds(Number()) },
                "--settle" => options with { Settle = TimeSpan.FromSeconds(Number()) },
                "--claim-timeout" => options with { ClaimTimeout = TimeSpan.FromSeconds(Number()) },
                "--seed" => options with { Seed = (int)Number() },
                "--port" => options with { Port = (int)Number() },
                "--database" => options with { Database = Value() },
                "--output" => options with { Output = Value() },
                _ => throw new ArgumentException($"unknown option {args[i]}"),
            };
        }
        return options;
    }

    public override string ToString() =>
        $"{Duration.TotalMinutes:0.#} min, {Campaigns} campaigns of {MaxRecipients / 10:N0}-{MaxRecipients:N0} recipients in batches of {BatchSize}, " +
        $"provider latency {ProviderLatency.TotalMilliseconds:0} ms, {MessagesPerMinutePerCampaign:N0} messages/min per campaign per node, " +
        $"a node SIGKILLed every {KillEvery.TotalSeconds:0} s and restarted after {RestartAfter.TotalSeconds:0} s, " +
        $"samples every {SampleEvery.TotalSeconds:0} s, claim timeout {ClaimTimeout.TotalSeconds:0} s, settle bound {Settle.TotalSeconds:0} s, seed {Seed}";
}
