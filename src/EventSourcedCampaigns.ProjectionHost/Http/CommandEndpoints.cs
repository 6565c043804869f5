using EventSourcedCampaigns.Decisions;
using EventSourcedCampaigns.Marten;
using Marten;

namespace EventSourcedCampaigns.ProjectionHost.Http;

public sealed record CreateCampaignRequest(string Name, Channel Channel, Variant[] Variants);
public sealed record ScheduleRequest(DateTimeOffset SendAt, string[] Included, string[]? Excluded, int? BatchSize);
public sealed record CancelRequest(CancelReasonCode ReasonCode, string? Reason);
public sealed record CloneRequest(bool RemainderOnly);

/// <summary>Commands over HTTP. The caller names itself in X-Actor-Id; X-Actor-Channel says user (default) or apikey.</summary>
public static class CommandEndpoints
{
    public const string ActorHeader = "X-Actor-Id";
    public const string ActorChannelHeader = "X-Actor-Channel";

    public static RouteGroupBuilder MapCampaignCommands(this RouteGroupBuilder api)
    {
        api.MapPost("/campaigns", (CreateCampaignRequest body, HttpContext http, IDocumentStore store, TimeProvider clock) =>
            Run(http, store, clock, null, actor => new CreateCampaign(Guid.NewGuid(), body.Name, body.Channel, body.Variants, actor)))
            .WithName("CreateCampaign");
        api.MapPost("/campaigns/{id}/schedule", (string id, ScheduleRequest body, HttpContext http, IDocumentStore store, TimeProvider clock) =>
            Run(http, store, clock, id, actor => new ScheduleCampaign(Guid.Parse(id), body.SendAt,
                new Audience(body.Included ?? [], body.Excluded ?? []), body.BatchSize ?? 1_000, actor)))
            .WithName("ScheduleCampaign");
        api.MapPost("/campaigns/{id}/pause", (string id, HttpContext http, IDocumentStore store, TimeProvider clock) =>
            Run(http, store, clock, id, actor => new PauseSchedule(Guid.Parse(id), actor))).WithName("PauseCampaign");
        api.MapPost("/campaigns/{id}/resume", (string id, HttpContext http, IDocumentStore store, TimeProvider clock) =>
            Run(http, store, clock, id, actor => new ResumeSchedule(Guid.Parse(id), actor))).WithName("ResumeCampaign");
        api.MapPost("/campaigns/{id}/revert", (string id, HttpContext http, IDocumentStore store, TimeProvider clock) =>
            Run(http, store, clock, id, actor => new RevertToDraft(Guid.Parse(id), actor))).WithName("RevertCampaignToDraft");
        api.MapPost("/campaigns/{id}/cancel", (string id, CancelRequest body, HttpContext http, IDocumentStore store, TimeProvider clock) =>
            Run(http, store, clock, id, actor => new CancelCampaign(Guid.Parse(id), actor, new CancelReason(body.ReasonCode, body.Reason))))
            .WithName("CancelCampaign");
        api.MapPost("/campaigns/{id}/clone", (string id, CloneRequest body, HttpContext http, IDocumentStore store, TimeProvider clock) =>
            Run(http, store, clock, id, actor => new CloneCampaign(Guid.Parse(id), Guid.NewGuid(), body.RemainderOnly, actor)))
            .WithName("CloneCampaign");
        return api;
    }

    private static async Task<IResult> Run(HttpContext http, IDocumentStore store, TimeProvider clock, string? id,
        Func<Actor, CampaignCommand> command)
    {
        if (id is not null && !Problems.TryParseId(id, out _, out var badId)) return badId!;
        var actorId = http.Request.Headers[ActorHeader].FirstOrDefault();
        var channel = http.Request.Headers[ActorChannelHeader].FirstOrDefault()?.ToLowerInvariant() switch
        {
            null or "" or "user" => RequestChannel.User,
            "apikey" or "api-key" => RequestChannel.ApiKey,
            _ => (RequestChannel?)null,
        };
        if (string.IsNullOrWhiteSpace(actorId) || channel is null)
            return Problems.BadRequest("missing_actor", $"Name the caller in {ActorHeader} (and {ActorChannelHeader}: user or apikey).");

        var cmd = command(new Actor(actorId.Trim(), channel.Value));
        await using var session = store.LightweightSession(http.Tenant());
        var result = await session.HandleAsync(cmd, clock.GetUtcNow(), http.RequestAborted);
        if (result.Decision.Rejection is { } rejection) return Problems.From(rejection);

        var created = cmd switch { CreateCampaign c => c.CampaignId, CloneCampaign c => c.CloneId, _ => (Guid?)null };
        var body = new { CampaignId = created ?? cmd.CampaignId, Status = result.State?.Status, Events = result.Decision.Events.Count };
        return created is { } newId ? Results.Created($"/api/campaigns/{newId}/report", body) : Results.Ok(body);
    }
}
