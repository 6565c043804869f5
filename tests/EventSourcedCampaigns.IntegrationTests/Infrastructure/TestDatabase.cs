using System.Diagnostics;
using EventSourcedCampaigns.Marten;
using JasperFx;
using JasperFx.Events.Projections;
using Marten;
using Marten.Events;

namespace EventSourcedCampaigns.IntegrationTests.Infrastructure;

/// <summary>
/// The real PostgreSQL the project's script started (or CAMPAIGNS_POSTGRES): a database per test project, a schema
/// per test. Why a database per project: Marten's async daemon skips a gap in the event sequence (a rolled-back
/// append) only once no transaction older than the gap is open in the same database, and another project's
/// projection leader holds its advisory lock in a transaction for as long as it leads. Test projects run in parallel.
/// </summary>
public static class TestDatabase
{
    private static readonly Lazy<string> Connection = new(() => OwnDatabase(Server()));

    public static string ConnectionString => Connection.Value;

    private static string OwnDatabase(string server)
    {
        // A child process of a test (a worker, a crash victim) is handed its parent's database: keep it.
        if (new Npgsql.NpgsqlConnectionStringBuilder(server).Database?.StartsWith("t_", StringComparison.Ordinal) == true) return server;
        // bin/Release/net10.0 -> the test project's folder name.
        var project = new DirectoryInfo(AppContext.BaseDirectory).Parent?.Parent?.Parent?.Name ?? "tests";
        var name = "t_" + new string(project.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_').ToArray());
        name = name[..Math.Min(name.Length, 60)];
        using (var connection = new Npgsql.NpgsqlConnection(server))
        {
            connection.Open();
            using var exists = new Npgsql.NpgsqlCommand("select 1 from pg_database where datname = $1", connection) { Parameters = { new() { Value = name } } };
            if (exists.ExecuteScalar() is null)
            {
                using var create = new Npgsql.NpgsqlCommand($"create database \"{name}\"", connection);
                try { create.ExecuteNonQuery(); }
                catch (Npgsql.PostgresException e) when (e.SqlState is "42P04" or "23505") { } // created by a parallel run
            }
        }
        return new Npgsql.NpgsqlConnectionStringBuilder(server) { Database = name }.ConnectionString;
    }

    private static string Server()
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
