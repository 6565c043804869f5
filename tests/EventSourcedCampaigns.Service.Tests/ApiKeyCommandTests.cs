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

    [Fact]
    public async Task create_refuses_the_name_of_an_active_key_of_the_tenant_in_any_case_until_it_is_revoked()
    {
        // Found by an audit: two active keys named crm-sync both cancelled as "apikey:crm-sync", and the audit could not say which.
        string[] Create(string tenant, string name) => ["api-keys", "create", "--tenant", tenant, "--name", name, "--scopes", "campaigns:cancel"];
        var (created, first, _) = await ServiceProcess.RunAsync(Create("shop", "crm-sync"), _service);
        Assert.Equal(0, created);

        var (refused, stdout, stderr) = await ServiceProcess.RunAsync(Create("shop", "CRM-Sync"), _service);
        Assert.Equal(1, refused);
        Assert.Empty(stdout.Trim());
        Assert.Contains("Tenant shop already has an active API key named 'crm-sync'", stderr);

        Assert.Equal(0, (await ServiceProcess.RunAsync(Create("other-shop", "crm-sync"), _service)).ExitCode); // another tenant's
        Assert.Equal(0, (await ServiceProcess.RunAsync(["api-keys", "revoke", "--id", first.Trim()[4..20]], _service)).ExitCode);
        Assert.Equal(0, (await ServiceProcess.RunAsync(Create("shop", "crm-sync"), _service)).ExitCode); // rotated: the old one revoked
    }
}
