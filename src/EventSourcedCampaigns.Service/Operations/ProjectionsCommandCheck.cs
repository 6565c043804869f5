using Marten;

namespace EventSourcedCampaigns.Service.Operations;

/// <summary>
/// Marten's <c>projections</c> command, checked before it runs: given a name no projection has (<c>-p CampaignStates</c>),
/// it selects nothing, says so and exits 0, and an upgrade script would go on as if it had rebuilt (docs/upgrades.md).
/// </summary>
public static class ProjectionsCommandCheck
{
    public const string Command = "projections";

    /// <summary>
    /// Why <paramref name="args"/> cannot run (the projection named with <c>-p</c> or <c>--projection</c> is none of the
    /// store's, compared in any case as Marten does), with the names there are; null when it can.
    /// </summary>
    public static string? Refusal(string[] args, IDocumentStore store)
    {
        if (args.Length == 0 || !string.Equals(args[0], Command, StringComparison.OrdinalIgnoreCase)) return null;
        // As "projections list" names them: the inline projections have no shard, the subscriptions are no projection.
        var projections = ((StoreOptions)store.Options).Projections;
        var names = projections.All.Select(projection => projection.Name).Union(projections.AllShards().Select(shard => shard.Name.Name))
            .Order(StringComparer.Ordinal).ToList();
        for (var i = 1; i < args.Length - 1; i++)
        {
            if (args[i] is not ("-p" or "--projection")) continue;
            var named = args[i + 1];
            if (!names.Contains(named, StringComparer.OrdinalIgnoreCase))
                return $"No projection is named '{named}'. The projections: {string.Join(", ", names)}.";
        }
        return null;
    }
}
