using EventSourcedCampaigns.Decisions;
using EventSourcedCampaigns.Marten;
using EventSourcedCampaigns.Wolverine;
using Marten;
using Wolverine;

namespace EventSourcedCampaigns.Service.Http;

/// <summary>Body of POST /api/campaigns.</summary>
public sealed record CreateCampaignBody(string Name, Channel Channel, Variant[] Variants);
/// <summary>Body of POST /api/campaigns/{id}/schedule. The batch size defaults to 1,000.</summary>
public sealed record ScheduleCampaignBody(DateTimeOffset SendAt, string[] Included, string[]? Excluded, int? BatchSize);
/// <summary>Body of POST /api/campaigns/{id}/cancel.</summary>
public sealed record CancelCampaignBody(CancelReasonCode ReasonCode, string? Reason);
/// <summary>Body of POST /api/campaigns/{id}/clone: the whole audience again, or only the recipients not reached.</summary>
public sealed record CloneCampaignBody(bool RemainderOnly);

/// <summary>What a command answers: the campaign, its status now, how many events it added, and the sequence to wait for.</summary>
public sealed record CommandAccepted(Guid CampaignId, CampaignStatus? Status, int Events, long Sequence);

/// <summary>
/// Commands over HTTP, through the one command door (<see cref="CampaignSendingExtensions.ExecuteCampaignCommandAsync"/>):
/// the same clock clamp, stream lock, clean-up and follow-up work as every other caller. The caller names itself in
/// X-Actor-Id; X-Actor-Channel says user (default) or apikey.
/// </summary>
public static class CommandEndpoints
{
    public const string ActorHeader = "X-Actor-Id";
    public const string ActorChannelHeader = "X-Actor-Channel";

    public static RouteGroupBuilder MapCampaignCommands(this RouteGroupBuilder api)
    {
        api.MapPost("/campaigns", (CreateCampaignBody body, HttpContext http, IMessageBus bus, IDocumentStore store) =>
            Run(http, bus, store, null, actor => new CreateCampaign(Guid.NewGuid(), body.Name, body.Channel, body.Variants, actor)))
            .WithName("CreateCampaign");
        api.MapPost("/campaigns/{id}/schedule", (string id, ScheduleCampaignBody body, HttpContext http, IMessageBus bus, IDocumentStore store) =>
            Run(http, bus, store, id, actor => new ScheduleCampaign(Guid.Parse(id), body.SendAt,
                new Audience(body.Included ?? [], body.Excluded ?? []), body.BatchSize ?? 1_000, actor)))
            .WithName("ScheduleCampaign");
        api.MapPost("/campaigns/{id}/pause", (string id, HttpContext http, IMessageBus bus, IDocumentStore store) =>
            Run(http, bus, store, id, actor => new PauseSchedule(Guid.Parse(id), actor))).WithName("PauseCampaign");
        api.MapPost("/campaigns/{id}/resume", (string id, HttpContext http, IMessageBus bus, IDocumentStore store) =>
            Run(http, bus, store, id, actor => new ResumeSchedule(Guid.Parse(id), actor))).WithName("ResumeCampaign");
        api.MapPost("/campaigns/{id}/revert", (string id, HttpContext http, IMessageBus bus, IDocumentStore store) =>
            Run(http, bus, store, id, actor => new RevertToDraft(Guid.Parse(id), actor))).WithName("RevertCampaignToDraft");
        api.MapPost("/campaigns/{id}/cancel", (string id, CancelCampaignBody body, HttpContext http, IMessageBus bus, IDocumentStore store) =>
            Run(http, bus, store, id, actor => new CancelCampaign(Guid.Parse(id), actor, new CancelReason(body.ReasonCode, body.Reason))))
            .WithName("CancelCampaign");
        api.MapPost("/campaigns/{id}/clone", (string id, CloneCampaignBody body, HttpContext http, IMessageBus bus, IDocumentStore store) =>
            Run(http, bus, store, id, actor => new CloneCampaign(Guid.Parse(id), Guid.NewGuid(), body.RemainderOnly, actor)))
            .WithName("CloneCampaign");
        return api;
    }

    private static async Task<IResult> Run(HttpContext http, IMessageBus bus, IDocumentStore store, string? id, Func<Actor, CampaignCommand> command)
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
        var tenant = http.Tenant();
        var result = await bus.ExecuteCampaignCommandAsync(tenant, cmd, http.RequestAborted);
        if (result.Decision.Rejection is { } rejection) return Problems.From(rejection);

        var created = cmd switch { CreateCampaign c => c.CampaignId, CloneCampaign c => c.CloneId, _ => (Guid?)null };
        var campaignId = created ?? cmd.CampaignId;
        await using var session = store.QuerySession(tenant);
        var body = new CommandAccepted(campaignId, created is null ? result.State?.Status : CampaignStatus.Draft, result.Decision.Events.Count,
            await session.LastSequenceAsync(campaignId, http.RequestAborted));
        return created is { } newId ? Results.Created($"/api/campaigns/{newId}/report", body) : Results.Ok(body);
    }
}
