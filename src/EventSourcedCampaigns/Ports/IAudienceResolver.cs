namespace EventSourcedCampaigns.Ports;

/// <summary>One person a campaign goes to: a stable id and the address on the campaign's channel.</summary>
public sealed record Recipient(string Id, string Address, string? Name = null);

/// <summary>
/// One page of a resolved audience. <see cref="Continuation"/> is the opaque position of the next page,
/// null on the last page. <see cref="TotalRecipients"/> is the size of the whole audience, for progress.
/// </summary>
public sealed record AudiencePage(IReadOnlyList<Recipient> Recipients, long TotalRecipients, string? Continuation)
{
    /// <summary>Whether this is the last page.</summary>
    public bool IsLast => Continuation is null;
}

/// <summary>
/// Port: turns an <see cref="Audience"/> (included lists/segments minus excluded ones) into recipients, page by
/// page. Every recipient appears once across all pages, whatever the number of included lists they are in, and
/// no recipient of an excluded list appears. Paging must be stable: the same continuation gives the same page,
/// so a page that is resolved again after a crash yields the same recipients. The pipeline checks each page: a null
/// page, a recipient without an id, or one recipient twice in a page fails scheduling with the reason (the campaign goes
/// back to Draft); a recipient repeated in another page is not detected, and would get the message twice.
/// </summary>
public interface IAudienceResolver
{
    /// <summary>
    /// Resolve at most <paramref name="pageSize"/> recipients of <paramref name="tenantId"/>'s lists, starting at
    /// <paramref name="continuation"/> (null: the first page). Two tenants may both have a list called
    /// "newsletter": the tenant says whose.
    /// </summary>
    /// <exception cref="UnknownSegmentException">The audience names a list or segment that doesn't exist: scheduling
    /// fails at once with this reason. Any other exception is retried, then fails scheduling with its message.</exception>
    ValueTask<AudiencePage> ResolvePageAsync(string tenantId, Audience audience, string? continuation, int pageSize, CancellationToken cancellation = default);
}

/// <summary>The audience names a list or segment that the resolver doesn't know.</summary>
public sealed class UnknownSegmentException(string segmentId)
    : ArgumentException($"There is no list or segment '{segmentId}'.")
{
    /// <summary>The unknown list or segment.</summary>
    public string SegmentId { get; } = segmentId;
}

/// <summary>The continuation token handed to a resolver is not one it produced.</summary>
public sealed class InvalidContinuationException(string? continuation)
    : ArgumentException($"'{continuation}' is not a continuation this audience resolver produced.")
{
    /// <summary>The token that was refused.</summary>
    public string? Continuation { get; } = continuation;
}
