using System.Diagnostics;
using EventSourcedCampaigns.Marten;
using JasperFx;
using JasperFx.Events.Projections;
using Marten;
using Marten.Events;

namespace EventSourcedCampaigns.IntegrationTests.Infrastructure;

/// <summary>The real PostgreSQL the project's script started (or CAMPAIGNS_POSTGRES), one schema per test.</summary>
public static class TestDatabase
{
    private static readonly Lazy<string> Connection = new(Resolve);

    public static string ConnectionString => Connection.Value;

    private static string Resolve()
    {
        if (Environment.GetEnvironmentVariable("CAMPAIGNS_POSTGRES") is { Length: > 0 } fromEnvironment)
            return fromEnvironment;
        // Run from an IDE without eng/test.sh: start (or reuse) the throwaway cluster ourselves.
        var script = Path.Combine(RepositoryRoot(), "eng", "postgres.sh");
        var start = new ProcessStartInfo("bash", [script, "start"]) { RedirectStandardOutput = true };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        return process.ExitCode == 0 ? output : throw new InvalidOperationException($"eng/postgres.sh start failed ({process.ExitCode}).");
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "EventSourcedCampaigns.sln"))) return dir.FullName;
        throw new InvalidOperationException("Set CAMPAIGNS_POSTGRES or run from inside the repository.");
    }

    /// <summary>A schema name unique to one test, so tests run in parallel without seeing each other.</summary>
    public static string UniqueSchema(string prefix) => $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 13, 60)].ToLowerInvariant();

    /// <summary>Campaign store options on a fresh schema.</summary>
    public static void Configure(StoreOptions opts, string schema, ProjectionLifecycle readModels = ProjectionLifecycle.Async)
    {
        opts.Connection(ConnectionString);
        opts.DatabaseSchemaName = schema;
        opts.AutoCreateSchemaObjects = AutoCreate.All;
        opts.AddCampaigns(c => c.ReadModels = readModels);
    }

    /// <summary>A document store on a new schema, with the campaign model.</summary>
    public static async Task<DocumentStore> NewStoreAsync(string prefix, ProjectionLifecycle readModels = ProjectionLifecycle.Async)
    {
        var store = DocumentStore.For(opts => Configure(opts, UniqueSchema(prefix), readModels));
        await store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();
        return store;
    }
}
