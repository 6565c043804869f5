using System.Globalization;
using EventSourcedCampaigns.Marten;
using EventSourcedCampaigns.Marten.ReadModels;
using Marten;

namespace EventSourcedCampaigns.Service.Http;

/// <summary>
/// The cancellation audit's integrity and export, for the caller's tenant: the verification of its hash chain, and
/// the audit entries as CSV (the filters of <c>GET /api/audit/cancellations</c>).
/// </summary>
public static class AuditEndpoints
{
    /// <summary>Most rows one CSV export returns; narrow the time range for more.</summary>
    public const int MaxCsvRows = 100_000;

    public static RouteGroupBuilder MapAuditEndpoints(this RouteGroupBuilder api)
    {
        api.MapGet("/audit/verification", async (HttpContext http, IDocumentStore store, long? anchorPosition, string? anchorHash) =>
        {
            if (anchorPosition is null != anchorHash is null)
                return Problems.BadRequest(ProblemCodes.BadRequest, "Give anchorPosition and anchorHash together (a head of an earlier verification), or neither.");
            var anchor = anchorPosition is { } position ? new AuditChainAnchor(position, anchorHash!) : null;
            if (anchor?.Problem() is { } problem) return Problems.BadRequest(ProblemCodes.BadRequest, problem);
            return Results.Ok(await store.VerifyAuditChainAsync(http.Tenant(), anchor, http.RequestAborted));
        })
            .WithName("VerifyCancellationAudit").RequireAuthorization(Security.Scopes.AuditRead).WithTags("Audit")
            .WithSummary("Recompute the tenant's cancellation audit hash chain: intact or not, and where it first breaks.")
            .WithDescription("Each audit event (a cancel attempt, or the outcome of an accepted one) carries the hash of the one before it; an event " +
                             "changed or removed in the event store breaks the chain from there on. The entries of /audit/cancellations and its CSV " +
                             "are read models built from these events and are not checked themselves (read-models rebuild restores them from the events). " +
                             "With anchorPosition and anchorHash (the headPosition and headHash of an earlier verification, kept where the " +
                             "database's writers cannot change them), the chain must also hold that hash at that position: a chain rewritten, " +
                             "cut, or restored from before the anchor is then broken there.")
            .Produces<AuditChainVerification>().CanRefuse(ProblemCodes.BadRequest);

        api.MapGet("/audit/cancellations.csv", async (HttpContext http, IDocumentStore store,
            Guid? campaignId, string? actor, RequestChannel? channel, DateTimeOffset? from, DateTimeOffset? to) =>
        {
            if (from > to) return Problems.InvalidRange();
            if (QueryEndpoints.BadText("actor", actor) is { } badActor) return badActor;
            await using var session = store.QuerySession(http.Tenant());
            http.Response.ContentType = "text/csv; charset=utf-8";
            http.Response.Headers.ContentDisposition = "attachment; filename=\"cancellations.csv\"";
            await WriteCsvAsync(session, new CancellationAuditQuery(campaignId, actor, channel, from, to), http.Response.Body, http.RequestAborted);
            return Results.Empty;
        }).WithName("ExportCancellationsCsv").RequireAuthorization(Security.Scopes.AuditRead).WithTags("Audit")
            .WithSummary("Every cancel attempt (newest first) as CSV, with the filters of /audit/cancellations.")
            // The columns named from the list the rows are written by: "CampaignName last" stayed here after OutcomeChainPosition
            // was written after it (1.6.0), so a client going by the description took a chain position for the campaign's name.
            .WithDescription(string.Create(CultureInfo.InvariantCulture,
                $"At most {MaxCsvRows:N0} rows; narrow the time range for more. The columns, in this order: {string.Join(", ", Columns)} (new columns are added last). Cells a spreadsheet would run as a formula are escaped."))
            .Produces<string>(StatusCodes.Status200OK, "text/csv").CanRefuse(ProblemCodes.InvalidRange, ProblemCodes.OutOfRange, ProblemCodes.AmbiguousTime);
        return api;
    }

    /// <summary>
    /// Write the audit entries matching <paramref name="query"/> (its paging ignored) as CSV, newest first, at most
    /// <see cref="MaxCsvRows"/>. Cells that a spreadsheet would run as a formula (=, +, -, @ ...) are escaped: actor ids,
    /// reasons and campaign names are the callers' text.
    /// </summary>
    public static Task WriteCsvAsync(IQuerySession session, CancellationAuditQuery query, Stream output, CancellationToken ct) =>
        WriteCsvAsync(session.StreamCancellationAudit(query with { AllTenants = false }, MaxCsvRows, ct), output, ct);

    /// <summary>Write <paramref name="entries"/> as CSV (<see cref="CsvExport"/>: formulas and quotes escaped).</summary>
    public static Task WriteCsvAsync(IAsyncEnumerable<CancellationAuditEntry> entries, Stream output, CancellationToken ct) =>
        CsvExport.WriteAsync(output, Columns, entries, Row, ct);

    /// <summary>The CSV columns, in order. New columns go last: spreadsheets and scripts read the others by position.</summary>
    public static readonly string[] Columns =
    [
        "Id", "CampaignId", "ChainPosition", "Outcome", "RequestedAt", "ActorId", "Channel", "ReasonCode", "ReasonText",
        "StatusAtRequest", "RejectionCode", "RejectionMessage", "DeliveredBefore", "DeliveredAfter", "Failed", "NotSent", "EffectiveAt",
        "TimeToStopSeconds", "CampaignName", "OutcomeChainPosition",
    ];

    /// <summary>One CSV line: enums as names, times in ISO 8601, numbers invariant, nulls empty.</summary>
    public static string[] Row(CancellationAuditEntry e) =>
    [
        e.Id.ToString(), e.CampaignId.ToString(), Invariant(e.ChainPosition), e.Outcome.ToString(), Time(e.RequestedAt),
        e.ActorId, e.Channel.ToString(), e.ReasonCode?.ToString() ?? "", e.ReasonText ?? "", e.StatusAtRequest?.ToString() ?? "",
        e.RejectionCode?.ToString() ?? "", e.RejectionMessage ?? "", Invariant(e.DeliveredBefore), Invariant(e.DeliveredAfter),
        Invariant(e.Failed), Invariant(e.NotSent), e.EffectiveAt is { } at ? Time(at) : "", Invariant(e.TimeToStop?.TotalSeconds),
        e.CampaignName ?? "", Invariant(e.OutcomeChainPosition),
    ];

    private static string Time(DateTimeOffset t) => IsoTime.Format(t);
    private static string Invariant(IFormattable? value) => value?.ToString(null, CultureInfo.InvariantCulture) ?? "";
}
