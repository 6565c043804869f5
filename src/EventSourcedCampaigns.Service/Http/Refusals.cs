using EventSourcedCampaigns.Decisions;

namespace EventSourcedCampaigns.Service.Http;

/// <summary>
/// The machine-readable <c>code</c> of every problem the HTTP layer answers (beside the decider's
/// <see cref="RejectionCode"/>s, whose names are their codes), with the status each comes with.
/// </summary>
public static class ProblemCodes
{
    public const string MalformedId = "malformed_id";
    public const string MalformedSequence = "malformed_sequence";
    public const string MalformedRecipientId = "malformed_recipient_id";
    public const string OutOfRange = "out_of_range";
    public const string InvalidRange = "invalid_range";
    public const string BadRequest = "bad_request";
    public const string AmbiguousSendTime = "ambiguous_send_time";
    public const string AmbiguousTime = "ambiguous_time";
    public const string BadIdempotencyKey = "bad_idempotency_key";
    public const string IdempotencyKeyReused = "idempotency_key_reused";
    public const string BadIfMatch = "bad_if_match";
    public const string PreconditionFailed = "precondition_failed";
    public const string Unauthenticated = "unauthenticated";
    public const string InsufficientScope = "insufficient_scope";
    public const string CsrfTokenMissing = "csrf_token_missing";
    public const string MissingIdentity = "missing_identity";
    public const string RecipientNotFound = "RecipientNotFound";
    public const string ConcurrencyConflict = "concurrency_conflict";
    public const string RequestTimeout = "request_timeout";
    public const string BodyTooLarge = "body_too_large";
    public const string UnsupportedMediaType = "unsupported_media_type";
    public const string RateLimited = "rate_limited";
    public const string DatabaseUnavailable = "database_unavailable";
    public const string ReadModelsBehind = "read_models_behind";

    private static readonly Dictionary<string, (int Status, string Example)> Http = new()
    {
        [MalformedId] = (400, "'not-a-guid' is not a campaign id (a GUID written 8-4-4-4-12, as the API writes it)."),
        [MalformedSequence] = (400, "'abc' is not an event sequence (a whole number, 0 or more)."),
        [MalformedRecipientId] = (400, "Name the recipient to erase by its id (1 to 500 characters)."),
        [OutOfRange] = (400, "pageSize ('1000') must be less than or equal to '500'."),
        [InvalidRange] = (400, "The start of the range is after its end."),
        [BadRequest] = (400, "The request body is not the JSON object this request takes (see /openapi/v1.json)."),
        [AmbiguousSendTime] = (400, "'2027-12-01T09:00:00' is not a send time with its offset: write it as ISO 8601 with Z or ±hh:mm, e.g. 2027-12-01T09:00:00+01:00."),
        [AmbiguousTime] = (400, "from '2027-01-01T00:00:00' is not a time with its offset: write it as ISO 8601 with Z or ±hh:mm, e.g. 2027-01-01T00:00:00Z."),
        [BadIdempotencyKey] = (400, "Give one Idempotency-Key header, of 1 to 200 characters and no comma."),
        [BadIfMatch] = (400, Preconditions.BadIfMatchDetail),
        [PreconditionFailed] = (412, Preconditions.ChangedSinceRead(new Guid("3f2b7c1e-8f43-4a57-9d55-0d1d2f0c9a11"), 7, 8)),
        [IdempotencyKeyReused] = (422, "The Idempotency-Key 'k-42' already made campaign 3f2b7c1e-8f43-4a57-9d55-0d1d2f0c9a11 from another request; send a new key for another campaign."),
        [Unauthenticated] = (401, "Sign in: send a bearer token (Authorization: Bearer ...) or an API key (Authorization: ApiKey esc_...)."),
        [InsufficientScope] = (403, "Your credentials do not allow this: it needs the scope campaigns:cancel."),
        [CsrfTokenMissing] = (403, "A request of the dashboard session that changes something must carry the session's X-CSRF-Token header."),
        [MissingIdentity] = (403, "Your credentials must name one tenant (tenant_id claim, at most 100 characters) and one subject (sub claim, at most 320), without control characters."),
        [RecipientNotFound] = (404, "Campaign 3f2b7c1e-8f43-4a57-9d55-0d1d2f0c9a11 has no recorded outcome for recipient 'r-42' (not in its audience, not sent yet, erased, or past retention)."),
        [ConcurrencyConflict] = (409, "Campaign 3f2b7c1e-8f43-4a57-9d55-0d1d2f0c9a11 was changed by another request at the same time; nothing was applied. Retry."),
        [RequestTimeout] = (408, "The request body arrived too slowly (under 240 bytes a second); nothing was applied. Send it again."),
        [BodyTooLarge] = (413, "The request body is larger than 1,048,576 bytes."),
        [UnsupportedMediaType] = (415, "Send the body as application/json."),
        [RateLimited] = (429, "This tenant made more than 1,200 requests in a minute; retry later."),
        [DatabaseUnavailable] = (503, "The campaign database is unreachable right now; nothing was applied. Retry shortly."),
        [ReadModelsBehind] = (503, "The read models did not reach sequence 42 within 10 s."),
    };

    /// <summary>The HTTP status a problem with <paramref name="code"/> comes with.</summary>
    public static int StatusOf(string code) =>
        Enum.TryParse<RejectionCode>(code, out var rejection) ? Problems.StatusOf(rejection)
        : Http.TryGetValue(code, out var known) ? known.Status
        : throw new ArgumentException($"'{code}' is not a known problem code.", nameof(code));

    /// <summary>
    /// A <c>detail</c> a problem with <paramref name="code"/> may carry: the decider's own words for a rejection (what it
    /// answers on a sample campaign), the HTTP layer's for the rest.
    /// </summary>
    public static string ExampleOf(string code) =>
        Http.TryGetValue(code, out var known) ? known.Example
        : Enum.TryParse<RejectionCode>(code, out var rejection) ? RejectionExamples.Value.GetValueOrDefault(rejection, "The campaign's status does not allow this.")
        : code;

    private static readonly Lazy<Dictionary<RejectionCode, string>> RejectionExamples = new(() =>
    {
        // The decider's texts, asked of a sample draft (and the same campaign being scheduled), not copied.
        var now = new DateTimeOffset(2026, 3, 2, 9, 0, 0, TimeSpan.Zero);
        var id = new Guid("3f2b7c1e-8f43-4a57-9d55-0d1d2f0c9a11");
        var ana = new Actor("ana@shop.example", RequestChannel.User);
        Variant[] variants = [new("A", "Spring sale", "-30% on everything", 100)];
        var create = new CreateCampaign(id, "Spring sale", Channel.Email, variants, ana);
        var draft = Decider.Run(create, null, now).State;
        var schedule = new ScheduleCampaign(id, now.AddDays(1), Audience.Of("newsletter"), 1_000, ana);
        var scheduling = Decider.Run(schedule, draft, now).State;
        CampaignCommand[] samples =
        [
            new PauseSchedule(id, ana), new ResumeSchedule(id, ana), new CloneCampaign(id, Guid.NewGuid(), false, ana),
            new CancelCampaign(id, ana, new CancelReason((CancelReasonCode)99)), new PauseSchedule(id, new Actor(" ", RequestChannel.User)),
            schedule with { Audience = new Audience([], []) }, schedule with { BatchSize = 0 }, schedule with { SendAt = now },
            new CancelCampaign(id, ana, new CancelReason(CancelReasonCode.WrongAudience)), create,
        ];
        var examples = new Dictionary<RejectionCode, string>
        {
            // These two need a campaign that has sent: the decider's words, as it writes them.
            [RejectionCode.NotCancellableSent] = "This campaign has already been fully sent. Campaigns that are fully sent can't be cancelled.",
            [RejectionCode.NotRevertible] = "Only a campaign that hasn't started sending can go back to draft; this one is Sent.",
        };
        void Add(Decision decision)
        {
            if (decision.Rejection is { } r) examples.TryAdd(r.Code, r.Message);
        }
        foreach (var command in samples) Add(Decider.Decide(command, draft, now));
        Add(Decider.Decide(new PauseSchedule(id, ana), null, now));
        Add(Decider.Decide(schedule with { SendAt = now.AddDays(2) }, scheduling, now)); // the same schedule again is no refusal
        Add(Decider.Decide(create with { Name = " " }, null, now));
        Add(Decider.Decide(create with { Variants = [] }, null, now));
        Add(Decider.Decide(create with { Channel = (Channel)99 }, null, now));
        return examples;
    });
}

/// <summary>Endpoint metadata: the problem codes an operation can answer, beside those its conventions add.</summary>
public sealed record RefusalMetadata(IReadOnlyList<string> Codes);

/// <summary>Endpoint metadata: the endpoint acts for the caller's tenant (its database, its rate limit, its identity check).</summary>
public sealed record TenantScopedMetadata;

/// <summary>Endpoint metadata: a GET honours <c>?afterSequence=</c> (read-your-writes).</summary>
public sealed record ReadYourWritesMetadata;

/// <summary>How an endpoint declares what it can refuse with; the OpenAPI document is built from it.</summary>
public static class Refusals
{
    /// <summary>The decider's rejections this operation can answer (as 400, 404 or 409, see <see cref="Problems.StatusOf"/>).</summary>
    public static RouteHandlerBuilder CanRefuse(this RouteHandlerBuilder endpoint, params RejectionCode[] codes) =>
        endpoint.CanRefuse([.. codes.Select(c => c.ToString())]);

    /// <summary>Problem codes (<see cref="ProblemCodes"/>) this operation can answer.</summary>
    public static RouteHandlerBuilder CanRefuse(this RouteHandlerBuilder endpoint, params string[] codes)
    {
        foreach (var code in codes) ProblemCodes.StatusOf(code); // an unknown code fails at startup, not in a client
        return endpoint.WithMetadata(new RefusalMetadata(codes));
    }

    /// <summary>
    /// Every code an endpoint can answer: its own, plus those of its conventions (authentication and scope, tenant,
    /// rate limit, read-your-writes, request parsing, body size and media type).
    /// </summary>
    public static IReadOnlyList<string> Of(EndpointMetadataCollection metadata, string httpMethod, bool hasBody, bool hasParameters)
    {
        var codes = new List<string>();
        codes.AddRange(metadata.GetOrderedMetadata<RefusalMetadata>().SelectMany(r => r.Codes));
        if (hasParameters || hasBody) codes.Add(ProblemCodes.BadRequest);
        if (metadata.GetMetadata<ReadYourWritesMetadata>() is not null && HttpMethods.IsGet(httpMethod))
            codes.AddRange([ProblemCodes.MalformedSequence, ProblemCodes.ReadModelsBehind]);
        if (metadata.GetMetadata<Microsoft.AspNetCore.Authorization.IAuthorizeData>() is not null)
        {
            codes.Add(ProblemCodes.Unauthenticated);
            // A dashboard session (cookie) must prove each change with its anti-forgery token.
            if (!HttpMethods.IsGet(httpMethod) && !HttpMethods.IsHead(httpMethod)) codes.Add(ProblemCodes.CsrfTokenMissing);
        }
        if (ScopesOf(metadata).Count > 0) codes.Add(ProblemCodes.InsufficientScope);
        if (metadata.GetMetadata<TenantScopedMetadata>() is not null) codes.AddRange([ProblemCodes.MissingIdentity, ProblemCodes.DatabaseUnavailable]);
        if (metadata.GetMetadata<Microsoft.AspNetCore.RateLimiting.EnableRateLimitingAttribute>() is not null) codes.Add(ProblemCodes.RateLimited);
        // The size is checked before routing, so any request can be refused for its body's size.
        codes.Add(ProblemCodes.BodyTooLarge);
        // A body that stalls is given up on by the web server (its MinRequestBodyDataRate).
        if (hasBody) codes.AddRange([ProblemCodes.UnsupportedMediaType, ProblemCodes.RequestTimeout]);
        return [.. codes.Distinct().OrderBy(ProblemCodes.StatusOf).ThenBy(c => c, StringComparer.Ordinal)];
    }

    /// <summary>The scopes an endpoint requires (its authorization policies that are scopes).</summary>
    public static IReadOnlyList<string> ScopesOf(EndpointMetadataCollection metadata) =>
        [.. metadata.GetOrderedMetadata<Microsoft.AspNetCore.Authorization.IAuthorizeData>().Select(a => a.Policy)
            .OfType<string>().Where(Security.Scopes.All.Contains).Distinct()];
}
