using EventSourcedCampaigns.Marten;
using JasperFx.CommandLine;
using Marten;

namespace EventSourcedCampaigns.Service.Operations;

/// <summary>Input of <see cref="AuditVerifyCommand"/>: <c>audit verify [--tenant T [--anchor POSITION:HASH]]</c>.</summary>
public sealed class AuditInput : NetCoreInput
{
    /// <summary>What to do with the audit; "verify" is the only action.</summary>
    [Description("What to do with the cancellation audit: verify")]
    public string Action { get; set; } = "verify";

    /// <summary>The tenant whose audit chain to verify; every tenant with audit events when omitted.</summary>
    [Description("The tenant to verify (every tenant with audit events when omitted)")]
    [FlagAlias("tenant", 't')]
    public string? TenantFlag { get; set; }

    /// <summary>A head anchored earlier, POSITION:HASH, that the tenant's chain must still hold (needs --tenant).</summary>
    [Description("A head anchored earlier, POSITION:HASH (a verification's head), that the chain must still hold; needs --tenant")]
    [FlagAlias("anchor", true)] // no letter: -a is JasperFx's --applicationname
    public string? AnchorFlag { get; set; }
}

/// <summary>
/// <c>audit verify [--tenant T]</c>: recompute each tenant's cancellation audit hash chain from the stored events and
/// print whether it is intact, and where it first breaks. Exits non-zero when any chain is broken.
/// </summary>
[Description("Verify the cancellation audit hash chain of a tenant (or of every tenant); exits non-zero when broken", Name = "audit")]
public sealed class AuditVerifyCommand : JasperFxAsyncCommand<AuditInput>
{
    /// <summary>The command's name on the command line.</summary>
    public const string Command = "audit";

    public AuditVerifyCommand()
    {
        Usage("Verify every tenant's audit chain").Arguments(x => x.Action);
    }

    public override async Task<bool> Execute(AuditInput input)
    {
        if (!string.Equals(input.Action, "verify", StringComparison.OrdinalIgnoreCase))
        {
            Console.Error.WriteLine($"Unknown audit action '{input.Action}'. Use: audit verify [--tenant T [--anchor POSITION:HASH]]");
            return false;
        }

        AuditChainAnchor? anchor = null;
        if (input.AnchorFlag is { } given)
        {
            var parts = given.Trim().Split(':');
            anchor = parts.Length == 2 && long.TryParse(parts[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var position)
                ? new AuditChainAnchor(position, parts[1])
                : null;
            var problem = anchor is null ? "Give the anchor as POSITION:HASH, e.g. --anchor 5:d1f3...(64 hex digits)." : anchor.Problem();
            if (string.IsNullOrWhiteSpace(input.TenantFlag)) problem ??= "An anchor belongs to one tenant's chain: give --tenant with --anchor.";
            if (problem is not null)
            {
                Console.Error.WriteLine(problem);
                return false;
            }
        }

        using var host = input.BuildHost();
        var store = host.Services.GetRequiredService<IDocumentStore>();
        if (await CampaignSchema.MissingAsync(store) is { } missing)
        {
            Console.Error.WriteLine(missing);
            return false;
        }
        var tenants = string.IsNullOrWhiteSpace(input.TenantFlag) ? await store.AuditTenantsAsync() : [input.TenantFlag.Trim()];
        if (tenants.Count == 0) Console.WriteLine("No tenant has cancellation audit events.");

        var intact = true;
        foreach (var tenant in tenants)
        {
            var result = await store.VerifyAuditChainAsync(tenant, anchor);
            intact &= result.Intact;
            Console.WriteLine(Describe(result));
        }
        return intact;
    }

    /// <summary>One line per tenant (two when broken), for people and for grep.</summary>
    public static string Describe(AuditChainVerification r) => r.FirstBreak is not { } b
        ? r.Entries == 0 && r.Unchained == 0
            ? $"tenant {r.TenantId}: no cancellation audit events, nothing to verify (is the tenant id right?)"
            : $"tenant {r.TenantId}: INTACT, {r.Entries} chained entries ({r.Unchained} older unchained), head {r.HeadPosition} {r.HeadHash}"
        : $"tenant {r.TenantId}: BROKEN at position {b.Position}{Where(b)} after {r.Entries} intact entries\n  {b.Reason}";

    /// <summary>The event and campaign of a break, those it has: a chain that ends before its anchor has neither.</summary>
    private static string Where(AuditChainBreak b)
    {
        string[] parts = [.. b.Sequence > 0 ? [$"event sequence {b.Sequence}", $"id {b.EventId}"] : Array.Empty<string>(),
            .. b.CampaignId != Guid.Empty ? [$"campaign {b.CampaignId}"] : Array.Empty<string>()];
        return parts.Length == 0 ? "" : $" ({string.Join(", ", parts)})";
    }
}
