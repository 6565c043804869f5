using EventSourcedCampaigns.IntegrationTests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace EventSourcedCampaigns.Soak.Tests;

/// <summary>
/// The soak run of eng/soak.sh, short: 45 s, 8 small campaigns, a node SIGKILLed about every 20 s. Every
/// invariant must hold (no claim after a cancel, no batch claimed or recorded twice, every total adds up, every
/// campaign ends as its commands' answers promise within the settle bound, the read models equal a rebuild).
/// Speeds, lag and memory are printed, never asserted.
/// </summary>
public sealed class ShortSoakTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_short_soak_with_kills_keeps_every_invariant()
    {
        var folder = Directory.CreateTempSubdirectory("soak-");
        var log = new StringWriter();
        try
        {
            var options = new SoakOptions
            {
                Server = TestDatabase.ConnectionString,
                Database = "t_soak_run",
                Duration = TimeSpan.FromSeconds(45),
                Campaigns = 8,
                MaxRecipients = 2_000,
                BatchSize = 100,
                PauseLead = TimeSpan.FromSeconds(15), // small audiences are Scheduled within seconds
                MaxPause = TimeSpan.FromSeconds(10),
                KillEvery = TimeSpan.FromSeconds(20),
                SampleEvery = TimeSpan.FromSeconds(10),
                Settle = TimeSpan.FromMinutes(4), // a bound for a loaded CI machine; usually seconds
                Port = FreePorts.Take(2), // the nodes listen on N and N+1, restarted on them after each kill
                Output = Path.Combine(folder.FullName, "soak-results.json"),
            };
            var result = await SoakRun.RunAsync(options, TextWriter.Synchronized(log));
            output.WriteLine(log.ToString());
            output.WriteLine(SoakProgram.Summary(result));

            Assert.True(result.Passed, string.Join(Environment.NewLine, result.Failures));
            Assert.Equal(options.Campaigns, result.Finished);
            Assert.True(result.RebuildEqual);
            Assert.NotEmpty(result.Kills);
            Assert.NotEmpty(result.Samples);
        }
        catch (Exception) when (Write(log))
        {
            throw;
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    private bool Write(StringWriter log)
    {
        output.WriteLine(log.ToString());
        return false;
    }
}
