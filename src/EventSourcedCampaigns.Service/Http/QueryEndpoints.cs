using System.Globalization;
using EventSourcedCampaigns.Marten;
using EventSourcedCampaigns.Marten.ReadModels;
using Marten;

namespace EventSourcedCampaigns.Service.Http;

/// <summary>One event of a campaign's history: its global sequence, its version in the stream, its stored type name, its data.</summary>
public sealed record CampaignEventEnvelope(long Sequence, long Version, string Type, DateTimeOffset Timestamp, object Data);

/// <summary>
/// Read-side endpoints: the Campaigns list, send reports, the cancellation audit, event history. The read models are
/// asynchronous; a caller that wants to see its own write passes the command's "sequence" as <c>?afterSequence=</c>.
/// </summary>
public static class QueryEndpoints
{
    /// <summary>Longest wait for the read models to reach a requested sequence before answering 503.</summary>
    public static readonly TimeSpan ReadYourWritesTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The query parameter of read-your-writes: a command's "sequence".</summary>
    public const string AfterSequence = "afterSequence";

    /// <summary>Whether the request's <c>?afterSequence=</c> is waited for: a query (GET, or HEAD, which answers as GET does).</summary>
    public static bool HonoursAfterSequence(HttpContext http) =>
        http.GetEndpoint()?.Metadata.GetMetadata<ReadYourWritesMetadata>() is not null
        && (HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method));

    public static RouteGroupBuilder MapCampaignQueries(this RouteGroupBuilder api)
    {
        // Read-your-writes: hold a query until the read models have applied the caller's write.
        api.WithMetadata(new ReadYourWritesMetadata()).AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            if (!HonoursAfterSequence(http) || http.Request.Query[AfterSequence].FirstOrDefault() is not { } raw) return await next(context);
            if (!long.TryParse(raw, out var sequence) || sequence < 0)
                return Problems.BadRequest(ProblemCodes.MalformedSequence, $"'{raw}' is not an event sequence (a whole number, 0 or more).");
            var store = http.RequestServices.GetRequiredService<IDocumentStore>();
            // No write answered with a sequence past the store's last event: the read models would be waited on for nothing
            // (10 s of polling, then a 503 that blames the projections).
            if (sequence > 0 && sequence > await LastEventSequenceAsync(store, http.RequestAborted))
                return Problems.BadRequest(ProblemCodes.MalformedSequence, $"No event has sequence {sequence}: pass the sequence a command answered with.");
            try
            {
                await store.WaitForReadModelsAsync(sequence, ReadYourWritesTimeout, http.RequestAborted);
            }
            catch (TimeoutException e)
            {
                return Problems.Problem(StatusCodes.Status503ServiceUnavailable, ProblemCodes.ReadModelsBehind, e.Message);
            }
            return await next(context);
        });

        api.MapGet("/campaigns", async (HttpContext http, IDocumentStore store,
            CampaignStatus? status, string? name, DateTimeOffset? updatedFrom, DateTimeOffset? updatedTo,
            CampaignSort? sort, bool? descending, int? page, int? pageSize) =>
        {
            if (updatedFrom > updatedTo) return Problems.InvalidRange();
            if ((Problems.BadPaging(page, pageSize) ?? BadOffset(page, pageSize) ?? BadText("name", name)) is { } bad) return bad;
            await using var session = store.QuerySession(http.Tenant());
            return Results.Ok(await session.QueryCampaignsAsync(new CampaignListQuery(status, name, updatedFrom, updatedTo,
                sort ?? CampaignSort.UpdatedAt, descending ?? true, page ?? 1, pageSize ?? 50), http.RequestAborted));
        }).WithName("ListCampaigns").RequireAuthorization(Security.Scopes.CampaignsRead).WithTags("Campaigns")
            .WithSummary("The Campaigns tab: filter by status, name and update time; sort; page.")
            .WithDescription("The tenant's campaigns, newest update first unless sorted otherwise. Every sort is descending unless " +
                             "descending=false: sort=Name alone is Z to A, sort=Name&descending=false A to Z (alphabetical ignoring case); equal " +
                             "values in id order, so pages neither repeat nor skip one; name matches any part of the name, ignoring case and how its accents are composed (both in Unicode NFC: são finds Sa\u0303o); pages " +
                             "of 50 unless pageSize says (at most 500).")
            .Produces<Page<CampaignListItem>>().CanRefuse(ProblemCodes.OutOfRange, ProblemCodes.InvalidRange, ProblemCodes.AmbiguousTime);

        api.MapGet("/campaigns/{id}/report", async (string id, HttpContext http, IDocumentStore store) =>
        {
            if (!Problems.TryParseId(id, out var campaignId, out var bad)) return bad!;
            await using var session = store.QuerySession(http.Tenant());
            return await session.LoadSendReportAsync(campaignId, http.RequestAborted) is { } report ? Results.Ok(report) : Problems.NotFound(campaignId);
        }).WithName("GetSendReport").RequireAuthorization(Security.Scopes.CampaignsRead).WithTags("Campaigns")
            .WithSummary("Partial-send statistics with scheduled and cancellation dates.")
            .WithDescription("Recipients, delivered, failed, in flight and not sent, overall and per variant, with the send time, the cancel request and when it took effect.")
            .Produces<SendReport>().CanRefuse(ProblemCodes.MalformedId).CanRefuse(RejectionCode.CampaignNotFound);

        api.MapGet("/campaigns/{id}/events", async (string id, HttpContext http, IDocumentStore store) =>
        {
            if (!Problems.TryParseId(id, out var campaignId, out var bad)) return bad!;
            await using var session = store.QuerySession(http.Tenant());
            // The tenant's audit stream (cancels of unknown ids) is no campaign: 404 here as for its report.
            var events = campaignId == AuditChain.TenantAuditStreamId(http.Tenant()) ? []
                : await session.Events.FetchStreamAsync(campaignId, token: http.RequestAborted);
            if (events.Count == 0) return Problems.NotFound(campaignId);
            // Read from the event store itself, so exact: what an If-Match of an edit is compared with.
            http.Response.Headers.ETag = Preconditions.ETagOf(events[^1].Version);
            return Results.Ok(events.Select(e => new CampaignEventEnvelope(e.Sequence, e.Version, e.EventTypeName, e.Timestamp, e.Data)));
        }).WithName("GetCampaignEvents").RequireAuthorization(Security.Scopes.CampaignsRead).WithTags("Campaigns")
            .WithSummary("A campaign's full event history, oldest first.")
            .WithDescription("Every event of the campaign's stream with its global sequence, its version in the stream, its stored type name and its data. " +
                             "The ETag header is the stream's version (its last event's): send it as If-Match with an edit to apply it only if nothing changed since.")
            .Produces<CampaignEventEnvelope[]>().CanRefuse(ProblemCodes.MalformedId).CanRefuse(RejectionCode.CampaignNotFound)
            .WithMetadata(new ETagMetadata());

        api.MapGet("/audit/cancellations", async (HttpContext http, IDocumentStore store,
            Guid? campaignId, string? actor, RequestChannel? channel, DateTimeOffset? from, DateTimeOffset? to, int? page, int? pageSize) =>
        {
            if (from > to) return Problems.InvalidRange();
            if ((Problems.BadPaging(page, pageSize) ?? BadOffset(page, pageSize) ?? BadText("actor", actor)) is { } bad) return bad;
            await using var session = store.QuerySession(http.Tenant());
            return Results.Ok(await session.QueryCancellationAuditAsync(
                new CancellationAuditQuery(campaignId, actor, channel, from, to, false, page ?? 1, pageSize ?? 50), http.RequestAborted));
        }).WithName("ListCancellations").RequireAuthorization(Security.Scopes.AuditRead).WithTags("Audit")
            .WithSummary("Every cancel request, accepted and refused, newest first.")
            .WithDescription("The tenant's cancellation audit: who asked, through which channel, why, the status at the request, the outcome and how long the send took to stop. " +
                             "The actor filter matches a whole actor id, ignoring case (alice@example.com finds Alice@Example.com). " +
                             "Entries requested at the same time in id order, so pages neither repeat nor skip one; pages of 50 unless pageSize says (at most 500).")
            .Produces<Page<CancellationAuditEntry>>().CanRefuse(ProblemCodes.OutOfRange, ProblemCodes.InvalidRange, ProblemCodes.AmbiguousTime);
        return api;
    }

    /// <summary>
    /// A text filter PostgreSQL cannot take (a NUL character) or too long, named as the query names it: left to the
    /// library, the refusal named its own member ("(Parameter 'NameContains')", "'ActorId'"), and the CSV export said it otherwise.
    /// </summary>
    public static IResult? BadText(string parameter, string? value) =>
        value is not null && (CampaignLimits.LengthOf(value) > MaxTextFilterLength || value.Contains('\0'))
            ? Problems.BadRequest(ProblemCodes.OutOfRange,
                string.Create(CultureInfo.InvariantCulture, $"{parameter} must be at most {MaxTextFilterLength:N0} characters and contain no NUL character."))
            : null;

    /// <summary>The longest text filter (<c>name</c>, <c>actor</c>), in characters as every limit counts them.</summary>
    public const int MaxTextFilterLength = 1_000;

    /// <summary>The query parameters <see cref="BadText"/> checks.</summary>
    public static readonly string[] TextFilters = ["name", "actor"];

    /// <summary>A page starting past the rows SQL can skip (an int), named as the query names it rather than as the library's pageNumber.</summary>
    private static IResult? BadOffset(int? page, int? pageSize) =>
        (long)((page ?? 1) - 1) * (pageSize ?? 50) > int.MaxValue
            ? Problems.BadRequest(ProblemCodes.OutOfRange, string.Create(CultureInfo.InvariantCulture,
                $"Page {page} of {pageSize ?? 50} starts past the {int.MaxValue:N0} rows a query can skip."))
            : null;

    /// <summary>The sequence of the store's last event, of any tenant (0 when it has none).</summary>
    private static async Task<long> LastEventSequenceAsync(IDocumentStore store, CancellationToken cancellation)
    {
        await using var session = store.QuerySession();
        var found = await session.AdvancedSql.QueryAsync<long>(
            $"select coalesce(max(seq_id), 0) from {store.Options.Events.DatabaseSchemaName}.mt_events", cancellation);
        return found.SingleOrDefault();
    }
}
