namespace EventSourcedCampaigns.Soak;

/// <summary>
/// <c>bash eng/soak.sh [minutes] [options]</c> runs this with CAMPAIGNS_POSTGRES set. Prints the time series as it goes,
/// then a summary; writes the results as JSON (--output, default soak-results.json); exits 1 if an invariant failed.
/// <c>--summarize soak-results.json</c> prints the summary of a saved run again.
/// </summary>
public static class SoakProgram
{
    public static async Task<int> Main(string[] args)
    {
        if (args is ["--summarize", var file])
        {
            SoakResult? saved;
            try { saved = System.Text.Json.JsonSerializer.Deserialize<SoakResult>(await File.ReadAllTextAsync(file)); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Text.Json.JsonException) { saved = null; }
            if (saved?.Samples is null || saved.Kills is null)
            {
                Console.Error.WriteLine($"{file} is not the results file of a soak run (--output of bash eng/soak.sh).");
                return 2;
            }
            Console.WriteLine(Summary(saved));
            return saved.Passed ? 0 : 1;
        }
        var server = Environment.GetEnvironmentVariable("CAMPAIGNS_POSTGRES");
        if (string.IsNullOrEmpty(server))
        {
            Console.Error.WriteLine("Set CAMPAIGNS_POSTGRES (eng/soak.sh does).");
            return 2;
        }
        SoakOptions options;
        try { options = SoakOptions.Parse(args, server); }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            Console.Error.WriteLine($"{e.Message}\nusage: bash eng/soak.sh [minutes] [--campaigns N] [--max-recipients N] [--batch-size N] [--latency-ms N] [--pause-lead S] [--max-pause S] " +
                                    "[--rate N] [--kill-every S] [--restart-after S] [--sample-every S] [--settle S] [--claim-timeout S] [--seed N] " +
                                    "[--port N] [--database NAME] [--output FILE]");
            return 2;
        }

        SoakResult result;
        try { result = await SoakRun.RunAsync(options, Console.Out); }
        catch (PortInUseException e)
        {
            Console.Error.WriteLine(e.Message);
            return 2;
        }
        await File.WriteAllTextAsync(options.Output, SoakRun.ToJson(result));
        Console.WriteLine();
        Console.WriteLine(Summary(result));
        Console.WriteLine($"results: {Path.GetFullPath(options.Output)}");
        return result.Passed ? 0 : 1;
    }

    /// <summary>The time series in windows (5 minutes for runs of 10 minutes or more, else 1): a Markdown table.</summary>
    private static IEnumerable<string> Windows(SoakResult r)
    {
        var width = r.Samples[^1].Minute >= 10 ? 5 : 1;
        yield return "";
        yield return "| minutes | recipients/s (mean) | lag ms (median / max) | events behind (max) | RSS A MiB (max) | RSS B MiB (max) | kills |";
        yield return "| --- | ---: | ---: | ---: | ---: | ---: | --- |";
        foreach (var window in r.Samples.GroupBy(s => (int)(s.Minute / width)).OrderBy(g => g.Key))
        {
            var from = window.Key * width;
            var samples = window.ToArray();
            var lags = samples.Select(s => s.LagMs).Order().ToArray();
            var kills = r.Kills.Where(k => k.Minute >= from && k.Minute < from + width).Select(k => k.Node + (k.WasLeader ? " (leader)" : "")).ToArray();
            static string Max(IEnumerable<double?> values) => values.OfType<double>().DefaultIfEmpty().Max().ToString("N0");
            yield return $"| {from}-{from + width} | {samples.Average(s => s.RecipientsPerSecond):N0} | {lags[lags.Length / 2]:N0} / {lags[^1]:N0} | " +
                         $"{samples.Max(s => s.LagEvents):N0} | {Max(samples.Select(s => s.RssAMiB))} | {Max(samples.Select(s => s.RssBMiB))} | " +
                         $"{(kills.Length == 0 ? "" : string.Join(", ", kills))} |";
        }
        yield return "";
    }

    /// <summary>The run in a few lines: the time series' ranges, the kills, the outcomes, the invariants.</summary>
    public static string Summary(SoakResult r)
    {
        var lines = new List<string> { $"settings: {r.Settings}" };
        if (r.Samples.Count > 0)
        {
            static string Range(IEnumerable<double> values, string format)
            {
                var sorted = values.Order().ToArray();
                return $"median {sorted[sorted.Length / 2].ToString(format)}, p95 {sorted[(int)(sorted.Length * 0.95)].ToString(format)}, max {sorted[^1].ToString(format)}";
            }
            var last = r.Samples[^1];
            var minutes = last.Minute;
            lines.Add($"recipients recorded: {last.RecipientsRecorded:N0} in {minutes:N1} min ({last.RecipientsRecorded / (minutes * 60):N0}/s on average); " +
                      $"per sample: {Range(r.Samples.Select(s => s.RecipientsPerSecond), "N0")} recipients/s");
            lines.Add($"projection lag (oldest unapplied event): {Range(r.Samples.Select(s => s.LagMs), "N0")} ms; events behind: {Range(r.Samples.Select(s => (double)s.LagEvents), "N0")}");
            foreach (var (node, rss) in new[] { ("A", r.Samples.Select(s => s.RssAMiB)), ("B", r.Samples.Select(s => s.RssBMiB)) })
            {
                var up = rss.OfType<double>().ToArray();
                if (up.Length > 0)
                    lines.Add($"RSS node {node}: first {up[0]:N0} MiB, {Range(up, "N0")} MiB, last {up[^1]:N0} MiB");
            }
            lines.Add($"events: {last.Events:N0}");
            lines.AddRange(Windows(r));
        }
        lines.Add($"kills: {r.Kills.Count} ({r.Kills.Count(k => k.WasLeader)} of the projection leader); back up after " +
                  (r.Kills.Count > 0 ? $"{r.Kills.Min(k => k.DownSeconds):N1}-{r.Kills.Max(k => k.DownSeconds):N1} s" : "-"));
        lines.Add($"campaigns: {r.Finished} of {r.Campaigns} finished ({r.SettleSeconds:N0} s after the run for the last); " +
                  string.Join(", ", r.Outcomes.Select(o => $"{o.Key}: {o.Value}")));
        lines.Add($"requests: {r.TransportFailures:N0} failed on a dead node and went to the other, {r.Retries:N0} retried after 429/5xx, " +
                  $"{r.ServerErrors.Count} answered 500/502");
        foreach (var error in r.ServerErrors.Take(10)) lines.Add($"  500/502: {error}");
        lines.Add($"errors the nodes logged (retried by the service unless an invariant says otherwise): {r.LoggedErrors.Values.Sum():N0}");
        foreach (var (error, count) in r.LoggedErrors.Take(12)) lines.Add($"  {count,5} x {error}");
        lines.Add($"live read models equal a rebuild: {r.RebuildEqual switch { true => "yes", false => "NO", null => "not compared" }}");
        lines.Add(r.Passed
            ? $"invariants: all held ({r.ReportsChecked:N0} reports checked as read; 0 claims after a cancel, no batch claimed or recorded twice, every total adds up, every campaign ended as expected)"
            : $"invariants: {r.Failures.Count} FAILED");
        foreach (var failure in r.Failures.Take(50)) lines.Add($"  {failure}");
        return string.Join(Environment.NewLine, lines);
    }
}
