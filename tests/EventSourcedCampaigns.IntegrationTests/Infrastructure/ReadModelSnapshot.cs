using System.Text.Json;
using EventSourcedCampaigns.Marten;
using EventSourcedCampaigns.Marten.ReadModels;
using Marten;

namespace EventSourcedCampaigns.IntegrationTests.Infrastructure;

/// <summary>Every read-model document of every tenant, as one JSON string to compare before and after a rebuild.</summary>
public static class ReadModelSnapshot
{
    public static async Task<string> TakeAsync(IDocumentStore store)
    {
        await using var query = store.QuerySession();
        var list = await query.Query<CampaignListItem>().Where(x => x.AnyTenant()).OrderBy(x => x.Id).ToListAsync();
        var reports = await query.Query<SendReport>().Where(x => x.AnyTenant()).OrderBy(x => x.Id).ToListAsync();
        var audit = await query.Query<CancellationAuditEntry>().Where(x => x.AnyTenant()).OrderBy(x => x.Id).ToListAsync();
        return JsonSerializer.Serialize(new { List = list, Reports = reports, Audit = audit });
    }

    public static int CampaignCount(string snapshot) => JsonDocument.Parse(snapshot).RootElement.GetProperty("List").GetArrayLength();

    /// <summary>
    /// Run the async daemon while <paramref name="append"/> appends events, until the read models have applied every one:
    /// the live documents a rebuild must equal.
    /// </summary>
    public static async Task ProjectLiveAsync(IDocumentStore store, Func<Task> append)
    {
        using var daemon = await store.BuildProjectionDaemonAsync();
        await daemon.StartAllAsync();
        await append();
        await store.WaitForReadModelsAsync((await store.Advanced.FetchEventStoreStatistics()).EventSequenceNumber, TimeSpan.FromMinutes(1));
        await daemon.StopAllAsync();
    }

    /// <summary>Rebuild the three read models from the events alone.</summary>
    public static Task RebuildAllAsync(IDocumentStore store, TimeSpan timeout) => store.RebuildReadModelsAsync(timeout);
}
