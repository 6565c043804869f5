using Marten;
using Marten.Services;

namespace EventSourcedCampaigns.Marten;

/// <summary>
/// The outcome of a campaign command: the decision (events, or a typed rejection), the campaign's state after it,
/// and <see cref="Sequence"/>, the event store position that read models must reach to reflect it.
/// </summary>
public sealed record CommandResult(Decision Decision, CampaignState? State)
{
    /// <summary>True when the command was refused (see <see cref="Decision.Rejection"/>).</summary>
    public bool IsRejected => Decision.IsRejected;

    private long _sequence;

    /// <summary>
    /// The stream version found when the command's expected version did not match it (nothing applied): the handler answers
    /// it, and the caller's door throws <see cref="CampaignVersionMismatchException"/>. Thrown inside the handler, the
    /// expected refusal was logged by Wolverine as a failed invocation, at error level, on every conflict.
    /// </summary>
    internal (long Expected, long Actual)? VersionMismatch { get; init; }

    /// <summary>
    /// The campaign stream's last event sequence once the command committed (0 when the campaign has no events);
    /// pass it to <see cref="ReadModelWaiting.WaitForReadModelsAsync"/> to read your own write.
    /// </summary>
    public long Sequence { get => _sequence; init => _sequence = value; }

    /// <summary>
    /// Take <see cref="Sequence"/> from the events <paramref name="session"/> commits, as it commits: the handler
    /// returns this result before its transaction commits, and reading the sequence afterwards costs the caller one
    /// more round trip. Stays 0 when the session commits no event.
    /// </summary>
    internal CommandResult SequencedOnCommit(IDocumentSession session)
    {
        session.Listeners.Add(new SequenceOnCommit(this));
        return this;
    }

    private sealed class SequenceOnCommit(CommandResult result) : DocumentSessionListenerBase
    {
        public override Task AfterCommitAsync(IDocumentSession session, IChangeSet commit, CancellationToken token)
        {
            foreach (var e in commit.GetEvents()) result._sequence = Math.Max(result._sequence, e.Sequence);
            return Task.CompletedTask;
        }
    }
}

/// <summary>
/// Another command changed the campaign between load and append, so this one was not applied. Nothing was
/// written; load again and retry (HTTP callers get 409 Conflict).
/// </summary>
public sealed class CampaignConcurrencyException(Guid campaignId, Exception inner)
    : Exception($"Campaign {campaignId} was changed by another request at the same time; nothing was applied. Retry.", inner)
{
    /// <summary>The campaign the command was for.</summary>
    public Guid CampaignId { get; } = campaignId;
}

/// <summary>
/// The command was sent on the condition that the campaign's stream was still at <see cref="ExpectedVersion"/> (the
/// version its caller read), and another change came first: nothing was applied (HTTP callers: 412 Precondition Failed).
/// Not retried: deciding again on the newer state is what the condition asked not to do.
/// </summary>
public sealed class CampaignVersionMismatchException(Guid campaignId, long expectedVersion, long actualVersion)
    : Exception($"Campaign {campaignId} is at version {actualVersion}, not {expectedVersion}: it changed since it was read; nothing was applied.")
{
    /// <summary>The campaign the command was for.</summary>
    public Guid CampaignId { get; } = campaignId;
    /// <summary>The stream version the command was sent on the condition of.</summary>
    public long ExpectedVersion { get; } = expectedVersion;
    /// <summary>The stream version found under the campaign's row lock.</summary>
    public long ActualVersion { get; } = actualVersion;
}
