using EventSourcedCampaigns.Benchmarks;
using EventSourcedCampaigns.IntegrationTests.Infrastructure;
using Xunit;

namespace EventSourcedCampaigns.Benchmarks.Tests;

/// <summary>
/// The harness in quick mode, as <c>bash eng/bench.sh quick</c> runs it: it must run to the end and report every
/// figure with a baseline. Speeds are never asserted (they belong in docs/benchmarks.md); the one exact value is the
/// cancel guarantee, which is correctness: no batch is ever claimed after a cancel is committed.
/// </summary>
public sealed class QuickBenchmarkTests
{
    [Fact]
    public async Task Quick_mode_reports_every_figure_with_its_baseline()
    {
        var output = Path.Combine(Path.GetTempPath(), $"benchmark-results-{Guid.NewGuid():N}.json");
        try
        {
            var report = await Harness.RunAsync(TestDatabase.ConnectionString, quick: true, output);

            Assert.Equal("quick", report.Mode);
            foreach (var figure in Harness.Figures)
                Assert.Contains(report.Results, r => r.Name.StartsWith(figure, StringComparison.Ordinal));
            Assert.All(report.Results, r =>
            {
                Assert.True(double.IsFinite(r.Value) && r.Value >= 0, $"{r.Name}: value {r.Value}");
                Assert.True(double.IsFinite(r.Baseline) && r.Baseline > 0, $"{r.Name}: baseline {r.Baseline}");
            });
            Assert.Equal(0, report.Results.Single(r => r.Name.StartsWith("cancel: batches claimed after the cancel commit", StringComparison.Ordinal)).Value);
            Assert.Contains("postgres fsync", report.Machine.Keys);
            Assert.True(File.Exists(output));
        }
        finally
        {
            File.Delete(output);
        }
    }
}
