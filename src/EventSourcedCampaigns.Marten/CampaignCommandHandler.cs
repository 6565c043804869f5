using EventSourcedCampaigns.Decisions;
using JasperFx;
using JasperFx.Events;
using Marten;

namespace EventSourcedCampaigns.Marten;

/// <summary>The outcome of a command run against the store.</summary>
public sealed record CommandResult(Decision Decision, CampaignState? State)
{
    /// <summary>True when the command was refused (see <see cref="Decision.Rejection"/>).</summary>
    public bool IsRejected => Decision.IsRejected;
}

/// <summary>
/// Another command changed the campaign between load and append, so this one was not applied. Nothing was
/// written; load again and retry (HTTP callers get 409 Conflict).
/// </summary>
public sealed class CampaignConcurrencyException(Guid campaignId, Exception inner)
    : Exception($"Campaign {campaignId} was changed by another request at the same time; nothing was applied. Retry.", inner)
{
    public Guid CampaignId { get; } = campaignId;
}

/// <summary>Runs campaign commands with Marten: load the write model, decide, append with optimistic concurrency.</summary>
public static class CampaignCommandHandler
{
    /// <summary>
    /// Decide <paramref name="command"/> against the campaign's current state and commit the events.
    /// A refused cancel is committed as a <see cref="CancelRejected"/> audit event; other refusals write nothing.
    /// </summary>
    /// <exception cref="CampaignConcurrencyException">Another command won the race.</exception>
    public static async Task<CommandResult> HandleAsync(this IDocumentSession session, CampaignCommand command, DateTimeOffset now,
        CancellationToken cancellation = default)
    {
        var stream = await session.Events.FetchForWriting<CampaignState>(command.CampaignId, cancellation);
        var decision = Decider.Decide(command, stream.Aggregate, now);

        var events = Decider.EventsToAppend(decision, command, stream.Aggregate, now);
        if (events.Count == 0) return new CommandResult(decision, stream.Aggregate);

        stream.AppendMany(events.Cast<object>());
        if (command is CloneCampaign clone && !decision.IsRejected)
            session.Events.StartStream<CampaignState>(clone.CloneId, Cloning.DraftEvents(stream.Aggregate!, clone, now).Cast<object>().ToArray());

        try
        {
            await session.SaveChangesAsync(cancellation);
        }
        catch (Exception ex) when (ex is ConcurrencyException or ExistingStreamIdCollisionException or StreamLockedException)
        {
            throw new CampaignConcurrencyException(command.CampaignId, ex);
        }
        return new CommandResult(decision, events.Aggregate(stream.Aggregate, CampaignState.Evolve));
    }
}
