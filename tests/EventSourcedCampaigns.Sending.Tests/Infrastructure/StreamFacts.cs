using JasperFx.Events;

namespace EventSourcedCampaigns.Sending.Tests.Infrastructure;

/// <summary>What a campaign stream says about its batches, by stream version (the commit order of one campaign).</summary>
public sealed record StreamFacts(IReadOnlyList<IEvent> Events)
{
    public IEnumerable<(long Version, BatchClaimed Claim)> Claims => Of<BatchClaimed>();
    public IEnumerable<(long Version, BatchDelivered Delivery)> Deliveries => Of<BatchDelivered>();
    public IEnumerable<(long Version, BatchFailed Failure)> Failures => Of<BatchFailed>();
    /// <summary>Claimed batches released unsent because the campaign was cancelled before their provider call began.</summary>
    public IEnumerable<(long Version, BatchReleased Release)> Releases => Of<BatchReleased>();

    /// <summary>Batch number and whether it was flagged after the cancel request, for every recorded batch.</summary>
    public IEnumerable<(long Version, int Batch, bool AfterRequest, long Delivered, long Failed)> Records =>
        Deliveries.Select(d => (d.Version, d.Delivery.BatchNumber, d.Delivery.AfterCancelRequest, (long)d.Delivery.Delivered, (long)d.Delivery.Failed))
            .Concat(Failures.Select(f => (f.Version, f.Failure.BatchNumber, f.Failure.AfterCancelRequest, 0L, (long)f.Failure.Recipients)));

    public long? VersionOf<T>() => Of<T>().Select(x => (long?)x.Version).SingleOrDefault();

    public int Count<T>() => Of<T>().Count();

    private IEnumerable<(long Version, T Data)> Of<T>() =>
        Events.Where(e => e.Data is T).Select(e => (e.Version, (T)e.Data));

    /// <summary>
    /// Each claimed batch settled exactly once (delivered, failed or released), nothing settled that was not claimed.
    /// </summary>
    public void AssertEveryClaimRecordedOnce()
    {
        var claimed = Claims.Select(c => c.Claim.BatchNumber).ToList();
        var recorded = Records.Select(r => r.Batch).Concat(Releases.Select(r => r.Release.BatchNumber)).ToList();
        Assert.Equal(claimed.Count, claimed.Distinct().Count());
        Assert.Equal(recorded.Count, recorded.Distinct().Count());
        Assert.Equal(claimed.Order(), recorded.Order());
    }
}
