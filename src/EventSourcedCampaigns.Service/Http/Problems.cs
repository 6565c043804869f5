using EventSourcedCampaigns.Marten;
using Microsoft.AspNetCore.Diagnostics;

namespace EventSourcedCampaigns.Service.Http;

/// <summary>Problem details (RFC 9457) with a machine-readable "code" extension.</summary>
public static class Problems
{
    private static readonly HashSet<RejectionCode> BadInput =
    [
        RejectionCode.InvalidName, RejectionCode.InvalidVariants, RejectionCode.InvalidAudience, RejectionCode.InvalidBatchSize,
        RejectionCode.SendTimeNotInFuture, RejectionCode.InvalidCount, RejectionCode.BatchOutOfRange, RejectionCode.UnknownVariant,
        RejectionCode.TimeWentBackwards, RejectionCode.InvalidActor, RejectionCode.InvalidReason, RejectionCode.InvalidChannel,
        RejectionCode.InvalidCampaignId,
    ];

    public static IResult Problem(int status, string code, string detail) => TypedResults.Problem(
        detail: detail, statusCode: status, type: $"urn:campaigns:problem:{code}",
        extensions: new Dictionary<string, object?> { ["code"] = code });

    public static IResult BadRequest(string code, string detail) => Problem(StatusCodes.Status400BadRequest, code, detail);

    public static IResult NotFound(Guid id) => Problem(StatusCodes.Status404NotFound, nameof(RejectionCode.CampaignNotFound), $"There is no campaign {id} for this tenant.");

    /// <summary>400 for bad input, 404 for an unknown campaign, 409 when the campaign's status does not allow the command.</summary>
    public static IResult From(Rejection rejection) => Problem(StatusOf(rejection.Code), rejection.Code.ToString(), rejection.Message);

    /// <summary>The status a rejection is answered with: 400 bad input, 404 unknown campaign, 409 not allowed in its status.</summary>
    public static int StatusOf(RejectionCode code) =>
        code == RejectionCode.CampaignNotFound ? StatusCodes.Status404NotFound
        : BadInput.Contains(code) ? StatusCodes.Status400BadRequest
        : StatusCodes.Status409Conflict;

    /// <summary>The problem for a response that ended with an error status and no body (routing, binding, Kestrel).</summary>
    public static IResult StatusCodePage(HttpContext http)
    {
        var status = http.Response.StatusCode;
        var (code, detail) = status switch
        {
            StatusCodes.Status400BadRequest => ("bad_request", "The request could not be read: check its body (JSON), its query string and its headers."),
            StatusCodes.Status404NotFound => ("not_found", "There is no such resource."),
            StatusCodes.Status405MethodNotAllowed => ("method_not_allowed", $"{http.Request.Method} is not allowed here."),
            StatusCodes.Status406NotAcceptable => ("not_acceptable", "The response cannot be given in the media type asked for."),
            StatusCodes.Status413PayloadTooLarge => ("body_too_large", "The request body is too large."),
            StatusCodes.Status415UnsupportedMediaType => (ProblemCodes.UnsupportedMediaType, "Send the body as application/json."),
            _ => ($"http_{status}", $"The request failed with status {status}."),
        };
        return Problem(status, code, detail);
    }

    /// <summary>A time range whose start is after its end (every filter by time refuses it the same way).</summary>
    public static IResult InvalidRange() => BadRequest(ProblemCodes.InvalidRange, "The start of the range is after its end.");

    /// <summary>Parses a campaign id from the route, or explains why it is not one.</summary>
    public static bool TryParseId(string raw, out Guid id, out IResult? problem)
    {
        problem = Guid.TryParse(raw, out id) && id != Guid.Empty ? null : BadRequest("malformed_id", $"'{raw}' is not a campaign id (a GUID).");
        return problem is null;
    }
}

/// <summary>Maps the library's typed failures that surface as exceptions.</summary>
public sealed class CampaignExceptionHandler : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken cancellationToken)
    {
        var problem = exception switch
        {
            CampaignConcurrencyException e => Problems.Problem(StatusCodes.Status409Conflict, "concurrency_conflict", e.Message),
            ArgumentOutOfRangeException e => Problems.BadRequest("out_of_range", e.Message),
            BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } e => Problems.Problem(e.StatusCode, "body_too_large", e.Message),
            BadHttpRequestException e => Problems.BadRequest("bad_request", e.Message),
            // The database is restarting or unreachable: nothing was applied; the caller may retry. Marten wraps what
            // Npgsql throws (MartenCommandException), so the cause is looked for along the chain.
            _ when FromDatabase(exception) => Problems.Problem(StatusCodes.Status503ServiceUnavailable, "database_unavailable",
                "The campaign database is unreachable right now; nothing was applied. Retry shortly."),
            _ => null,
        };
        if (problem is null) return false;
        await problem.ExecuteAsync(http);
        return true;
    }

    private static bool FromDatabase(Exception? exception)
    {
        for (; exception is not null; exception = exception.InnerException)
            if (exception is Npgsql.NpgsqlException) return true;
        return false;
    }
}
