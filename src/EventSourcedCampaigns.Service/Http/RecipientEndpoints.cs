using System.Globalization;
using EventSourcedCampaigns.Marten;
using Marten;

namespace EventSourcedCampaigns.Service.Http;

/// <summary>What an erase answers: the recipient and how many of the tenant's campaigns had it.</summary>
public sealed record RecipientErased(string RecipientId, long ErasedFromCampaigns);

/// <summary>
/// Who received a campaign: one recipient's outcome, the recipients of an outcome (paged), a CSV export, and the erase of
/// a recipient across the tenant's campaigns. Outcomes are written with each batch's record, not by the read models, so
/// <c>?afterSequence=</c> is not needed: a batch's outcomes are visible as soon as its event is. A campaign the caller's
/// tenant does not have is a 404 (CampaignNotFound), as on every other endpoint that names one, not an empty list.
/// </summary>
public static class RecipientEndpoints
{
    public static RouteGroupBuilder MapRecipientQueries(this RouteGroupBuilder api)
    {
        api.MapGet("/campaigns/{id}/recipients/{recipientId}", async (string id, string recipientId, HttpContext http, IDocumentStore store) =>
        {
            recipientId = FromPath(recipientId);
            if (string.IsNullOrWhiteSpace(recipientId) || recipientId.Length > 500 || recipientId.Contains('\0'))
                return Problems.BadRequest(ProblemCodes.MalformedRecipientId, "A recipient id has 1 to 500 characters, not all blank, and no NUL character.");
            if (!Problems.TryParseId(id, out var campaignId, out var bad)) return bad!;
            await using var session = store.QuerySession(http.Tenant());
            if (await session.LoadCampaignStateAsync(campaignId, http.RequestAborted) is null) return Problems.NotFound(campaignId);
            return await session.LoadRecipientOutcomeAsync(campaignId, recipientId, http.RequestAborted) is { } outcome
                ? Results.Ok(outcome)
                : Problems.Problem(StatusCodes.Status404NotFound, ProblemCodes.RecipientNotFound,
                    $"Campaign {campaignId} has no recorded outcome for recipient '{recipientId}' (not in its audience, not sent yet, erased, or past retention).");
        }).WithName("GetRecipientOutcome").RequireAuthorization(Security.Scopes.CampaignsRead).WithTags("Recipients")
            .WithSummary("Did this recipient get this campaign: delivered, failed (with the reason), not sent.")
            .WithDescription("The outcome recorded with the recipient's batch; 404 when it is not in the audience, not sent yet, erased or past retention.")
            .Produces<RecipientResult>().CanRefuse(ProblemCodes.MalformedId, ProblemCodes.MalformedRecipientId, ProblemCodes.RecipientNotFound)
            .CanRefuse(RejectionCode.CampaignNotFound);

        api.MapGet("/campaigns/{id}/recipients", async (string id, HttpContext http, IDocumentStore store, RecipientOutcome? outcome, int? page, int? pageSize) =>
        {
            if (!Problems.TryParseId(id, out var campaignId, out var bad)) return bad!;
            if (Problems.BadPaging(page, pageSize) is { } badPaging) return badPaging;
            await using var session = store.QuerySession(http.Tenant());
            if (await session.LoadCampaignStateAsync(campaignId, http.RequestAborted) is null) return Problems.NotFound(campaignId);
            return Results.Ok(await session.QueryRecipientOutcomesAsync(
                new RecipientOutcomeQuery(campaignId, outcome, page ?? 1, pageSize ?? 50), http.RequestAborted));
        }).WithName("ListRecipientOutcomes").RequireAuthorization(Security.Scopes.CampaignsRead).WithTags("Recipients")
            .WithSummary("A campaign's recipients and their outcomes, in batch order; ?outcome=NotSent for the recipients not reached.")
            // A client that stops at the first short page (the end of every other list) stopped at an erased recipient.
            .WithDescription("Pages of 50 unless pageSize says (at most 500). A recipient erased since is left out of its page, which is then " +
                             "shorter though more pages follow, while total still counts them: page until page times pageSize reaches total, not until a short page.")
            .Produces<Page<RecipientResult>>().CanRefuse(ProblemCodes.MalformedId, ProblemCodes.OutOfRange).CanRefuse(RejectionCode.CampaignNotFound);

        api.MapGet("/campaigns/{id}/recipients.csv", async (string id, HttpContext http, IDocumentStore store, RecipientOutcome? outcome) =>
        {
            if (!Problems.TryParseId(id, out var campaignId, out var bad)) return bad!;
            await using (var check = store.QuerySession(http.Tenant()))
                if (await check.LoadCampaignStateAsync(campaignId, http.RequestAborted) is null) return Problems.NotFound(campaignId);
            return Results.Stream(async body =>
            {
                await using var session = store.QuerySession(http.Tenant());
                await WriteCsvAsync(session.StreamRecipientOutcomesAsync(campaignId, outcome, ct: http.RequestAborted), body, http.RequestAborted);
            }, "text/csv; charset=utf-8", $"campaign-{campaignId:N}-recipients.csv");
        }).WithName("ExportRecipientOutcomes").RequireAuthorization(Security.Scopes.CampaignsRead).WithTags("Recipients")
            .WithSummary("Every recorded recipient of a campaign as CSV (streamed).")
            .WithDescription("Columns recipient_id, outcome, reason, batch, variant, recorded_at; ?outcome= keeps one outcome.")
            .Produces<string>(StatusCodes.Status200OK, "text/csv").CanRefuse(ProblemCodes.MalformedId).CanRefuse(RejectionCode.CampaignNotFound);

        api.MapDelete("/recipients/{recipientId}", async (string recipientId, HttpContext http, IDocumentStore store) =>
        {
            recipientId = FromPath(recipientId);
            if (string.IsNullOrWhiteSpace(recipientId) || recipientId.Length > 500 || recipientId.Contains('\0'))
                return Problems.BadRequest(ProblemCodes.MalformedRecipientId, "Name the recipient to erase by its id (1 to 500 characters).");
            var campaigns = await store.EraseRecipientAsync(http.Tenant(), recipientId, CancellationToken.None);
            return Results.Ok(new RecipientErased(recipientId, campaigns));
        }).WithName("EraseRecipient").RequireAuthorization(Security.Scopes.CampaignsWrite).WithTags("Recipients")
            .WithSummary("Erase a recipient (id, address, name, refusal reason) from the recorded outcomes and the prepared batches of every campaign of the tenant; counts stay.")
            .WithDescription("Answers how many campaigns had the recipient recorded or prepared. Erasing an unknown recipient erases nothing and is not an error. " +
                             "A prepared batch goes to the provider without them and counts them as failed; a batch whose provider call has begun cannot be recalled, " +
                             "and a campaign still resolving its audience gets later pages from the contact lists: remove the recipient there first.")
            .Produces<RecipientErased>().CanRefuse(ProblemCodes.MalformedRecipientId);
        return api;
    }

    /// <summary>Write <paramref name="recipients"/> as CSV (<see cref="CsvExport"/>: formulas and quotes escaped).</summary>
    public static Task WriteCsvAsync(IAsyncEnumerable<RecipientResult> recipients, Stream output, CancellationToken ct) =>
        CsvExport.WriteAsync(output, CsvColumns, recipients, CsvRow, ct);

    /// <summary>The recipients CSV's columns, in order.</summary>
    /// <summary>
    /// A recipient id as written in a path segment: the server decodes every escape but <c>%2F</c> (a "/", which would
    /// split the segment), so an id with a slash ("crm/42", written crm%2F42) was looked for as "crm%2F42" and never found.
    /// </summary>
    private static string FromPath(string segment) => segment.Replace("%2F", "/", StringComparison.OrdinalIgnoreCase);

    public static readonly string[] CsvColumns = ["recipient_id", "outcome", "reason", "batch", "variant", "recorded_at"];

    /// <summary>One recipient's CSV line (written by <see cref="CsvExport"/>, which escapes formulas and quotes).</summary>
    public static string[] CsvRow(RecipientResult r) =>
    [
        r.RecipientId, r.Outcome.ToString(), r.Reason ?? "", r.BatchNumber.ToString(CultureInfo.InvariantCulture), r.Variant ?? "",
        IsoTime.Format(r.RecordedAt),
    ];
}
