using JasperFx.CommandLine;
using Microsoft.Extensions.Options;

namespace EventSourcedCampaigns.Service.Security;

/// <summary>
/// Prints a development bearer token and nothing else (<c>bash eng/serve.sh token --tenant T --actor A --scopes S1,S2</c>).
/// Signed with this installation's development key, which the service accepts outside Production only. Runs before the
/// host is built (it needs no database), so nothing but the token reaches standard output.
/// </summary>
public static class DevToken
{
    public const string Command = "dev-token";
    private const string Usage = "usage: dev-token --tenant T --actor A [--scopes campaigns:read,...] [--hours 12]";

    public static int Run(string[] args)
    {
        var options = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < args.Length; i += 2)
        {
            if (i + 1 >= args.Length || !args[i].StartsWith("--", StringComparison.Ordinal)) return Fail(Usage);
            options[args[i][2..]] = args[i + 1];
        }
        if (options.Keys.Except(["tenant", "actor", "scopes", "hours"], StringComparer.OrdinalIgnoreCase).Any()
            || !options.TryGetValue("tenant", out var tenant) || string.IsNullOrWhiteSpace(tenant)
            || !options.TryGetValue("actor", out var actor) || string.IsNullOrWhiteSpace(actor))
            return Fail(Usage);
        var hours = options.TryGetValue("hours", out var h) ? int.TryParse(h, out var parsed) ? parsed : -1 : 12;
        if (hours is < 1 or > 24 * 30) return Fail("--hours must be between 1 and 720.");
        var scopes = options.TryGetValue("scopes", out var s)
            ? s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : [.. Scopes.All];
        if (scopes.Length == 0 || scopes.Except(Scopes.All).ToList() is [_, ..])
            return Fail($"--scopes must be some of {string.Join(",", Scopes.All)}.");

        var auth = new ConfigurationBuilder().AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true)
            .AddEnvironmentVariables().Build().GetSection("Campaigns:Auth").Get<AuthSettings>() ?? new AuthSettings();
        Console.WriteLine(SigningKeys.Issue(SigningKeys.Development(auth), AuthSettings.DevelopmentIssuer, auth.Audience,
            tenant.Trim(), actor.Trim(), scopes, TimeSpan.FromHours(hours)));
        return 0;
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine(message);
        return 2;
    }
}

public sealed class ApiKeysInput : NetCoreInput
{
    [Description("create, list or revoke")]
    public string Action { get; set; } = "list";

    [Description("The tenant (create: required; list: all tenants when omitted)")]
    public string? TenantFlag { get; set; }

    [Description("A name for the key's client (create), shown in the audit as apikey:NAME")]
    public string? NameFlag { get; set; }

    [Description("Comma-separated scopes (create)")]
    public string? ScopesFlag { get; set; }

    [Description("The key id (revoke)")]
    public string? IdFlag { get; set; }
}

/// <summary>API keys for machine clients: <c>api-keys create --tenant T --name crm-sync --scopes campaigns:read,campaigns:cancel</c>, <c>api-keys list</c>, <c>api-keys revoke --id ID</c>.</summary>
[Description("Create, list or revoke API keys of machine clients", Name = Command)]
public sealed class ApiKeysCommand : JasperFxAsyncCommand<ApiKeysInput>
{
    public const string Command = "api-keys";

    public override async Task<bool> Execute(ApiKeysInput input)
    {
        using var host = input.BuildHost();
        var keys = host.Services.GetRequiredService<ApiKeyStore>();
        switch (input.Action.ToLowerInvariant())
        {
            case "create" when input is { TenantFlag.Length: > 0, NameFlag.Length: > 0, ScopesFlag.Length: > 0 }:
                var scopes = input.ScopesFlag.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                try
                {
                    var (key, secret) = await keys.CreateAsync(input.TenantFlag, input.NameFlag, scopes);
                    // The key alone on stdout (KEY=$(... api-keys create ...)); what it is, for the operator, on stderr.
                    Console.Error.WriteLine($"created API key {key.Id} for tenant {key.TenantId} ({string.Join(",", key.Scopes)}); it is shown once:");
                    Console.WriteLine(secret);
                    return true;
                }
                catch (ArgumentException e)
                {
                    Console.Error.WriteLine(e.Message);
                    return false;
                }
            case "list":
                foreach (var key in await keys.ListAsync(input.TenantFlag))
                    Console.WriteLine($"{key.Id}  {key.TenantId}  {key.Name}  {string.Join(",", key.Scopes)}  created {key.CreatedAt:u}" +
                                      (key.IsActive ? "" : $"  REVOKED {key.RevokedAt:u}"));
                return true;
            case "revoke" when input.IdFlag is { Length: > 0 } id:
                if (await keys.RevokeAsync(id)) { Console.WriteLine($"revoked {id}"); return true; }
                Console.Error.WriteLine($"no API key {id}");
                return false;
            default:
                Console.Error.WriteLine("usage: api-keys create --tenant T --name N --scopes S1,S2 | api-keys list [--tenant T] | api-keys revoke --id ID");
                return false;
        }
    }
}
