using EventSourcedCampaigns.Marten;
using Marten;

namespace EventSourcedCampaigns.Service.Http;

/// <summary>
/// Read-side endpoints: the Campaigns list, send reports, the cancellation audit, event history. The read models are
/// asynchronous; a caller that wants to see its own write passes the command's "sequence" as <c>?afterSequence=</c>.
/// </summary>
public static class QueryEndpoints
{
    /// <summary>Longest wait for the read models to reach a requested sequence before answering 503.</summary>
    public static readonly TimeSpan ReadYourWritesTimeout = TimeSpan.FromSeconds(10);

    public static RouteGroupBuilder MapCampaignQueries(this RouteGroupBuilder api)
    {
        // Read-your-writes: hold a query until the read models have applied the caller's write.
        api.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            if (!HttpMethods.IsGet(http.Request.Method) || http.Request.Query["afterSequence"].FirstOrDefault() is not { } raw) return await next(context);
            if (!long.TryParse(raw, out var sequence) || sequence < 0)
                return Problems.BadRequest("malformed_sequence", $"'{raw}' is not an event sequence (a whole number, 0 or more).");
            try
            {
                await http.RequestServices.GetRequiredService<IDocumentStore>().WaitForReadModelsAsync(sequence, ReadYourWritesTimeout, http.RequestAborted);
            }
            catch (TimeoutException e)
            {
                return Problems.Problem(StatusCodes.Status503ServiceUnavailable, "read_models_behind", e.Message);
            }
            return await next(context);
        });

        api.MapGet("/campaigns", async (HttpContext http, IDocumentStore store,
            CampaignStatus? status, string? name, DateTimeOffset? updatedFrom, DateTimeOffset? updatedTo,
            CampaignSort? sort, bool? descending, int? page, int? pageSize) =>
        {
            await using var session = store.QuerySession(http.Tenant());
            return Results.Ok(await session.QueryCampaignsAsync(new CampaignListQuery(status, name, updatedFrom, updatedTo,
                sort ?? CampaignSort.UpdatedAt, descending ?? true, page ?? 1, pageSize ?? 50), http.RequestAborted));
        }).WithName("ListCampaigns").RequireAuthorization(Security.Scopes.CampaignsRead).WithSummary("The Campaigns tab: filter by status, name and update time; sort; page.");

        api.MapGet("/campaigns/{id}/report", async (string id, HttpContext http, IDocumentStore store) =>
        {
            if (!Problems.TryParseId(id, out var campaignId, out var bad)) return bad!;
            await using var session = store.QuerySession(http.Tenant());
            return await session.LoadSendReportAsync(campaignId, http.RequestAborted) is { } report ? Results.Ok(report) : Problems.NotFound(campaignId);
        }).WithName("GetSendReport").RequireAuthorization(Security.Scopes.CampaignsRead).WithSummary("Partial-send statistics with scheduled and cancellation dates.");

        api.MapGet("/campaigns/{id}/events", async (string id, HttpContext http, IDocumentStore store) =>
        {
            if (!Problems.TryParseId(id, out var campaignId, out var bad)) return bad!;
            await using var session = store.QuerySession(http.Tenant());
            var events = await session.Events.FetchStreamAsync(campaignId, token: http.RequestAborted);
            return events.Count == 0
                ? Problems.NotFound(campaignId)
                : Results.Ok(events.Select(e => new { e.Sequence, e.Version, Type = e.EventTypeName, e.Timestamp, e.Data }));
        }).WithName("GetCampaignEvents").RequireAuthorization(Security.Scopes.CampaignsRead).WithSummary("A campaign's full event history, oldest first.");

        api.MapGet("/audit/cancellations", async (HttpContext http, IDocumentStore store,
            Guid? campaignId, string? actor, RequestChannel? channel, DateTimeOffset? from, DateTimeOffset? to, int? page, int? pageSize) =>
        {
            await using var session = store.QuerySession(http.Tenant());
            return Results.Ok(await session.QueryCancellationAuditAsync(
                new CancellationAuditQuery(campaignId, actor, channel, from, to, false, page ?? 1, pageSize ?? 50), http.RequestAborted));
        }).WithName("ListCancellations").RequireAuthorization(Security.Scopes.AuditRead).WithSummary("Every cancel request, accepted and refused, newest first.");
        return api;
    }
}
