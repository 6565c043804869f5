namespace EventSourcedCampaigns.Wolverine;

/// <summary>Options of <see cref="CampaignSendingExtensions.AddCampaignSending"/>.</summary>
public sealed class CampaignSendingOptions
{
    /// <summary>
    /// Batches prepared per scheduling page: each page resolves <c>BatchSize × BatchesPerPage</c> recipients in
    /// one durable message and one transaction, so a cancel during scheduling is seen within one page. Default 50
    /// (50,000 recipients with batches of 1,000, well under a second): each page has a fixed cost (the message, the
    /// write model's load and append, the commit), and pages of 10 spent more on it than on the batches.
    /// </summary>
    public int BatchesPerPage { get; set; } = 50;

    /// <summary>
    /// How many batches of one campaign may be with the provider at once: a constant, or per campaign (for example
    /// by plan). Read once when the send starts. Default 4.
    /// </summary>
    public Func<CampaignState, int> BatchesInFlightPerCampaign { get; set; } = _ => 4;

    /// <summary>How many batches, across all campaigns, this node hands to the provider at once. Default 16.</summary>
    public int MaxParallelDispatches { get; set; } = 16;

    /// <summary>How many campaign commands and pipeline steps (claims, records, scheduling pages) this node runs at once. Default 8.</summary>
    public int MaxParallelCommands { get; set; } = 8;

    /// <summary>
    /// Waits between attempts when the provider fails transiently; once they are used up the batch is recorded
    /// as failed. Default 1 s, 5 s, 15 s, 30 s, 60 s: about two minutes, so that a relay restarted or a network blip does
    /// not fail the batches sent meanwhile for good. A cancel ends the wait at once.
    /// </summary>
    public TimeSpan[] DispatchRetryDelays { get; set; } =
        [TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(60)];

    /// <summary>
    /// Messages per minute one campaign may hand to the provider, from this node: a constant, or per campaign (for
    /// example by plan); null: no limit (the default). Read when the node first sends a batch of the campaign. The
    /// limit is <b>per sending node</b> (kept in memory): with N sender nodes divide it by N to bound the total.
    /// Waiting for it never fails a batch, and a cancel still releases a waiting batch.
    /// </summary>
    public Func<CampaignState, int?> MessagesPerMinutePerCampaign { get; set; } = _ => null;

    /// <summary>
    /// Messages per minute all campaigns of one tenant together may hand to the provider, from this node; null: no limit
    /// (the default). Per sending node, as <see cref="MessagesPerMinutePerCampaign"/>.
    /// </summary>
    public int? MessagesPerMinutePerTenant { get; set; }

    /// <summary>
    /// How long in total one batch may wait on the provider's own throttling (a <see cref="Ports.TransientDispatchException"/>
    /// with a <c>RetryAfter</c>): those waits do not use up <see cref="DispatchRetryDelays"/>; past this total the batch
    /// is recorded as failed with the provider's reason. Default 10 minutes.
    /// </summary>
    public TimeSpan MaxThrottleWait { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// How long a pipeline step waits, each time, for the cancels running on its node (<see cref="CancelPrecedence"/>): a
    /// cancel goes before the send, so that it commits sooner on a node busy sending. Default 250 ms; zero: steps never wait;
    /// longer than a timer takes (about 49 days): steps wait for the cancels however long they run.
    /// </summary>
    public TimeSpan MaxWaitBehindCancels { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How often a batch waiting to retry its provider call checks whether the campaign was cancelled. Default 100 ms.</summary>
    public TimeSpan CancelCheckInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Waits between attempts to resolve an audience page when the resolver fails (an unknown list fails at once);
    /// once they are used up, scheduling fails with the error as its reason. Default 1 s, 5 s, 15 s.
    /// </summary>
    public TimeSpan[] AudienceRetryDelays { get; set; } = [TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(15)];

    /// <summary>
    /// A claimed batch with no result after this long is recorded as failed by the reconciler (its node was lost, or
    /// its message). Keep it well above the longest provider call plus its retries. Default 5 minutes.
    /// </summary>
    public TimeSpan ClaimTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How often the reconciler looks at each sending campaign. Default 30 s.</summary>
    public TimeSpan ReconcileInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How often Wolverine looks for scheduled messages that are due (the start of a send is one). AddCampaignSending
    /// sets Wolverine's <c>Durability.ScheduledJobPollingTime</c> to this, so a send starts within about this long
    /// of its send time. Default 250 ms.
    /// </summary>
    public TimeSpan ScheduledStartPrecision { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// The latest a send may start after it was due (<see cref="EventSourcedCampaigns.Decisions.StartSend.MaxLateness"/>):
    /// when the scheduled start fires later than this (the service was down at the send time), the campaign is paused
    /// with the reason shown instead of going out late; the marketer resumes (it sends at once) or cancels it.
    /// Null: no bound, a late start sends whenever it fires. Default 1 hour.
    /// </summary>
    public TimeSpan? MaxStartLateness { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// Whether this node runs the pipeline (audience preparation, sends, the reconciler). Default true. A node that
    /// only takes commands (an API node) sets it to false together with <see cref="HandOffQueue"/>: the work its
    /// commands start is handed to the nodes that run the pipeline.
    /// </summary>
    public bool RunPipeline { get; set; } = true;

    /// <summary>
    /// A PostgreSQL queue (Wolverine's PostgreSQL transport, in the message store's database) through which nodes
    /// that do not run the pipeline hand work to those that do; every pipeline node listens to it. The other nodes
    /// listen to it too, hardly taking any of it (one message an hour, handed straight back), so that Wolverine's
    /// durability agent can recover onto them what a dead sender had taken from it. Null (the default): every node
    /// runs the work its own commands start.
    /// </summary>
    public string? HandOffQueue { get; set; }

    /// <summary>Name of the durable local queue of campaign commands and pipeline steps.</summary>
    public string CommandQueue { get; set; } = "campaigns";

    /// <summary>Name of the durable local queue of batches going to the provider.</summary>
    public string DispatchQueue { get; set; } = "campaign-dispatch";

    /// <summary>Sets a constant <see cref="BatchesInFlightPerCampaign"/>.</summary>
    public CampaignSendingOptions WithBatchesInFlightPerCampaign(int batches)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batches, 1);
        BatchesInFlightPerCampaign = _ => batches;
        return this;
    }

    /// <summary>Sets a constant <see cref="MessagesPerMinutePerCampaign"/> (null: no limit).</summary>
    public CampaignSendingOptions WithMessagesPerMinutePerCampaign(int? messages)
    {
        if (messages is { } m) ArgumentOutOfRangeException.ThrowIfLessThan(m, 1);
        MessagesPerMinutePerCampaign = _ => messages;
        return this;
    }

    internal int? MessagesPerMinuteFor(CampaignState campaign) =>
        MessagesPerMinutePerCampaign(campaign) is var limit && limit is null or >= 1 ? limit
            : throw new InvalidOperationException($"{nameof(MessagesPerMinutePerCampaign)} returned {limit} for campaign {campaign.Id}; it must be at least 1, or null.");

    internal int LanesFor(CampaignState campaign)
    {
        var lanes = BatchesInFlightPerCampaign(campaign);
        return lanes >= 1 ? lanes : throw new InvalidOperationException($"{nameof(BatchesInFlightPerCampaign)} returned {lanes} for campaign {campaign.Id}; it must be at least 1.");
    }

    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(BatchesPerPage, 1, nameof(BatchesPerPage));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxParallelDispatches, 1, nameof(MaxParallelDispatches));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxParallelCommands, 1, nameof(MaxParallelCommands));
        ArgumentNullException.ThrowIfNull(BatchesInFlightPerCampaign, nameof(BatchesInFlightPerCampaign));
        ArgumentNullException.ThrowIfNull(DispatchRetryDelays, nameof(DispatchRetryDelays));
        if (DispatchRetryDelays.Any(d => d < TimeSpan.Zero))
            throw new ArgumentOutOfRangeException(nameof(DispatchRetryDelays), "Retry delays can't be negative.");
        ArgumentNullException.ThrowIfNull(AudienceRetryDelays, nameof(AudienceRetryDelays));
        if (AudienceRetryDelays.Any(d => d < TimeSpan.Zero))
            throw new ArgumentOutOfRangeException(nameof(AudienceRetryDelays), "Retry delays can't be negative.");
        ArgumentNullException.ThrowIfNull(MessagesPerMinutePerCampaign, nameof(MessagesPerMinutePerCampaign));
        if (MessagesPerMinutePerTenant < 1) throw new ArgumentOutOfRangeException(nameof(MessagesPerMinutePerTenant), MessagesPerMinutePerTenant, "Must be at least 1, or null.");
        if (MaxWaitBehindCancels < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(MaxWaitBehindCancels), MaxWaitBehindCancels, "Can't be negative.");
        if (MaxThrottleWait < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(MaxThrottleWait), MaxThrottleWait, "Can't be negative.");
        ArgumentException.ThrowIfNullOrWhiteSpace(CommandQueue, nameof(CommandQueue));
        ArgumentException.ThrowIfNullOrWhiteSpace(DispatchQueue, nameof(DispatchQueue));
        foreach (var (name, value) in new[] { (nameof(CancelCheckInterval), CancelCheckInterval), (nameof(ClaimTimeout), ClaimTimeout),
                     (nameof(ReconcileInterval), ReconcileInterval), (nameof(ScheduledStartPrecision), ScheduledStartPrecision) })
            if (value <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(name, value, "Must be positive.");
        if (MaxStartLateness < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(MaxStartLateness), MaxStartLateness, "Can't be negative.");
        if (!RunPipeline && string.IsNullOrWhiteSpace(HandOffQueue))
            throw new ArgumentException($"A node that does not run the pipeline needs a {nameof(HandOffQueue)} to hand work to the nodes that do.", nameof(HandOffQueue));
        if (CommandQueue == DispatchQueue) throw new ArgumentException("The command and dispatch queues must differ.", nameof(DispatchQueue));
    }
}
