using EventSourcedCampaigns.Marten;
using JasperFx;
using Marten;

namespace EventSourcedCampaigns.Benchmarks;

public static class BenchStore
{
    /// <summary>A campaign store on an emptied schema of its own.</summary>
    public static async Task<DocumentStore> CreateAsync(string connection, string schema)
    {
        var store = DocumentStore.For(opts =>
        {
            opts.Connection(connection);
            opts.DatabaseSchemaName = schema;
            opts.AutoCreateSchemaObjects = AutoCreate.All;
            opts.AddCampaigns();
        });
        await store.Advanced.Clean.CompletelyRemoveAllAsync();
        await store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();
        return store;
    }
}
