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
public sealed class HeldAnswers(CampaignSendingOptions options)
{
    private readonly ConcurrentDictionary<(string Tenant, Guid Campaign, int Batch), (BatchSent Sent, CampaignBatch Batch, long HeldAt)> _held = new();

    internal bool TryGet(string tenant, SendBatch send, out (BatchSent Sent, CampaignBatch Batch) answer)
    {
        var found = _held.TryGetValue((tenant, send.CampaignId, send.BatchNumber), out var held);
        answer = (held.Sent, held.Batch);
        return found;
    }

    /// <summary>
    /// Hold <paramref name="sent"/> until its outcome row is written; let go of it once it is. An answer older than
    /// <see cref="CampaignSendingOptions.ClaimTimeout"/> is let go too: its step, committed meanwhile, had the record write
    /// the row, or the reconciler has settled the claim.
    /// </summary>
    internal void Keep(string tenant, BatchSent sent, CampaignBatch batch)
    {
        var key = (tenant, sent.CampaignId, sent.BatchNumber);
        if (sent.OutcomesRecorded)
        {
            _held.TryRemove(key, out _);
            return;
        }
        var now = Environment.TickCount64;
        foreach (var (stale, held) in _held)
            if (now - held.HeldAt > options.ClaimTimeout.TotalMilliseconds) _held.TryRemove(stale, out _);
        _held[key] = (sent, batch, now);
    }
}
