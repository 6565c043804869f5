using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Serialization;
using EventSourcedCampaigns.Decisions;
using EventSourcedCampaigns.Marten;
using EventSourcedCampaigns.Service.Security;
using EventSourcedCampaigns.Wolverine;
using Marten;
using Wolverine;

namespace EventSourcedCampaigns.Service.Http;

/// <summary>Body of POST /api/campaigns. The channel is required: no channel is assumed.</summary>
public sealed record CreateCampaignBody(string Name, [property: JsonRequired] Channel Channel, Variant[] Variants);
/// <summary>Body of POST /api/campaigns/{id}/edit: the new name and variants (a paused campaign keeps its variants' keys and split).</summary>
public sealed record EditCampaignBody(string Name, Variant[] Variants);
/// <summary>
/// Body of POST /api/campaigns/{id}/schedule. <see cref="SendAt"/> is an ISO 8601 time with its offset
/// ("2027-12-01T09:00:00+01:00" or "...Z"); a time without one is refused as ambiguous. The batch size defaults to 1,000.
/// </summary>
public sealed record ScheduleCampaignBody(string SendAt, string[] Included, string[]? Excluded, int? BatchSize);
/// <summary>Body of POST /api/campaigns/{id}/cancel: the reason code is required.</summary>
public sealed record CancelCampaignBody(CancelReasonCode? ReasonCode, string? Reason);
/// <summary>Body of POST /api/campaigns/{id}/clone: the whole audience again, or only the recipients not reached.</summary>
public sealed record CloneCampaignBody([property: JsonRequired] bool RemainderOnly);

/// <summary>Endpoint metadata: the command creates a campaign (201 with Location; the Idempotency-Key header applies).</summary>
public sealed record CreatesCampaignMetadata;

/// <summary>
/// What a command answers: the campaign, its status now, how many events changed it (0 when nothing did: a retried
/// create, a repeated cancel, whose audit-only event is at <see cref="Sequence"/> all the same), and the sequence to wait for.
/// </summary>
public sealed record CommandAccepted(Guid CampaignId, CampaignStatus? Status, int Events, long Sequence);

/// <summary>
/// Commands over HTTP, through the one command door (<see cref="CampaignSendingExtensions.ExecuteCampaignCommandAsync(IMessageBus, string, CampaignCommand, long?, CancellationToken)"/>):
/// the same clock clamp, stream lock, clean-up and follow-up work as every other caller. The tenant and the actor are
/// the authenticated caller's (<see cref="Tenancy"/>).
/// </summary>
public static class CommandEndpoints
{
    /// <summary>A retried create or clone with the same key returns the campaign the first one made.</summary>
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    public static RouteGroupBuilder MapCampaignCommands(this RouteGroupBuilder api)
    {
        api.MapPost("/campaigns", (CreateCampaignBody body, HttpContext http, IMessageBus bus, IDocumentStore store) =>
                Run(http, bus, store, null, (id, actor) => new CreateCampaign(id, body.Name, body.Channel, body.Variants, actor)))
            .WithName("CreateCampaign").RequireAuthorization(Scopes.CampaignsWrite)
            .Command(StatusCodes.Status201Created, "Create a draft campaign.",
                "A new draft with its name, channel and message variants (A/B splits adding up to 100%). Every variant has content; " +
                "an email's variants need a subject and a push's a title (its subject), an SMS has none. Answers 201 with the " +
                "campaign's send report as Location. With an Idempotency-Key header, a retry answers with the campaign the first " +
                "request made; the same key with another name, channel or variants is refused (422), nothing written.",
                RejectionCode.CampaignAlreadyExists, RejectionCode.InvalidName, RejectionCode.InvalidVariants, RejectionCode.InvalidChannel,
                RejectionCode.InvalidActor);
        api.MapPost("/campaigns/{id}/edit", (string id, EditCampaignBody body, HttpContext http, IMessageBus bus, IDocumentStore store) =>
                Preconditions.TryReadIfMatch(http.Request, out var expectedVersion, out var refused)
                    ? Run(http, bus, store, id, (campaign, actor) => new EditCampaign(campaign, body.Name, body.Variants, actor), expectedVersion)
                    : Task.FromResult(refused!))
            .WithName("EditCampaign").RequireAuthorization(Scopes.CampaignsWrite)
            .Command(StatusCodes.Status200OK, "Change a draft's or a paused campaign's name and content.",
                "A draft can change its name and variants freely. A paused campaign's audience is already split into batches per " +
                "variant: it can change its name and each variant's subject and content, but not the variants' keys or split. " +
                "With If-Match (the ETag of GetCampaignEvents), a change is applied only if the campaign has not changed since " +
                "(no event since, an audited refused cancel included): otherwise 412 precondition_failed, nothing applied. An edit " +
                "the rules refuse, or already in effect (events: 0), is answered as without If-Match.",
                RejectionCode.CampaignNotFound, RejectionCode.NotEditable, RejectionCode.InvalidName, RejectionCode.InvalidVariants,
                RejectionCode.InvalidActor)
            .WithMetadata(new IfMatchMetadata()).CanRefuse(ProblemCodes.BadIfMatch, ProblemCodes.PreconditionFailed);
        api.MapPost("/campaigns/{id}/schedule", (string id, ScheduleCampaignBody body, HttpContext http, IMessageBus bus, IDocumentStore store) =>
                ParseSendAt(body.SendAt, out var sendAt, out var refused)
                    ? Run(http, bus, store, id, (campaign, actor) => new ScheduleCampaign(campaign, sendAt,
                        new Audience(body.Included ?? [], body.Excluded ?? []), body.BatchSize ?? 1_000, actor))
                    : Task.FromResult(refused!))
            .WithName("ScheduleCampaign").RequireAuthorization(Scopes.CampaignsWrite)
            .Command(StatusCodes.Status200OK, "Schedule a draft.",
                "The audience (included lists and segments minus excluded ones) is prepared into batches, then the campaign sends " +
                "at sendAt, an ISO 8601 time with its offset. A clone for the remainder of a send cancelled midway goes to the recipients " +
                "its source did not reach, whatever lists it names, and may name none (included: []); the source of one cancelled " +
                "before it sent reached nobody, so that clone is an ordinary draft and names its lists.",
                RejectionCode.CampaignNotFound, RejectionCode.NotSchedulable, RejectionCode.InvalidAudience, RejectionCode.InvalidBatchSize,
                RejectionCode.SendTimeNotInFuture, RejectionCode.InvalidActor)
            .CanRefuse(ProblemCodes.AmbiguousSendTime);
        api.MapPost("/campaigns/{id}/pause", (string id, HttpContext http, IMessageBus bus, IDocumentStore store) =>
                Run(http, bus, store, id, (campaign, actor) => new PauseSchedule(campaign, actor)))
            .WithName("PauseCampaign").RequireAuthorization(Scopes.CampaignsWrite)
            .Command(StatusCodes.Status200OK, "Put a scheduled campaign on hold.",
                "Only a scheduled campaign that has not started sending can be paused; pausing a paused one changes nothing.",
                RejectionCode.CampaignNotFound, RejectionCode.NotPausable, RejectionCode.InvalidActor);
        api.MapPost("/campaigns/{id}/resume", (string id, HttpContext http, IMessageBus bus, IDocumentStore store) =>
                Run(http, bus, store, id, (campaign, actor) => new ResumeSchedule(campaign, actor)))
            .WithName("ResumeCampaign").RequireAuthorization(Scopes.CampaignsWrite)
            .Command(StatusCodes.Status200OK, "Schedule a paused campaign again.",
                "Only a paused campaign can be resumed; resuming a scheduled one changes nothing.",
                RejectionCode.CampaignNotFound, RejectionCode.NotResumable, RejectionCode.InvalidActor);
        api.MapPost("/campaigns/{id}/revert", (string id, HttpContext http, IMessageBus bus, IDocumentStore store) =>
                Run(http, bus, store, id, (campaign, actor) => new RevertToDraft(campaign, actor)))
            .WithName("RevertCampaignToDraft").RequireAuthorization(Scopes.CampaignsWrite)
            .Command(StatusCodes.Status200OK, "Withdraw the schedule: back to draft.",
                "Not a cancellation: nothing is recorded as cancelled. Only a campaign that has not started sending can go back to draft.",
                RejectionCode.CampaignNotFound, RejectionCode.NotRevertible, RejectionCode.InvalidActor);
        // A cancel without a reason code goes through the door too: the rules refuse it, and the attempt is audited.
        api.MapPost("/campaigns/{id}/cancel", (string id, CancelCampaignBody body, HttpContext http, IMessageBus bus, IDocumentStore store) =>
                Run(http, bus, store, id, (campaign, actor) =>
                    new CancelCampaign(campaign, actor, body.ReasonCode is { } code ? new CancelReason(code, body.Reason) : null)))
            .WithName("CancelCampaign").RequireAuthorization(Scopes.CampaignsCancel)
            .Command(StatusCodes.Status200OK, "Cancel a campaign, with the reason.",
                "Scheduling, scheduled and paused campaigns are cancelled at once. A sending campaign stops claiming batches the moment " +
                "the cancel is recorded (status Cancelling); batches already in flight finish, then it is Cancelled During Send. " +
                "Every attempt, accepted or refused, is in the cancellation audit. A repeated cancel changes nothing.",
                RejectionCode.CampaignNotFound, RejectionCode.NotCancellableDraft, RejectionCode.NotCancellableSent, RejectionCode.InvalidReason,
                RejectionCode.InvalidActor);
        api.MapPost("/campaigns/{id}/clone", (string id, CloneCampaignBody body, HttpContext http, IMessageBus bus, IDocumentStore store) =>
                Run(http, bus, store, id, (source, actor) => new CloneCampaign(source, NewCampaignId(http, "clone:" + source), body.RemainderOnly, actor)))
            .WithName("CloneCampaign").RequireAuthorization(Scopes.CampaignsWrite)
            .Command(StatusCodes.Status201Created, "Clone a sent or cancelled campaign into a new draft.",
                "The whole audience again, or with remainderOnly only the recipients the source did not reach. Answers 201 with the " +
                "clone's send report as Location; an Idempotency-Key header makes a retry answer with the same clone (the key with the " +
                "other remainderOnly: 422 idempotency_key_reused).",
                RejectionCode.CampaignNotFound, RejectionCode.NotCloneable, RejectionCode.InvalidActor)
            .CanRefuse(ProblemCodes.IdempotencyKeyReused); // the key already made a clone of this source with the other remainderOnly
        return api;
    }

    /// <summary>What every command endpoint declares: its answer, its words, and what it can refuse.</summary>
    private static RouteHandlerBuilder Command(this RouteHandlerBuilder endpoint, int status, string summary, string description,
        params RejectionCode[] rejections)
    {
        var refusals = new List<string> { ProblemCodes.BadIdempotencyKey, ProblemCodes.ConcurrencyConflict };
        if (rejections.Contains(RejectionCode.CampaignNotFound)) refusals.Add(ProblemCodes.MalformedId); // the {id} of the route
        if (status == StatusCodes.Status201Created) endpoint.WithMetadata(new CreatesCampaignMetadata());
        if (rejections.Contains(RejectionCode.CampaignAlreadyExists)) refusals.Add(ProblemCodes.IdempotencyKeyReused);
        return endpoint.WithTags("Campaigns").WithSummary(summary).WithDescription(description)
            .Produces<CommandAccepted>(status).CanRefuse(rejections).CanRefuse([.. refusals.Distinct()]);
    }

    /// <summary>A time with an explicit offset; a local time would mean whatever the server's zone is.</summary>
    private static bool ParseSendAt(string? raw, out DateTimeOffset sendAt, out IResult? problem)
    {
        problem = null;
        // Kept in UTC, as every other time the API shows (a report mixed the caller's offset with +00:00 elsewhere).
        if (IsoTime.TryParse(raw, out sendAt))
        {
            sendAt = sendAt.ToUniversalTime();
            return true;
        }
        // A time without its offset is ambiguous. Anything else is malformed: an offset not as documented (+01, a space before
        // it, a space for the T), no such time (hour 25, a date past year 9999 in UTC), no time at all, or none given.
        problem = IsoTime.IsWithoutOffset(raw)
            ? Problems.BadRequest(ProblemCodes.AmbiguousSendTime,
                $"'{Truncate(raw)}' is not a send time with its offset: {IsoTime.HowToWrite} 2027-12-01T09:00:00+01:00.")
            : Problems.BadRequest(ProblemCodes.BadRequest, raw is null
                ? $"sendAt is missing: {IsoTime.HowToWrite} 2027-12-01T09:00:00+01:00."
                : $"'{Truncate(raw)}' is not a date and time: {IsoTime.HowToWrite} 2027-12-01T09:00:00+01:00.");
        return false;
    }

    private static async Task<IResult> Run(HttpContext http, IMessageBus bus, IDocumentStore store, string? id,
        Func<Guid, Actor, CampaignCommand> command, long? expectedVersion = null)
    {
        var campaignId = Guid.Empty;
        if (id is not null && !Problems.TryParseId(id, out campaignId, out var badId)) return badId!;
        // Two headers, or one with a comma (how HTTP joins two), name two keys: which one a retry would be matched by is not
        // the caller's to guess.
        if (http.Request.Headers[IdempotencyKeyHeader] is { Count: > 0 } keys && (keys.Count > 1 || keys[0] is not { Length: > 0 and <= 200 } || keys[0]!.Contains(',')))
            return Problems.BadRequest(ProblemCodes.BadIdempotencyKey, $"Give one {IdempotencyKeyHeader} header, of 1 to 200 characters and no comma.");

        var cmd = command(id is null ? NewCampaignId(http, "create") : campaignId, http.Actor());
        var tenant = http.Tenant();
        var created = cmd switch { CreateCampaign c => c.CampaignId, CloneCampaign c => c.CloneId, _ => (Guid?)null };
        await using var session = store.QuerySession(tenant);

        // A retried create or clone (same Idempotency-Key) answers with what the first one made.
        if (created is { } existing && http.Request.Headers.ContainsKey(IdempotencyKeyHeader)
            && await session.LoadCampaignStateAsync(existing, http.RequestAborted) is { } made)
        {
            // Another campaign under a used key is a client's mistake, not a retry: answering with the first one would
            // tell it that what it sent was created.
            if ((cmd is CreateCampaign create && !await CreatedAsAsync(session, create, http.RequestAborted))
                || (cmd is CloneCampaign clone && await RemainderOnlyAskedAsync(session, clone, http.RequestAborted) != clone.RemainderOnly))
                return Problems.Problem(StatusCodes.Status422UnprocessableEntity, ProblemCodes.IdempotencyKeyReused,
                    $"The {IdempotencyKeyHeader} '{Truncate(http.Request.Headers[IdempotencyKeyHeader].FirstOrDefault())}' already made campaign " +
                    $"{existing} from another request; send a new key for another campaign.");
            return Created(new CommandAccepted(existing, made.Status, 0, await session.LastSequenceAsync(existing, http.RequestAborted)));
        }

        CommandResult result;
        try
        {
            // Not the request's token: a command received whole runs to its end even when its caller goes away (a tab
            // closed right after Cancel, a client's timeout), so a cancel asked for is applied and audited.
            result = await bus.ExecuteCampaignCommandAsync(tenant, cmd, expectedVersion, CancellationToken.None);
        }
        catch (CampaignVersionMismatchException e)
        {
            return Preconditions.Failed(e);
        }
        catch (CampaignConcurrencyException) when (created is not null && http.Request.Headers.ContainsKey(IdempotencyKeyHeader))
        {
            return await Run(http, bus, store, id, command); // the same key's twin made it a moment ago: answer with it
        }
        if (result.Decision.Rejection is { Code: RejectionCode.CampaignAlreadyExists } && created is not null && http.Request.Headers.ContainsKey(IdempotencyKeyHeader))
            return await Run(http, bus, store, id, command); // likewise, when the twin committed before this one decided
        // A remainder clone's twin: the source now names this key's clone as its remainder, which refuses a second one.
        if (result.Decision.Rejection is { Code: RejectionCode.NotCloneable } && cmd is CloneCampaign { RemainderOnly: true } remainder
            && http.Request.Headers.ContainsKey(IdempotencyKeyHeader)
            && (await session.LoadCampaignStateAsync(remainder.CampaignId, http.RequestAborted))?.RemainderClone == remainder.CloneId)
            return await Run(http, bus, store, id, command);
        if (result.Decision.Rejection is { } rejection) return Problems.From(rejection);

        var target = created ?? cmd.CampaignId;
        var body = new CommandAccepted(target, created is null ? result.State?.Status : CampaignStatus.Draft, result.Decision.Events.Count,
            result.Sequence);
        return created is not null ? Created(body) : Results.Ok(body);
    }

    /// <summary>Whether the campaign was created from what <paramref name="create"/> asks for (its first event, not later edits).</summary>
    private static async Task<bool> CreatedAsAsync(IQuerySession session, CreateCampaign create, CancellationToken cancellation)
    {
        var first = await session.Events.FetchStreamAsync(create.CampaignId, version: 1, token: cancellation);
        return first.FirstOrDefault()?.Data is CampaignCreated { ClonedFrom: null } created
               && created.Name == create.Name?.Trim() && created.Channel == create.Channel
               // An SMS subject of "" stored before it was stored as none (docs/upgrades.md, OpenAPI 1.9.0) is none too.
               && create.Variants is not null
               && created.Variants.Select(v => v.WithoutEmptySubject()).SequenceEqual(create.Variants.Select(v => v?.WithoutEmptySubject()!));
    }

    /// <summary>
    /// What the clone's request asked for, as its source recorded it: the clone itself does not tell (a cancelled
    /// campaign reached nobody, so a clone of its remainder holds its whole audience and is recorded as a whole clone).
    /// </summary>
    private static async Task<bool?> RemainderOnlyAskedAsync(IQuerySession session, CloneCampaign clone, CancellationToken cancellation)
    {
        var cloned = await session.Events.QueryAllRawEvents()
            .Where(e => e.StreamId == clone.CampaignId && e.EventTypeName == "campaign_cloned").ToListAsync(cancellation);
        return cloned.Select(e => e.Data).OfType<CampaignCloned>().FirstOrDefault(e => e.CloneId == clone.CloneId)?.RemainderOnly;
    }

    /// <summary>201 with the new campaign's send report as Location, read-your-writes: it answers once the report shows it.</summary>
    private static IResult Created(CommandAccepted body) =>
        Results.Created($"/api/campaigns/{body.CampaignId}/report?afterSequence={body.Sequence}", body);

    /// <summary>
    /// The id of a campaign a request creates: random, or derived from the tenant and the Idempotency-Key so that a
    /// retry names the same campaign.
    /// </summary>
    private static Guid NewCampaignId(HttpContext http, string purpose)
    {
        if (http.Request.Headers[IdempotencyKeyHeader].FirstOrDefault() is not { Length: > 0 } key) return Guid.NewGuid();
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{http.Tenant()}\n{purpose}\n{key}"));
        hash[6] = (byte)((hash[6] & 0x0F) | 0x50); // a name-based (v5-style) id
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash.AsSpan(0, 16));
    }

    private static string Truncate(string? raw) => Shown.Start(raw);
}
