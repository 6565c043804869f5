using EventSourcedCampaigns.IntegrationTests.Infrastructure;

namespace EventSourcedCampaigns.Service.Tests;

/// <summary>The operations CLI's API key commands (docs/security.md), run as an operator runs them.</summary>
public sealed class the_api_key_commands
{
    private readonly Dictionary<string, string?> _service = new()
    {
        ["CAMPAIGNS_POSTGRES"] = null, ["Campaigns__ConnectionString"] = TestDatabase.ConnectionString, ["Campaigns__Schema"] = TestDatabase.UniqueSchema("cli"),
    };

    [Fact]
    public async Task create_prints_the_new_key_alone_on_stdout_so_a_script_can_capture_it()
    {
        var (exitCode, stdout, stderr) = await ServiceProcess.RunAsync(["api-keys", "create", "--tenant", "shop", "--name", "crm-sync", "--scopes", "campaigns:read"], _service);

        Assert.True(exitCode == 0, stderr);
        var key = Assert.Single(stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.Matches("^esc_[0-9a-f]{16}\\.[A-Za-z0-9_-]+$", key);
        Assert.Contains("it is shown once", stderr); // what the key is, for the operator

        var (_, listed, _) = await ServiceProcess.RunAsync(["api-keys", "list", "--tenant", "shop"], _service);
        Assert.Contains(key[4..20] + "  shop  crm-sync  campaigns:read", listed);
    }
}
