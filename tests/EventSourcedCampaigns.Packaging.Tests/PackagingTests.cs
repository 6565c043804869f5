using System.IO.Compression;
using System.Reflection.Metadata;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Xunit.Abstractions;

namespace EventSourcedCampaigns.Packaging.Tests;

public sealed class PackagingTests(PackedFeed feed, ITestOutputHelper log) : IClassFixture<PackedFeed>
{
    private void PackSucceeded()
    {
        Assert.True(feed.Pack.ExitCode == 0, $"eng/pack.sh failed ({feed.Pack.ExitCode}):\n{feed.Pack.Output}");
        log.WriteLine($"eng/pack.sh took {feed.Pack.Took.TotalSeconds:F1} s");
    }

    [Fact]
    public void Pack_produces_exactly_the_library_packages_without_warnings()
    {
        PackSucceeded();
        Assert.DoesNotMatch(new Regex(@"warning [A-Z]+\d+", RegexOptions.IgnoreCase), feed.Pack.Output);
        var expected = PackedFeed.LibraryIds.SelectMany(id => new[] { $"{id}.{Repo.Version}.nupkg", $"{id}.{Repo.Version}.snupkg" }).Order();
        Assert.Equal(expected, Directory.GetFiles(feed.Folder).Select(Path.GetFileName).Order()!);
    }

    [Theory]
    [InlineData("EventSourcedCampaigns")]
    [InlineData("EventSourcedCampaigns.Marten")]
    [InlineData("EventSourcedCampaigns.Wolverine")]
    [InlineData("EventSourcedCampaigns.Testing")]
    [InlineData("EventSourcedCampaigns.Smtp")]
    [InlineData("EventSourcedCampaigns.Webhooks")]
    public void Each_package_has_readme_license_docs_symbols_repository_and_the_one_version(string id)
    {
        PackSucceeded();
        using var package = ZipFile.OpenRead(feed.PackagePath(id));
        var metadata = PackedFeed.Nuspec(package, id);
        string? Field(string name) => metadata.Elements().SingleOrDefault(e => e.Name.LocalName == name)?.Value;
        XElement? Element(string name) => metadata.Elements().SingleOrDefault(e => e.Name.LocalName == name);

        Assert.Equal(id, Field("id"));
        Assert.Equal(Repo.Version, Field("version"));
        Assert.Equal("MIT", Field("license"));
        Assert.Equal("expression", Element("license")!.Attribute("type")?.Value);
        Assert.False(string.IsNullOrWhiteSpace(Field("description")));
        // The commit it was built from, and no address: the project has none yet (docs/packages.md).
        Assert.Equal("git", Element("repository")?.Attribute("type")?.Value);
        Assert.Equal(feed.Commit, Element("repository")?.Attribute("commit")?.Value);
        Assert.Null(Element("repository")?.Attribute("url"));
        Assert.Null(Element("projectUrl"));

        Assert.Equal("README.md", Field("readme"));
        using (var readme = new StreamReader(package.GetEntry("README.md")!.Open()))
            Assert.StartsWith($"# {id}\n", readme.ReadToEnd());

        Assert.NotNull(package.GetEntry($"lib/net10.0/{id}.dll"));
        var docs = package.GetEntry($"lib/net10.0/{id}.xml");
        Assert.NotNull(docs);
        using (var xml = docs.Open())
            Assert.Contains(XDocument.Load(xml).Descendants("member"), m => m.Element("summary") is not null);

        // Our own packages depend on each other at exactly this version.
        var ours = metadata.Descendants().Where(e => e.Name.LocalName == "dependency" && e.Attribute("id")!.Value.StartsWith("EventSourcedCampaigns"));
        Assert.All(ours, d => Assert.Equal(Repo.Version, d.Attribute("version")!.Value));

        using var symbols = ZipFile.OpenRead(feed.PackagePath(id, "snupkg"));
        Assert.NotNull(symbols.GetEntry($"lib/net10.0/{id}.pdb"));

        // Built as CI builds: no folder of the machine that packed it, and each source inside the symbols, for a debugger.
        Assert.DoesNotContain(Repo.Root, Encoding.UTF8.GetString(Bytes(package, $"lib/net10.0/{id}.dll")));
        using var pdb = MetadataReaderProvider.FromPortablePdbStream(new MemoryStream(Bytes(symbols, $"lib/net10.0/{id}.pdb")));
        var reader = pdb.GetMetadataReader();
        var embeddedSource = new Guid("0E8A571B-6926-466E-B4AD-8AB04611F5FE");
        Assert.NotEmpty(reader.Documents);
        Assert.All(reader.Documents, document =>
        {
            Assert.StartsWith("/_/", reader.GetString(reader.GetDocument(document).Name));
            Assert.Contains(reader.GetCustomDebugInformation(document), c => reader.GetGuid(reader.GetCustomDebugInformation(c).Kind) == embeddedSource);
        });
    }

    private static byte[] Bytes(ZipArchive package, string entry)
    {
        using var copy = new MemoryStream();
        using (var stream = package.GetEntry(entry)!.Open()) stream.CopyTo(copy);
        return copy.ToArray();
    }

    [Fact]
    public async Task A_consumer_built_from_the_packed_packages_runs_the_getting_started_program_and_the_cancel_scenarios()
    {
        PackSucceeded();
        var app = Path.Combine(feed.Temp, "consumer");
        CopyTemplate(DocSamplesTests.Consumer, app);
        WriteNugetConfig(Path.Combine(app, "nuget.config"));

        // A NuGet packages folder of its own: a package of this version cached by an earlier run can't be used.
        var environment = new Dictionary<string, string>
        {
            ["NUGET_PACKAGES"] = Path.Combine(feed.Temp, "nuget-packages"),
            ["CAMPAIGNS_POSTGRES"] = await Repo.PostgresAsync(),
        };
        var run = await Repo.RunAsync("dotnet", ["run", $"-p:CampaignsVersion={Repo.Version}"], app, environment, TimeSpan.FromMinutes(5));
        log.WriteLine($"dotnet run of the consumer took {run.Took.TotalSeconds:F1} s");
        log.WriteLine(run.Output);

        Assert.True(run.ExitCode == 0, $"the consumer exited with {run.ExitCode}:\n{run.Output}");
        Assert.DoesNotContain("FAILED", run.Output);
        Assert.Contains("ok: getting started: cancel accepted, status Cancelled", run.Output);
        Assert.Contains("ok: the cancellation audit has it: Cancelled", run.Output);
        Assert.Contains("ok: the pipeline started the send at its time and sent it: Sent", run.Output);
        Assert.Contains("ok: the provider got each of the 4 batches once", run.Output);
        Assert.Contains("ok: cancel of a sent campaign refused: NotCancellableSent", run.Output);
        Assert.Contains("ok: the refused cancel is in the cancellation audit", run.Output);
        Assert.Contains("ok: cancel mid-send accepted with batches at the provider: Cancelling", run.Output);
        Assert.Contains("ok: no provider call started after the cancel returned", run.Output);
        Assert.Contains("ok: the partial-send report adds up", run.Output);
        Assert.Contains("ok: the cancellation audit has the mid-send cancel with its counts", run.Output);
        Assert.Contains("consumer scenario passed", run.Output);

        // It ran exactly the assemblies that were just packed, not project outputs or a stale cached package.
        foreach (var id in PackedFeed.LibraryIds)
            Assert.Contains($"assembly {id} mvid {feed.PackedMvid(id)}", run.Output);
    }

    private static void CopyTemplate(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(from, file);
            if (relative.Split(Path.DirectorySeparatorChar)[0] is "bin" or "obj") continue;
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(to, relative))!);
            File.Copy(file, Path.Combine(to, relative));
        }
    }

    /// <summary>
    /// The sources the repository restores from (its nuget.config), plus the freshly packed feed for our own ids:
    /// "nuget.org" is the key every .NET install defines.
    /// </summary>
    private void WriteNugetConfig(string path)
    {
        static XElement Add(string key, string value) => new("add", new XAttribute("key", key), new XAttribute("value", value));
        static XElement Map(string key, params string[] patterns) =>
            new("packageSource", new XAttribute("key", key), patterns.Select(p => new XElement("package", new XAttribute("pattern", p))));
        new XDocument(new XElement("configuration",
            new XElement("packageSources", Add("campaigns-packed", feed.Folder)),
            new XElement("packageSourceMapping",
                Map("nuget.org", "*"),
                Map("campaigns-packed", "EventSourcedCampaigns", "EventSourcedCampaigns.*")))).Save(path);
    }
}
