using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace EventSourcedCampaigns.Packaging.Tests;

/// <summary>
/// The docs' C# samples are code the consumer (tests/consumer/ConsumerTemplate) compiles against the packed packages, and
/// the guide's program is code it runs: every C# block of the docs a library user reads must be in the consumer's code,
/// verbatim (indentation aside), so a sample cannot drift from the API. No packing needed: these checks are quick.
/// </summary>
public sealed class DocSamplesTests
{
    public static string Consumer { get; } = Path.Combine(Repo.Root, "tests", "consumer", "ConsumerTemplate");

    /// <summary>The repository's README, the docs and the package READMEs (shown on nuget.org).</summary>
    private static IEnumerable<string> ConsumerDocs =>
        [Path.Combine(Repo.Root, "README.md"),
         .. Directory.GetFiles(Path.Combine(Repo.Root, "docs"), "*.md"),
         .. Directory.GetFiles(Path.Combine(Repo.Root, "src"), "README.md", SearchOption.AllDirectories)];

    private static string Text(string path) => File.ReadAllText(path).ReplaceLineEndings("\n");

    private static IEnumerable<string> Blocks(string markdown, string language) =>
        Regex.Matches(markdown, $@"^```{language}\n(.*?)^```", RegexOptions.Singleline | RegexOptions.Multiline).Select(m => m.Groups[1].Value);

    private static string[] Lines(string code) =>
        code.Split('\n').Select(line => line.Trim()).Where(line => line.Length > 0).ToArray();

    private static bool Holds(string[] code, string[] sample) =>
        Enumerable.Range(0, Math.Max(0, code.Length - sample.Length + 1)).Any(at => code.AsSpan(at, sample.Length).SequenceEqual(sample));

    [Fact]
    public void Every_CSharp_sample_of_the_docs_is_in_the_consumer_verbatim()
    {
        var code = Directory.GetFiles(Consumer, "*.cs").Select(file => Lines(Text(file))).ToList();
        var samples = ConsumerDocs.SelectMany(doc => Blocks(Text(doc), "csharp").Select(block => (Doc: Path.GetRelativePath(Repo.Root, doc), Block: block))).ToList();

        Assert.True(samples.Count >= 13, $"Found only {samples.Count} C# samples: did the docs move?");
        var missing = samples.Where(s => !code.Any(c => Holds(c, Lines(s.Block)))).Select(s => $"{s.Doc}:\n{s.Block}").ToList();
        Assert.True(missing.Count == 0,
            $"These C# samples are not in tests/consumer/ConsumerTemplate, which compiles them against the packed packages; copy them there as they are:\n\n{string.Join("\n", missing)}");
    }

    [Fact]
    public void The_consumer_references_the_packages_of_the_getting_started_guide_at_the_versions_it_names()
    {
        var guide = Text(Path.Combine(Repo.Root, "docs", "getting-started.md"));
        var named = Blocks(guide, "xml").SelectMany(block => Regex.Matches(block, @"<PackageReference Include=""([^""]+)"" Version=""([^""]+)""")
            .Select(m => (Id: m.Groups[1].Value, Version: m.Groups[2].Value))).ToList();
        var consumer = XDocument.Load(Path.Combine(Consumer, "ConsumerTemplate.csproj")).Descendants("PackageReference")
            .ToDictionary(r => r.Attribute("Include")!.Value, r => r.Attribute("Version")!.Value);

        Assert.Contains(named, p => p.Id == "EventSourcedCampaigns.Wolverine");
        foreach (var (id, version) in named)
        {
            Assert.True(consumer.ContainsKey(id), $"The guide references {id}; the consumer does not.");
            // Our packages at the one version (the consumer gets it as $(CampaignsVersion)); others as the consumer pins them.
            Assert.Equal(id.StartsWith("EventSourcedCampaigns", StringComparison.Ordinal) ? Repo.Version : consumer[id], version);
        }
        // Nothing else but the provider packages, whose README samples the consumer compiles: what the guide lists is enough.
        Assert.All(consumer.Keys.Except(named.Select(p => p.Id)), id => Assert.StartsWith("EventSourcedCampaigns.", id));
    }
}
