using System.Data.Common;
using Npgsql;

namespace EventSourcedCampaigns.Marten;

/// <summary>The Npgsql connection settings the campaign store runs best with.</summary>
public static class CampaignConnectionStrings
{
    /// <summary>How many statements Npgsql prepares per connection (its <c>Max Auto Prepare</c>) when the connection string does not say.</summary>
    public const int AutoPreparedStatements = 128;

    /// <summary>
    /// <paramref name="connectionString"/> with Npgsql's automatic preparation on (<c>Max Auto Prepare</c>
    /// <see cref="AutoPreparedStatements"/>), unless it sets <c>Max Auto Prepare</c> itself (0 keeps it off). The send
    /// pipeline repeats a few dozen statements for every batch: prepared, PostgreSQL parses and plans each once per
    /// connection instead of on every call, and a connection returned to the pool is reset without <c>DISCARD ALL</c>,
    /// which otherwise drops every cached plan, those of Marten's append function included (docs/benchmarks.md).
    /// </summary>
    /// <exception cref="ArgumentException">Not an Npgsql connection string.</exception>
    public static string WithAutoPrepare(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        var given = new DbConnectionStringBuilder { ConnectionString = connectionString };
        if (!given.Keys.Cast<string>().Any(key => key.Replace(" ", "").Equals("MaxAutoPrepare", StringComparison.OrdinalIgnoreCase)))
            builder.MaxAutoPrepare = AutoPreparedStatements;
        return builder.ConnectionString;
    }
}
