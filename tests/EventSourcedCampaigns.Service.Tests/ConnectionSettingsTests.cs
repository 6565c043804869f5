using Microsoft.Extensions.Configuration;
using Npgsql;

namespace EventSourcedCampaigns.Service.Tests;

/// <summary>
/// The database connection is a setting like the others: none (no Campaigns:ConnectionString and no CAMPAIGNS_POSTGRES,
/// as when the operations CLI of docs/security.md is run from a fresh shell) or one that does not parse stops the service
/// and its CLI with exit code 2 and one line naming the setting, not an unhandled exception's stack trace.
/// </summary>
public sealed class the_connection_settings
{
    [Theory]
    [InlineData(null, "Campaigns:ConnectionString is required (or CAMPAIGNS_POSTGRES): an Npgsql connection string.")]
    [InlineData("Host=127.0.0.1;Password=s3cret;NoSuchKeyword=1", "Campaigns:ConnectionString is not an Npgsql connection string (ArgumentException).")]
    public async Task a_missing_or_unreadable_connection_string_stops_the_service_with_exit_code_2_and_one_line(string? connectionString, string named)
    {
        var line = await RefusedStart.RunAsync(["api-keys", "list", "--tenant", "shop"], new Dictionary<string, string?>
        {
            ["CAMPAIGNS_POSTGRES"] = null, ["Campaigns__ConnectionString"] = connectionString,
        });
        Assert.Equal($"The campaigns service cannot start: {named}", line);
        Assert.DoesNotContain("s3cret", line);
    }

    [Theory]
    [InlineData("Host=db;Username=app", 128)]
    [InlineData("Host=db;Username=app;Max Auto Prepare=0", 0)]
    public void the_service_connects_with_automatic_preparation_unless_the_connection_string_turns_it_off(string given, int prepared)
    {
        var settings = ServiceSettings.Load(new ConfigurationBuilder()
            .AddInMemoryCollection([new KeyValuePair<string, string?>("Campaigns:ConnectionString", given)]).Build().GetSection(ServiceSettings.Section));

        Assert.Equal(prepared, new NpgsqlConnectionStringBuilder(settings.ResolveConnectionString()).MaxAutoPrepare);
    }
}
