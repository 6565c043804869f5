using JasperFx.Events;
using Marten.Events.Aggregation;

namespace EventSourcedCampaigns.Marten;

/// <summary>
/// The write model: the decider's own <see cref="CampaignState"/>, kept inline as a snapshot so a command
/// on a campaign with tens of thousands of events loads one document instead of replaying its stream.
/// </summary>
public sealed class CampaignWriteModelProjection : SingleStreamProjection<CampaignState, Guid>
{
    public override CampaignState? Evolve(CampaignState? snapshot, Guid id, IEvent e) =>
        e.Data is ICampaignEvent data ? CampaignState.Evolve(snapshot, data) : snapshot;
}
