namespace EventSourcedCampaigns.Marten;

/// <summary>
/// The outcome of a campaign command: the decision (events, or a typed rejection), the campaign's state after it,
/// and <see cref="Sequence"/>, the event store position that read models must reach to reflect it.
/// </summary>
public sealed record CommandResult(Decision Decision, CampaignState? State)
{
    /// <summary>True when the command was refused (see <see cref="Decision.Rejection"/>).</summary>
    public bool IsRejected => Decision.IsRejected;

    /// <summary>
    /// The campaign stream's last event sequence once the command committed (0 when the campaign has no events);
    /// pass it to <see cref="ReadModelWaiting.WaitForReadModelsAsync"/> to read your own write.
    /// </summary>
    public long Sequence { get; init; }
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
