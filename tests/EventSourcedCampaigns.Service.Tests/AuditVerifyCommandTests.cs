using EventSourcedCampaigns.IntegrationTests.Infrastructure;
using EventSourcedCampaigns.Marten;
using EventSourcedCampaigns.Service.Operations;

namespace EventSourcedCampaigns.Service.Tests;

public sealed class the_audit_verify_command
{
    [Fact]
    public void says_a_tenant_without_audit_events_has_nothing_to_verify_rather_than_an_intact_chain()
    {
        // A mistyped --tenant found no events and printed "INTACT, 0 chained entries".
        Assert.Equal("tenant shpo: no cancellation audit events, nothing to verify (is the tenant id right?)",
            AuditVerifyCommand.Describe(new AuditChainVerification("shpo", true, 0, 0, 0, "", null)));
        Assert.StartsWith("tenant shop: INTACT, 3 chained entries",
            AuditVerifyCommand.Describe(new AuditChainVerification("shop", true, 3, 0, 3, "ab12", null)));
        var (eventId, campaignId) = (Guid.NewGuid(), Guid.NewGuid());
        Assert.StartsWith($"tenant shop: BROKEN at position 2 (event sequence 9, id {eventId}, campaign {campaignId}) after 1 intact entries",
            AuditVerifyCommand.Describe(new AuditChainVerification("shop", false, 1, 0, 3, "ab12", new AuditChainBreak(9, eventId, campaignId, 2, "edited"))));
        // Found by an audit: a chain that ends before its anchor has no event there, and named "sequence 0, id 0000..." and a campaign.
        Assert.StartsWith("tenant shop: BROKEN at position 7 after 3 intact entries",
            AuditVerifyCommand.Describe(new AuditChainVerification("shop", false, 3, 0, 3, "ab12", new AuditChainBreak(0, Guid.Empty, Guid.Empty, 7, "ends"))));
    }

    [Theory]
    [InlineData("--tenant shop --anchor 5", "Give the anchor as POSITION:HASH")]
    [InlineData("--tenant shop --anchor 5:d1f35c13", "64 lower-case hex digits")]
    [InlineData("--anchor 1:0000000000000000000000000000000000000000000000000000000000000000", "give --tenant with --anchor")]
    public async Task refuses_an_anchor_it_cannot_check(string flags, string says)
    {
        var (exitCode, output) = await Cli.RunAsync("cli_anchor", ["audit", "verify", .. flags.Split(' ')]);

        Assert.True(exitCode != 0, output);
        Assert.Contains(says, output);
    }

    [Fact]
    public async Task checks_a_head_anchored_earlier_and_names_a_chain_that_no_longer_reaches_it()
    {
        // Found by an audit: docs/security.md asks to anchor the head, but nothing could check a chain against it.
        await using var store = await TestDatabase.NewStoreAsync("cli_anchor");

        var (exitCode, output) = await Cli.RunAsync(store.Options.DatabaseSchemaName,
            "audit", "verify", "--tenant", "shop", "--anchor", "3:" + new string('a', 64));

        Assert.True(exitCode != 0, output);
        Assert.Contains("tenant shop: BROKEN at position 3", output);
        Assert.Contains("The chain ends at position 0, before the anchored position 3", output);
    }

    [Theory]
    [InlineData("audit", "verify")]
    [InlineData("read-models", "rebuild")]
    public async Task refuses_a_schema_without_campaigns_and_creates_nothing_in_it(string command, string action)
    {
        // Found by an audit: "audit verify" on a mistyped schema created Marten's tables there and answered "No tenant has
        // cancellation audit events" with exit 0.
        var schema = TestDatabase.UniqueSchema("cli_none");

        var (exitCode, output) = await Cli.RunAsync(schema, command, action);

        Assert.True(exitCode == 1, output);
        Assert.Contains($"There are no campaigns in schema {schema} in database", output);
        Assert.Contains("it has no event table. Check Campaigns:Schema and the connection string.", output);
        await using var connection = new Npgsql.NpgsqlConnection(TestDatabase.ConnectionString);
        await connection.OpenAsync();
        await using var tables = new Npgsql.NpgsqlCommand("select count(*) from information_schema.tables where table_schema = @schema", connection);
        tables.Parameters.AddWithValue("schema", schema);
        Assert.Equal(0L, await tables.ExecuteScalarAsync());
    }
}
