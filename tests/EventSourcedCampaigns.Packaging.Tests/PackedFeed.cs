using System.IO.Compression;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Xml.Linq;

namespace EventSourcedCampaigns.Packaging.Tests;

/// <summary>
/// The library packages, packed once per test run by eng/pack.sh into a temporary folder (never the shared
/// artifacts/packages, which a developer may be packing into at the same time).
/// </summary>
public sealed class PackedFeed : IAsyncLifetime
{
    public static readonly string[] LibraryIds =
        ["EventSourcedCampaigns", "EventSourcedCampaigns.Marten", "EventSourcedCampaigns.Wolverine", "EventSourcedCampaigns.Testing",
         "EventSourcedCampaigns.Smtp", "EventSourcedCampaigns.Webhooks"];

    public string Temp { get; } = Path.Combine(Path.GetTempPath(), $"campaigns-packaging-{Guid.NewGuid():N}");
    public string Folder => Path.Combine(Temp, "feed");
    public Repo.Result Pack { get; private set; } = null!;

    /// <summary>The commit checked out when the packages were packed (git rev-parse HEAD).</summary>
    public string Commit { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Folder);
        var head = await Repo.RunAsync("git", ["rev-parse", "HEAD"], Repo.Root, new Dictionary<string, string>(), TimeSpan.FromMinutes(1), mergeError: false);
        Commit = head.Output.Trim();
        Pack = await Repo.RunAsync("bash", [Path.Combine(Repo.Root, "eng", "pack.sh"), "-o", Folder, "-c", Repo.Configuration],
            Repo.Root, new Dictionary<string, string>(), TimeSpan.FromMinutes(5));
    }

    public Task DisposeAsync()
    {
        try { Directory.Delete(Temp, recursive: true); }
        catch (IOException) { }
        return Task.CompletedTask;
    }

    public string PackagePath(string id, string extension = "nupkg") => Path.Combine(Folder, $"{id}.{Repo.Version}.{extension}");

    public static XElement Nuspec(ZipArchive package, string id)
    {
        using var stream = package.GetEntry($"{id}.nuspec")!.Open();
        return XDocument.Load(stream).Root!.Elements().Single(e => e.Name.LocalName == "metadata");
    }

    /// <summary>The module version id of the library assembly inside a package: which build of it was packed.</summary>
    public Guid PackedMvid(string id)
    {
        using var package = ZipFile.OpenRead(PackagePath(id));
        using var dll = new MemoryStream();
        using (var entry = package.GetEntry($"lib/net10.0/{id}.dll")!.Open()) entry.CopyTo(dll);
        dll.Position = 0;
        using var pe = new PEReader(dll);
        var metadata = pe.GetMetadataReader();
        return metadata.GetGuid(metadata.GetModuleDefinition().Mvid);
    }
}
