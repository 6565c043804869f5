using System.Collections.Concurrent;
using System.Diagnostics;
using EventSourcedCampaigns.Ports;

namespace EventSourcedCampaigns.Testing;

/// <summary>How the fake channel provider behaves. Rates are probabilities in [0, 1].</summary>
/// <param name="Latency">Time every call takes.</param>
/// <param name="Jitter">Up to this much more, uniformly.</param>
/// <param name="TransientFailureRate">Share of calls that throw <see cref="TransientDispatchException"/>.</param>
/// <param name="PermanentFailureRate">Share of batches the provider refuses for good (<see cref="PermanentDispatchException"/>).</param>
/// <param name="RecipientFailureRate">Share of recipients the provider refuses inside an accepted batch (bad addresses).</param>
/// <param name="Seed">The same seed gives the same failures for the same batches.</param>
/// <param name="RememberRecipients">Keep the ids of the recipients each accepted batch delivered to (<see cref="FakeDispatcher.DeliveredTo"/>);
/// off by default, as a long-running fake would keep every id.</param>
public sealed record FakeDispatcherOptions(
    TimeSpan Latency = default, TimeSpan Jitter = default,
    double TransientFailureRate = 0, double PermanentFailureRate = 0, double RecipientFailureRate = 0, int Seed = 1,
    bool RememberRecipients = false)
{
    /// <summary>A provider that accepts everything at once.</summary>
    public static FakeDispatcherOptions Instant { get; } = new();
}

/// <summary>One call to the provider, as it began.</summary>
/// <param name="CampaignId">The campaign of the batch.</param>
/// <param name="BatchNumber">The batch.</param>
/// <param name="Attempt">How many times this batch had been handed over, this call included (1 = first).</param>
/// <param name="StartedAt">
/// <see cref="Stopwatch.GetTimestamp"/> on entry to <see cref="FakeDispatcher.DispatchAsync"/>, before any await: compare it
/// with a timestamp a test takes (for example once a cancel command has returned, so committed) to tell which calls began after.
/// </param>
public sealed record DispatchCall(Guid CampaignId, int BatchNumber, int Attempt, long StartedAt);

/// <summary>
/// A channel provider with configurable latency, jitter and failures. Whether a call fails is a hash of
/// (seed, batch, how many times this batch was handed over), so outcomes are reproducible whatever the thread
/// interleaving. Counts every call, so tests can check what was dispatched and how often.
/// </summary>
public sealed class FakeDispatcher : IMessageDispatcher
{
    private readonly FakeDispatcherOptions _options;
    private readonly ConcurrentDictionary<string, int> _calls = new();
    private readonly ConcurrentQueue<DispatchCall> _started = new();
    private readonly ConcurrentQueue<(Guid CampaignId, string[] Delivered)> _deliveries = new();
    private long _callCount;
    private long _accepted;
    private long _delivered;

    /// <param name="options">Behaviour; <see cref="FakeDispatcherOptions.Instant"/> when null.</param>
    public FakeDispatcher(FakeDispatcherOptions? options = null)
    {
        _options = options ?? FakeDispatcherOptions.Instant;
        if (_options.Latency < TimeSpan.Zero || _options.Jitter < TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(options), "Latency and jitter can't be negative.");
        foreach (var rate in new[] { _options.TransientFailureRate, _options.PermanentFailureRate, _options.RecipientFailureRate })
            if (!(rate is >= 0 and <= 1)) throw new ArgumentOutOfRangeException(nameof(options), rate, "Failure rates must be between 0 and 1.");
    }

    /// <summary>Runs just before each call's outcome is decided (tests use it to act while a batch is with the provider).</summary>
    public Func<DispatchRequest, CancellationToken, ValueTask>? OnDispatch { get; set; }

    /// <summary>
    /// Rewrites the answer the fake gives for a batch it accepted (it may return null): tests of what the pipeline makes of
    /// an adapter that answers oddly.
    /// </summary>
    public Func<DispatchRequest, DispatchResult, DispatchResult?>? OnAnswer { get; set; }

    /// <summary>Every call, successful or not.</summary>
    public long Calls => Interlocked.Read(ref _callCount);

    /// <summary>Batches the provider accepted.</summary>
    public long AcceptedBatches => Interlocked.Read(ref _accepted);

    /// <summary>Messages delivered in accepted batches.</summary>
    public long Delivered => Interlocked.Read(ref _delivered);

    /// <summary>How many times each batch (by <see cref="DispatchRequest.IdempotencyKey"/>) was handed over.</summary>
    public IReadOnlyDictionary<string, int> CallsPerBatch => _calls;

    /// <summary>How many times a campaign's batches were handed over in total.</summary>
    public int CallsFor(Guid campaignId) => _started.Count(c => c.CampaignId == campaignId);

    /// <summary>How many times batch <paramref name="batchNumber"/> of a campaign was handed over.</summary>
    public int CallsFor(Guid campaignId, int batchNumber) => _started.Count(c => c.CampaignId == campaignId && c.BatchNumber == batchNumber);

    /// <summary>Every call, in the order they began (a snapshot when enumerated).</summary>
    public IReadOnlyCollection<DispatchCall> StartedCalls => _started;

    /// <summary>
    /// The calls for a campaign that began after <paramref name="timestamp"/> (a <see cref="Stopwatch.GetTimestamp"/>).
    /// </summary>
    public IReadOnlyList<DispatchCall> CallsStartedAfter(Guid campaignId, long timestamp) =>
        _started.Where(c => c.CampaignId == campaignId && c.StartedAt > timestamp).ToList();

    /// <summary>The reason the fake gives for each recipient it refuses.</summary>
    public const string RefusalReason = "550 5.1.1 mailbox unavailable";

    /// <summary>
    /// The recipients of <paramref name="campaignId"/> that accepted batches delivered to, one entry per delivery (an id
    /// twice means it was sent twice). Needs <see cref="FakeDispatcherOptions.RememberRecipients"/>.
    /// </summary>
    public IReadOnlyList<string> DeliveredTo(Guid campaignId) => _options.RememberRecipients
        ? _deliveries.Where(d => d.CampaignId == campaignId).SelectMany(d => d.Delivered).ToList()
        : throw new InvalidOperationException("Create the FakeDispatcher with RememberRecipients: true to know who it delivered to.");

    /// <inheritdoc />
    public async ValueTask<DispatchResult> DispatchAsync(DispatchRequest batch, CancellationToken cancellation = default)
    {
        var startedAt = Stopwatch.GetTimestamp(); // first: the call has begun
        ArgumentNullException.ThrowIfNull(batch);
        var attempt = _calls.AddOrUpdate(batch.IdempotencyKey, 1, (_, n) => n + 1);
        _started.Enqueue(new DispatchCall(batch.CampaignId, batch.BatchNumber, attempt, startedAt));
        Interlocked.Increment(ref _callCount);
        var key = StableHash.Mix((ulong)_options.Seed, StableHash.Of(batch.IdempotencyKey), (ulong)attempt);

        var delay = _options.Latency + _options.Jitter * StableHash.Unit(StableHash.Mix(key, 1));
        if (delay > TimeSpan.Zero) await Task.Delay(delay, cancellation);
        if (OnDispatch is { } hook) await hook(batch, cancellation);

        if (StableHash.Unit(StableHash.Mix(key, 2)) < _options.TransientFailureRate)
            throw new TransientDispatchException($"The provider timed out on batch {batch.BatchNumber} (attempt {attempt}).");
        // Permanent refusal depends on the batch only: retrying it changes nothing.
        if (StableHash.Unit(StableHash.Mix((ulong)_options.Seed, StableHash.Of(batch.IdempotencyKey), 3)) < _options.PermanentFailureRate)
            throw new PermanentDispatchException($"The provider refused batch {batch.BatchNumber}: sender not verified.");

        var refused = _options.RecipientFailureRate <= 0 ? []
            : batch.Recipients.Where(r => StableHash.Unit(StableHash.Mix((ulong)_options.Seed, StableHash.Of(r.Id), 4)) < _options.RecipientFailureRate)
                .Select(r => new RecipientRefusal(r.Id, RefusalReason)).ToArray();
        Interlocked.Increment(ref _accepted);
        Interlocked.Add(ref _delivered, batch.Recipients.Count - refused.Length);
        if (_options.RememberRecipients)
        {
            var no = refused.Select(r => r.RecipientId).ToHashSet();
            _deliveries.Enqueue((batch.CampaignId, batch.Recipients.Where(r => !no.Contains(r.Id)).Select(r => r.Id).ToArray()));
        }
        var answer = new DispatchResult(batch.Recipients.Count - refused.Length, refused.Length) { Refusals = refused };
        return OnAnswer is { } rewrite ? rewrite(batch, answer)! : answer;
    }
}
