using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using EventSourcedCampaigns.Marten;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.Primitives;

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
            StatusCodes.Status408RequestTimeout => (ProblemCodes.RequestTimeout, "The request arrived too slowly; nothing was applied. Send it again."),
            StatusCodes.Status413PayloadTooLarge => ("body_too_large", "The request body is too large."),
            StatusCodes.Status415UnsupportedMediaType => (ProblemCodes.UnsupportedMediaType, "Send the body as application/json."),
            _ => ($"http_{status}", $"The request failed with status {status}."),
        };
        return Problem(status, code, detail);
    }

    /// <summary>A time range whose start is after its end (every filter by time refuses it the same way).</summary>
    public static IResult InvalidRange() => BadRequest(ProblemCodes.InvalidRange, "The start of the range is after its end.");

    /// <summary>
    /// A refusal of <c>?page=</c> or <c>?pageSize=</c> out of range, in the query's own words (the library's exception names
    /// its parameters, <c>pageNumber</c>), or null.
    /// </summary>
    public static IResult? BadPaging(int? page, int? pageSize) =>
        page < 1 ? BadRequest(ProblemCodes.OutOfRange, string.Create(CultureInfo.InvariantCulture, $"page must be 1 or more, not {page}."))
        : pageSize is < 1 or > CampaignQueries.MaxPageSize ? BadRequest(ProblemCodes.OutOfRange,
            string.Create(CultureInfo.InvariantCulture, $"pageSize must be from 1 to {CampaignQueries.MaxPageSize}, not {pageSize}."))
        : null;

    /// <summary>Parses a campaign id from the route, or explains why it is not one.</summary>
    public static bool TryParseId(string raw, out Guid id, out IResult? problem)
    {
        // Only the form the API writes ids in: Guid.TryParse also reads braces, parentheses, no dashes and spaces around
        // (TryParseExact trims them too, hence the length), so one campaign would have many addresses.
        id = Guid.Empty;
        problem = raw.Length == 36 && Guid.TryParseExact(raw, "D", out id)
            ? id == Guid.Empty ? BadRequest("malformed_id", $"'{raw}' is the nil GUID, which is never a campaign's id.") : null
            : BadRequest("malformed_id", $"'{raw}' is not a campaign id (a GUID written 8-4-4-4-12, as the API writes it).");
        return problem is null;
    }
}

/// <summary>
/// Values of the query string, the route and headers mean one thing only (docs/api.md), as in JSON bodies:
/// <list type="bullet">
/// <item>A query parameter the endpoint reads is given once. Given twice, minimal APIs bind the values joined by commas (a
/// string filter then matches neither) or the first (<c>?afterSequence=</c>): which one a proxy or a client library
/// reads need not be the one the service would have used, so it is refused (400 bad_request).</item>
/// <item>Enums are their names. Minimal APIs bind them with <c>Enum.TryParse</c>, which also reads a number
/// (<c>?status=2</c>, <c>99</c>, <c>-1</c>) and names joined by commas (<c>Draft,Sent</c>, their values OR-ed): refused
/// with the problem an unknown name gets (400 bad_request). Names match in their case, as the binding matches them.</item>
/// <item>Ids are written 8-4-4-4-12, as the API writes them (hex digits in either case): Guid binding also reads braces,
/// parentheses and 32 digits without dashes, so one campaign would have many spellings (400 bad_request).</item>
/// <item>Times carry their offset (<c>Z</c> or <c>±hh:mm</c>): one without would be read in the server's zone, so it is
/// refused (400 ambiguous_time), as a send time without one is; one written otherwise than <see cref="IsoTime"/> takes
/// (<c>+01</c>, a space before the offset) is malformed (400 bad_request).</item>
/// </list>
/// Checked before the endpoint runs.
/// </summary>
public static class StrictValues
{
    private enum Source { RouteOrQuery, Route, Query, Header }

    /// <summary>A parameter's check: given once in the query (unless an array), and its value's refusal if it has one (null when clear).</summary>
    private sealed record Check(string Name, Source From, bool Many, Func<string, string, IResult?>? Refusal);

    /// <summary>
    /// An endpoint filter factory: a check of each parameter bound from the route, the query or a header (values of enum and
    /// time parameters, and that a query parameter is not repeated), and of <c>?afterSequence=</c> where it is honoured.
    /// </summary>
    public static EndpointFilterDelegate RefuseUnclearValues(EndpointFilterFactoryContext context, EndpointFilterDelegate next)
    {
        var checks = new List<Check>();
        foreach (var parameter in context.MethodInfo.GetParameters())
        {
            var many = parameter.ParameterType.IsArray;
            var type = many ? parameter.ParameterType.GetElementType()! : parameter.ParameterType;
            type = Nullable.GetUnderlyingType(type) ?? type;
            if (parameter.Name is null || !FromText(type)) continue;
            Func<string, string, IResult?>? refusal = type.IsEnum ? NameOf(type) : type == typeof(DateTimeOffset) ? WithOffset
                : type == typeof(Guid) ? WrittenAsId : null;
            var attributes = parameter.GetCustomAttributes(true);
            (string Name, Source From)? bound =
                attributes.OfType<IFromRouteMetadata>().FirstOrDefault() is { } route ? (route.Name ?? parameter.Name, Source.Route)
                : attributes.OfType<IFromQueryMetadata>().FirstOrDefault() is { } query ? (query.Name ?? parameter.Name, Source.Query)
                : attributes.OfType<IFromHeaderMetadata>().FirstOrDefault() is { } header ? (header.Name ?? parameter.Name, Source.Header)
                : attributes.Any(a => a is IFromBodyMetadata or IFromServiceMetadata or IFromFormMetadata) ? null // JSON: its converter's
                : (parameter.Name, Source.RouteOrQuery);
            if (bound is { } b) checks.Add(new Check(b.Name, b.From, many, refusal));
        }
        // Read by the read-your-writes filter, not bound: known per request.
        var afterSequence = new Check(QueryEndpoints.AfterSequence, Source.Query, false, null);
        return invocation =>
        {
            var request = invocation.HttpContext.Request;
            foreach (var check in QueryEndpoints.HonoursAfterSequence(invocation.HttpContext) ? checks.Append(afterSequence) : checks)
            {
                var values = check.From switch
                {
                    Source.Route => Route(request, check.Name),
                    Source.Query => request.Query[check.Name],
                    Source.Header => request.Headers[check.Name],
                    _ => request.RouteValues.ContainsKey(check.Name) ? Route(request, check.Name) : request.Query[check.Name],
                };
                // Query names match in any case: ?page=1&Page=2 is page twice.
                if (values.Count > 1 && !check.Many && check.From is Source.Query or Source.RouteOrQuery)
                    return ValueTask.FromResult<object?>(Problems.BadRequest(ProblemCodes.BadRequest, string.Create(CultureInfo.InvariantCulture,
                        $"The query parameter {check.Name} is given {values.Count} times: give it once.")));
                if (check.Refusal is null) continue;
                // An array parameter binds each of its repeated values; a header given twice binds them joined by commas.
                foreach (var value in check.Many ? values.ToArray() : [values.ToString()])
                    if (!string.IsNullOrEmpty(value) && check.Refusal(check.Name, value) is { } problem) // empty: the binding's to refuse or skip
                        return ValueTask.FromResult<object?>(problem);
            }
            return next(invocation);
        };
    }

    /// <summary>Whether minimal APIs bind the type from a string (route, query, header): a string, an enum, or a type with TryParse.</summary>
    private static bool FromText(Type type) =>
        type == typeof(string) || type.IsEnum || type.GetMethods(BindingFlags.Public | BindingFlags.Static).Any(m => m.Name == "TryParse");

    /// <summary>
    /// Why the value of parameter <paramref name="name"/> did not bind, as the filter would say it had it bound: ASP.NET's own
    /// words name neither the parameter's kind nor the values it takes (<c>?status=scheduled</c>: its names are written
    /// Scheduled). Null when the endpoint has no such parameter of a kind explained here.
    /// </summary>
    internal static IResult? RefusalOfUnbound(HttpContext http, string name, string value)
    {
        // Met in the exception handler, which clears the request's endpoint: the failed one is on its feature.
        var endpoint = http.Features.Get<IExceptionHandlerFeature>()?.Endpoint ?? http.GetEndpoint();
        var parameter = endpoint?.Metadata.GetOrderedMetadata<IParameterBindingMetadata>().FirstOrDefault(p => p.Name == name)?.ParameterInfo;
        if (parameter is null) return null;
        // Two values of a parameter that takes one do not bind (?page=1&page=2 reads "1,2"): said as the filter says it.
        if (!parameter.ParameterType.IsArray && http.Request.Query[name] is { Count: > 1 } values)
            return Problems.BadRequest(ProblemCodes.BadRequest, string.Create(CultureInfo.InvariantCulture,
                $"The query parameter {name} is given {values.Count} times: give it once."));
        var type = parameter.ParameterType.IsArray ? parameter.ParameterType.GetElementType()! : parameter.ParameterType;
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type.IsEnum ? NameOf(type)(name, value)
            : type == typeof(DateTimeOffset) ? WithOffset(name, value)
            : type == typeof(Guid) ? WrittenAsId(name, value)
            : type == typeof(int) || type == typeof(long) ? Problems.BadRequest(ProblemCodes.BadRequest, string.Create(CultureInfo.InvariantCulture,
                $"{name} must be a whole number, not '{Shown(value)}'."))
            : null;
    }

    private static Func<string, string, IResult?> NameOf(Type enumType)
    {
        HashSet<string> names = [.. Enum.GetNames(enumType)];
        return (name, value) => names.Contains(value) ? null : Problems.BadRequest(ProblemCodes.BadRequest, string.Create(CultureInfo.InvariantCulture,
            $"{name} must be one of {string.Join(", ", names)}, by name, not '{Shown(value)}'."));
    }

    private static IResult? WithOffset(string name, string value) =>
        IsoTime.TryParse(value, out _) ? null
        : IsoTime.IsWithoutOffset(value)
            ? Problems.BadRequest(ProblemCodes.AmbiguousTime, string.Create(CultureInfo.InvariantCulture,
                $"{name} '{Shown(value)}' is not a time with its offset: {IsoTime.HowToWrite} 2027-01-01T00:00:00Z."))
        : Problems.BadRequest(ProblemCodes.BadRequest, string.Create(CultureInfo.InvariantCulture,
            $"{name} '{Shown(value)}' is not a date and time: {IsoTime.HowToWrite} 2027-01-01T00:00:00Z."));

    // As a campaign id in a path (Problems.TryParseId): Guid binding also reads braces, parentheses and 32 digits without dashes.
    private static IResult? WrittenAsId(string name, string value) =>
        value.Length == 36 && Guid.TryParseExact(value, "D", out _) ? null
        : Problems.BadRequest(ProblemCodes.BadRequest, string.Create(CultureInfo.InvariantCulture,
            $"{name} '{Shown(value)}' is not a campaign id: a GUID written 8-4-4-4-12, as the API writes it."));

    private static StringValues Route(HttpRequest request, string name) => request.RouteValues[name]?.ToString() ?? StringValues.Empty;

    private static string Shown(string? value) => Http.Shown.Start(value);
}

/// <summary>ISO 8601 times as the API takes them (docs/api.md): a date, <c>T</c>, a time, then <c>Z</c> or <c>±hh:mm</c>.</summary>
public static partial class IsoTime
{
    /// <summary>
    /// A time as the JSON bodies write it (System.Text.Json: seconds' fraction without trailing zeros, offset ±hh:mm), for
    /// the CSV exports, so that one instant is spelled alike in a JSON answer and in a CSV row.
    /// </summary>
    public static string Format(DateTimeOffset time) => time.ToString("yyyy'-'MM'-'dd'T'HH':'mm':'ss.FFFFFFFzzz", CultureInfo.InvariantCulture);

    /// <summary>How a refusal tells the caller to write a time, followed by an example.</summary>
    public const string HowToWrite = "write it as ISO 8601 with Z or ±hh:mm, e.g.";

    /// <summary>
    /// Whether <paramref name="raw"/> is a date and time without an offset, which parsing would read in the server's zone
    /// (ambiguous). A value that is no date and time at all (<c>tomorrow</c>, empty), or one with an offset written otherwise
    /// than documented (<c>2027-12-01 09:00:00Z</c>, <c>+01</c>), is malformed instead.
    /// </summary>
    public static bool IsWithoutOffset(string? raw) =>
        raw is { Length: <= 40 } && DateTime.TryParse(raw, CultureInfo.InvariantCulture, DateTimeStyles.None, out var time)
        && time.Kind == DateTimeKind.Unspecified;

    /// <summary>
    /// Reads a time written as documented: <c>yyyy-MM-ddTHH:mm</c>, optionally <c>:ss</c> and a fraction, then <c>Z</c> or
    /// <c>±hh:mm</c>. <see cref="DateTimeOffset.TryParse(string?, IFormatProvider?, DateTimeStyles, out DateTimeOffset)"/>
    /// alone also reads an offset of hours only (<c>+01</c>), without its colon (<c>+0100</c>) or after a space, which the API
    /// does not promise: a client that relied on them would break on a stricter server or proxy.
    /// </summary>
    public static bool TryParse(string? raw, out DateTimeOffset value)
    {
        value = default;
        return raw is { Length: <= 40 } && Documented().IsMatch(raw)
               && DateTimeOffset.TryParse(raw, CultureInfo.InvariantCulture, DateTimeStyles.None, out value);
    }

    [GeneratedRegex(@"\A[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?([Zz]|[+-][0-9]{2}:[0-9]{2})\z", RegexOptions.CultureInvariant)]
    private static partial Regex Documented();
}

/// <summary>Maps the library's typed failures that surface as exceptions.</summary>
public sealed partial class CampaignExceptionHandler : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken cancellationToken)
    {
        var problem = exception switch
        {
            CampaignConcurrencyException e => Problems.Problem(StatusCodes.Status409Conflict, "concurrency_conflict", e.Message),
            ArgumentOutOfRangeException e => Problems.BadRequest("out_of_range", e.Message),
            BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } e => Problems.Problem(e.StatusCode, "body_too_large",
                // A chunked body is stopped by Kestrel with its own words: the same ones as a body whose length says so up front.
                MaxBody(http) is { } max ? string.Create(CultureInfo.InvariantCulture, $"The request body is larger than {max:N0} bytes.") : e.Message),
            // Retryable, and said so: a client's retry policy retries a 408, not a 400.
            BadHttpRequestException { StatusCode: StatusCodes.Status408RequestTimeout } => Problems.Problem(StatusCodes.Status408RequestTimeout,
                ProblemCodes.RequestTimeout, "The request body arrived too slowly (under 240 bytes a second); nothing was applied. Send it again."),
            BadHttpRequestException e when PagingPastInt(e) is { } range => Problems.BadRequest(ProblemCodes.OutOfRange, range),
            BadHttpRequestException e when Unbound(e) is var (name, value) && StrictValues.RefusalOfUnbound(http, name, value) is { } refused => refused,
            BadHttpRequestException e => Problems.BadRequest("bad_request", Explain(e)),
            // The database is restarting or unreachable: nothing was applied; the caller may retry. Marten wraps what
            // Npgsql throws (MartenCommandException), so the cause is looked for along the chain.
            // A statement that ran past the command timeout is no outage: retrying the same query will not help (an audit
            // at scale was told the database was unreachable while it answered everything else).
            // Every pooled connection busy (Npgsql's "connection pool has been exhausted", a timeout too): the query was never sent.
            _ when PoolExhausted(exception) => Problems.Problem(StatusCodes.Status503ServiceUnavailable, "database_unavailable",
                "Every database connection of the service is in use (its Maximum Pool Size); nothing was applied. Retry shortly."),
            _ when TimedOut(exception) => Problems.Problem(StatusCodes.Status503ServiceUnavailable, "database_unavailable",
                "The database did not answer this request within its command timeout; nothing was applied. Retry later, or ask for less (a smaller page, a narrower filter)."),
            _ when FromDatabase(exception) => Problems.Problem(StatusCodes.Status503ServiceUnavailable, "database_unavailable",
                "The campaign database is unreachable right now; nothing was applied. Retry shortly."),
            _ => null,
        };
        if (problem is null) return false;
        // Logged as refusals are: the route pattern and the kind of failure, never the statement (its parameters may be recipient ids).
        if (FromDatabase(exception))
            http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger<CampaignExceptionHandler>()
                .LogWarning("{Method} {Route} answered 503: {Failure}", http.Request.Method,
                    // The exception handler clears the request's endpoint before it runs; its feature keeps it.
                    ((http.Features.Get<IExceptionHandlerFeature>()?.Endpoint ?? http.GetEndpoint()) as RouteEndpoint)?.RoutePattern.RawText ?? "(no route)",
                    PoolExhausted(exception) ? "every pooled connection was in use"
                    : TimedOut(exception) ? "a statement ran past the command timeout" : "the database could not be reached");
        await problem.ExecuteAsync(http);
        return true;
    }

    private static long? MaxBody(HttpContext http) => http.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize;

    /// <summary>
    /// A <c>page</c> or <c>pageSize</c> that is a whole number past what the binding reads (2,147,483,647 either way): out of
    /// range, as a smaller one past the limits is, not a value of the wrong kind.
    /// </summary>
    internal static string? PagingPastInt(BadHttpRequestException e) =>
        BindFailure().Match(e.Message) is { Success: true } bind && WholeNumber().IsMatch(bind.Groups["value"].Value)
            ? bind.Groups["name"].Value switch
            {
                "page" => string.Create(CultureInfo.InvariantCulture, $"page must be from 1 to {int.MaxValue:N0}, not {Shown(bind.Groups["value"].Value)}."),
                "pageSize" => string.Create(CultureInfo.InvariantCulture, $"pageSize must be from 1 to {CampaignQueries.MaxPageSize}, not {Shown(bind.Groups["value"].Value)}."),
                _ => null,
            }
            : null;

    /// <summary>The parameter and the value ASP.NET's binding could not read, if that is what <paramref name="e"/> says.</summary>
    internal static (string Name, string Value)? Unbound(BadHttpRequestException e) =>
        BindFailure().Match(e.Message) is { Success: true } bind ? (bind.Groups["name"].Value, bind.Groups["value"].Value) : null;

    /// <summary>
    /// What ASP.NET's binding says about a request it cannot read, in the caller's terms: it names its own types
    /// ("CreateCampaignBody body", "Nullable&lt;CampaignSort&gt; sort") and asks whether a service was meant.
    /// </summary>
    internal static string Explain(BadHttpRequestException e)
    {
        if (e.Message.StartsWith("Implicit body inferred", StringComparison.Ordinal))
            return "This request takes a JSON body (its schema is in /openapi/v1.json), and none was sent.";
        if (BindFailure().Match(e.Message) is { Success: true } bind)
            return $"The parameter {bind.Groups["name"].Value} cannot be '{Shown(bind.Groups["value"].Value)}' (given twice, or not one of its values): see /openapi/v1.json.";
        if (e.InnerException is JsonException json && e.Message.StartsWith("Failed to read parameter", StringComparison.Ordinal))
        {
            // Our own converters explain themselves (an enum by name, a time with its offset); System.Text.Json names CLR types.
            if (MissingRequired().Match(json.Message) is { Success: true } missing)
                return $"The request body lacks required properties: {missing.Groups["names"].Value}.";
            // System.Text.Json: "Cannot transcode invalid UTF-8 ...", "Cannot read incomplete UTF-16 JSON text ... surrogate".
            // System.Text.Json: "The maximum configured depth of 64 has been exceeded" (an array in an array, 5,000 deep).
            if (json.Message.Contains("maximum configured depth", StringComparison.Ordinal))
                return "The request body nests its values too deeply (more than 64 levels): no body of this API nests more than a few.";
            if (json.InnerException is InvalidOperationException { Message: var text } && text.Contains(" UTF-", StringComparison.Ordinal))
                return $"The request body's value at {json.Path ?? "$"} is not valid Unicode text (a lone surrogate such as \\ud800, or bytes that are not UTF-8).";
            if (!json.Message.StartsWith("The JSON value could not be converted", StringComparison.Ordinal)
                && !json.Message.Contains("is an invalid", StringComparison.Ordinal) && !json.Message.Contains("LineNumber", StringComparison.Ordinal))
                return json.Message;
            return json.Path is { Length: > 0 } path && path != "$"
                ? $"The request body's value at {path} is not of the type the schema gives it (see /openapi/v1.json)."
                : "The request body is not the JSON object this request takes (see /openapi/v1.json).";
        }
        return e.Message;
    }

    private static string Shown(string value) => Http.Shown.Start(value);

    [GeneratedRegex(@"\A[+-]?[0-9]+\z")]
    private static partial Regex WholeNumber();

    [GeneratedRegex("""\AFailed to bind parameter "(?:[^"]* )?(?<name>[A-Za-z0-9_]+)" from "(?<value>.*)"\.\z""", RegexOptions.Singleline)]
    private static partial Regex BindFailure();

    [GeneratedRegex("missing required properties including: (?<names>.*?)\\.?\\z", RegexOptions.Singleline)]
    private static partial Regex MissingRequired();

    private static bool PoolExhausted(Exception? exception)
    {
        for (; exception is not null; exception = exception.InnerException)
            if (exception is Npgsql.NpgsqlException { InnerException: TimeoutException } e
                && e.Message.Contains("connection pool has been exhausted", StringComparison.OrdinalIgnoreCase)) return true;
        return false;
    }

    private static bool TimedOut(Exception? exception)
    {
        for (; exception is not null; exception = exception.InnerException)
            if (exception is Npgsql.PostgresException { SqlState: Npgsql.PostgresErrorCodes.QueryCanceled }
                or Npgsql.NpgsqlException { InnerException: TimeoutException }) return true;
        return false;
    }

    private static bool FromDatabase(Exception? exception)
    {
        for (; exception is not null; exception = exception.InnerException)
            if (exception is Npgsql.NpgsqlException) return true;
        return false;
    }
}
