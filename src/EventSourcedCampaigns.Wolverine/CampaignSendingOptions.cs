namespace EventSourcedCampaigns.Wolverine;

/// <summary>Options of <see cref="CampaignSendingExtensions.AddCampaignSending"/>.</summary>
public sealed class CampaignSendingOptions
{
    /// <summary>
    /// Batches prepared per scheduling page: each page resolves <c>BatchSize × BatchesPerPage</c> recipients in
    /// one durable message and one transaction, so a cancel during scheduling is seen within one page. Default 10.
    /// </summary>
    public int BatchesPerPage { get; set; } = 10;

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
    /// as failed. Default 250 ms, 1 s, 5 s.
    /// </summary>
    public TimeSpan[] DispatchRetryDelays { get; set; } = [TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5)];

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

    internal int LanesFor(CampaignState campaign)
    {
        var lanes = BatchesInFlightPerCampaign(campaign);
        return lanes >= 1 ? lanes : throw new InvalidOperationException($"{nameof(BatchesInFlightPerCampaign)} returned {lanes} for campaign {campaign.Id}; it must be at least 1.");
    }

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(BatchesPerPage, 1, nameof(BatchesPerPage));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxParallelDispatches, 1, nameof(MaxParallelDispatches));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxParallelCommands, 1, nameof(MaxParallelCommands));
        ArgumentNullException.ThrowIfNull(BatchesInFlightPerCampaign, nameof(BatchesInFlightPerCampaign));
        ArgumentNullException.ThrowIfNull(DispatchRetryDelays, nameof(DispatchRetryDelays));
        if (DispatchRetryDelays.Any(d => d < TimeSpan.Zero))
            throw new ArgumentOutOfRangeException(nameof(DispatchRetryDelays), "Retry delays can't be negative.");
        ArgumentException.ThrowIfNullOrWhiteSpace(CommandQueue, nameof(CommandQueue));
        ArgumentException.ThrowIfNullOrWhiteSpace(DispatchQueue, nameof(DispatchQueue));
        if (CommandQueue == DispatchQueue) throw new ArgumentException("The command and dispatch queues must differ.", nameof(DispatchQueue));
    }
}
