using Marten;
using Npgsql;

namespace EventSourcedCampaigns.Service.Operations;

/// <summary>The database and schema an operator's command works on, named and checked before it reads anything.</summary>
public static class CampaignSchema
{
    /// <summary>"schema S in database D on host:port", as the commands name what they work on.</summary>
    public static string Describe(IDocumentStore store)
    {
        using var connection = store.Storage.Database.CreateConnection();
        var target = new NpgsqlConnectionStringBuilder(connection.ConnectionString);
        return $"schema {store.Options.DatabaseSchemaName} in database {target.Database} on {target.Host}:{target.Port}";
    }

    /// <summary>
    /// Why the configured schema holds no campaigns (it has no event table: a mistyped Campaigns:Schema or connection
    /// string), or null. Asked on a connection of its own: Marten's first query would create the missing tables, and the
    /// command would report on an empty schema it just made.
    /// </summary>
    public static async Task<string?> MissingAsync(IDocumentStore store, CancellationToken token = default)
    {
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(token);
        await using var exists = new NpgsqlCommand("select to_regclass(quote_ident($1) || '.mt_events') is not null", connection)
        {
            Parameters = { new() { Value = store.Options.DatabaseSchemaName } },
        };
        return await exists.ExecuteScalarAsync(token) is true ? null
            : $"There are no campaigns in {Describe(store)}: it has no event table. Check Campaigns:Schema and the connection string.";
    }
}
