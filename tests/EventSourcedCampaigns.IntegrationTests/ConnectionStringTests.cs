using EventSourcedCampaigns.Marten;
using Npgsql;

namespace EventSourcedCampaigns.IntegrationTests;

/// <summary>Npgsql's automatic preparation is turned on unless the connection string says otherwise.</summary>
public sealed class the_recommended_connection_string
{
    [Theory]
    [InlineData("Host=db;Username=app", CampaignConnectionStrings.AutoPreparedStatements)]
    [InlineData("Host=db;Username=app;Max Auto Prepare=0", 0)]
    [InlineData("Host=db;Username=app;max auto prepare=10", 10)]
    [InlineData("Host=db;Username=app;MaxAutoPrepare=20", 20)]
    public void turns_on_automatic_preparation_unless_the_string_sets_it(string given, int prepared)
    {
        var tuned = new NpgsqlConnectionStringBuilder(CampaignConnectionStrings.WithAutoPrepare(given));

        Assert.Equal(prepared, tuned.MaxAutoPrepare);
        Assert.Equal(("db", "app"), (tuned.Host, tuned.Username));
    }

    [Fact]
    public void refuses_what_is_not_a_connection_string() =>
        Assert.ThrowsAny<ArgumentException>(() => CampaignConnectionStrings.WithAutoPrepare("Host=db;NoSuchKeyword=1"));
}
