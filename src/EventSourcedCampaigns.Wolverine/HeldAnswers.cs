using System.Collections.Concurrent;
using EventSourcedCampaigns.Marten;

namespace EventSourcedCampaigns.Wolverine;

/// <summary>
/// The provider's answers this node holds for batches whose outcome row it could not write (the database was down). The
/// dispatch step fails then, since its answer cannot be committed either, and runs again: it passes the held answer on
/// instead of passing the send gate, which would release a batch the provider took if a cancel committed meanwhile (an
/// outage drill saw 200 recipients who got the message recorded as not sent). A node that dies loses them, as it loses
/// any answer it has not written (docs/cancellation-guarantees.md).
/// </summary>
public sealed class HeldAnswers
{
    private readonly ConcurrentDictionary<(string Tenant, Guid Campaign, int Batch), (BatchSent Sent, CampaignBatch Batch, long HeldAt)> _held = new();

    internal bool TryGet(string tenant, SendBatch send, out (BatchSent Sent, CampaignBatch Batch) answer)
    {
        var found = _held.TryGetValue((tenant, send.CampaignId, send.BatchNumber), out var held);
        answer = (held.Sent, held.Batch);
        return found;
    }

    /// <summary>
    /// Hold <paramref name="sent"/> until its outcome row is written; let go of it once it is. Never by age: an outage longer
    /// than any bound would have the step call the provider again. At most <see cref="Capacity"/> answers are held (the
    /// batches in flight on this node when its database went away); past that the oldest goes.
    /// </summary>
    internal void Keep(string tenant, BatchSent sent, CampaignBatch batch)
    {
        if (sent.OutcomesRecorded)
        {
            Forget(tenant, sent.CampaignId, sent.BatchNumber);
            return;
        }
        _held[(tenant, sent.CampaignId, sent.BatchNumber)] = (sent, batch, Environment.TickCount64);
        if (_held.Count > Capacity && _held.MinBy(h => h.Value.HeldAt) is var (oldest, held))
            ((ICollection<KeyValuePair<(string, Guid, int), (BatchSent, CampaignBatch, long)>>)_held).Remove(new(oldest, held));
    }

    /// <summary>Let go of a batch's answer: its record committed it (the record writes the outcome row when the step could not).</summary>
    internal void Forget(string tenant, Guid campaignId, int batchNumber) => _held.TryRemove((tenant, campaignId, batchNumber), out _);

    /// <summary>Answers held at most: far more than the batches a node has in flight.</summary>
    public const int Capacity = 10_000;
}
