using System.Collections.Concurrent;
using System.Threading.RateLimiting;
using EventSourcedCampaigns.Marten;
using Marten;

namespace EventSourcedCampaigns.Wolverine;

/// <summary>
/// The message rate limits of this sending node (<see cref="CampaignSendingOptions.MessagesPerMinutePerCampaign"/>,
/// <see cref="CampaignSendingOptions.MessagesPerMinutePerTenant"/>): one token bucket per campaign and one per tenant,
/// kept in memory. The limits are <b>per sending node</b>: with three sender nodes a campaign may go out at up to three
/// times its limit (divide the limits by the number of sender nodes to bound the total). The dispatch step takes one
/// permit per recipient of a batch before it passes the gate and calls the provider.
/// </summary>
public sealed class CampaignThrottles(CampaignSendingOptions options) : IDisposable
{
    private readonly ConcurrentDictionary<(string Tenant, Guid Campaign), Bucket?> _campaigns = new();
    private readonly ConcurrentDictionary<string, Bucket?> _tenants = new();

    /// <summary>A limiter idle this long (its bucket full, nobody waiting) is dropped; it is made again when needed.</summary>
    private static readonly TimeSpan IdleLimit = TimeSpan.FromMinutes(10);

    /// <summary>A token bucket and the most tokens it holds.</summary>
    internal sealed record Bucket(TokenBucketRateLimiter Limiter, int TokenLimit);

    /// <summary>A bucket that refills <paramref name="perMinute"/> tokens a minute at most ten times a second, bursting to a second's worth.</summary>
    internal static Bucket BucketOf(int perMinute)
    {
        var tokensPerPeriod = Math.Max(1, (int)Math.Ceiling(perMinute / 600.0));
        var tokenLimit = Math.Max(tokensPerPeriod, perMinute / 60);
        return new Bucket(new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = tokenLimit,
            TokensPerPeriod = tokensPerPeriod,
            ReplenishmentPeriod = TimeSpan.FromMinutes(1) * tokensPerPeriod / perMinute,
            QueueLimit = int.MaxValue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            AutoReplenishment = true,
        }), tokenLimit);
    }

    /// <summary>The limiters a batch of this campaign passes, campaign's first; none when unlimited.</summary>
    private IReadOnlyList<Bucket> LimitersFor(string tenant, CampaignState campaign)
    {
        var limiters = new List<Bucket>(2);
        if (_campaigns.GetOrAdd((tenant, campaign.Id), _ => Create(options.MessagesPerMinuteFor(campaign))) is { } perCampaign)
            limiters.Add(perCampaign);
        if (_tenants.GetOrAdd(tenant, _ => Create(options.MessagesPerMinutePerTenant)) is { } perTenant) limiters.Add(perTenant);
        return limiters;
    }

    private Bucket? Create(int? perMinute)
    {
        DropIdle();
        return perMinute is { } limit ? BucketOf(limit) : null;
    }

    private void DropIdle()
    {
        foreach (var (key, bucket) in _campaigns)
            if (bucket?.Limiter.IdleDuration > IdleLimit && _campaigns.TryRemove(key, out _)) bucket.Limiter.Dispose();
        foreach (var (key, bucket) in _tenants)
            if (bucket?.Limiter.IdleDuration > IdleLimit && _tenants.TryRemove(key, out _)) bucket.Limiter.Dispose();
    }

    /// <summary>Whether a rate limit applies to the campaign's batches on this node.</summary>
    internal bool Limit(string tenant, CampaignState campaign) => LimitersFor(tenant, campaign).Count > 0;

    /// <summary>
    /// Wait until this node may hand <paramref name="recipients"/> messages of the campaign to the provider. Never fails
    /// the batch; stops waiting (false) as soon as the campaign is no longer sending (a cancel), checked every
    /// <see cref="CampaignSendingOptions.CancelCheckInterval"/>. A long wait keeps the batch's claim alive for the reconciler.
    /// </summary>
    internal async Task<bool> WaitForPermitsAsync(IDocumentStore store, string tenant, CampaignState campaign, int batchNumber, int recipients,
        TimeProvider clock, CancellationToken cancellation)
    {
        var limiters = LimitersFor(tenant, campaign);
        if (limiters.Count == 0) return true;
        var waiting = new WaitWatch(store, tenant, campaign.Id, batchNumber, options, clock);
        foreach (var (limiter, tokenLimit) in limiters)
        {
            for (var left = recipients; left > 0;)
            {
                var chunk = Math.Min(left, tokenLimit); // a bucket never holds more than its limit: big batches take several turns
                using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
                RateLimitLease lease;
                try
                {
                    var acquiring = limiter.AcquireAsync(chunk, stop.Token).AsTask();
                    while (!acquiring.IsCompleted)
                    {
                        await Task.WhenAny(acquiring, Task.Delay(options.CancelCheckInterval, cancellation));
                        if (acquiring.IsCompleted) break;
                        cancellation.ThrowIfCancellationRequested();
                        if (!await waiting.StillSendingAsync(cancellation))
                        {
                            await stop.CancelAsync();
                            try { (await acquiring).Dispose(); } catch (OperationCanceledException) { }
                            return false;
                        }
                    }
                    lease = await acquiring;
                }
                catch (ObjectDisposedException)
                {
                    return await WaitForPermitsAsync(store, tenant, campaign, batchNumber, left, clock, cancellation); // dropped as idle meanwhile
                }
                using (lease)
                    if (!lease.IsAcquired) throw new InvalidOperationException($"The rate limiter refused {chunk} permits.");
                left -= chunk;
            }
        }
        return true;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var bucket in _campaigns.Values.Concat(_tenants.Values)) bucket?.Limiter.Dispose();
        _campaigns.Clear();
        _tenants.Clear();
    }
}

/// <summary>
/// A batch waiting (for permits, or for the provider's Retry-After): checks whether its campaign is still sending, and
/// keeps its claim alive (<see cref="DispatchHeartbeat"/>) every quarter of <see cref="CampaignSendingOptions.ClaimTimeout"/>
/// so the reconciler does not take a waiting batch for a lost one.
/// </summary>
internal sealed class WaitWatch(IDocumentStore store, string tenant, Guid campaignId, int batchNumber, CampaignSendingOptions options, TimeProvider clock)
{
    private DateTimeOffset? _lastBeat;

    /// <summary>Whether the campaign is still sending (false once a cancel is committed); beats when due.</summary>
    public async Task<bool> StillSendingAsync(CancellationToken cancellation)
    {
        var now = clock.GetUtcNow();
        if (_lastBeat is null || now - _lastBeat >= options.ClaimTimeout / 4)
        {
            await using var write = store.LightweightSession(tenant);
            write.Store(new DispatchHeartbeat(CampaignBatch.IdFor(campaignId, batchNumber), campaignId, now));
            await write.SaveChangesAsync(cancellation);
            _lastBeat = now;
        }
        await using var session = store.QuerySession(tenant);
        return (await session.LoadCampaignStateAsync(campaignId, cancellation))?.Phase is CampaignPhase.Sending;
    }
}
