using EventSourcedCampaigns.Ports;
using EventSourcedCampaigns.Testing;

namespace EventSourcedCampaigns.Sending.Tests.Infrastructure;

/// <summary>Many made-up contact bases behind one resolver: an audience's first included list names the base.</summary>
public sealed class AudienceDirectory : IAudienceResolver
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, BogusAudience> _bases = new();

    /// <summary>Registers a base of <paramref name="contacts"/> contacts that are all in the list <paramref name="listId"/>.</summary>
    public Audience Everyone(string listId, long contacts, int seed = 1)
    {
        _bases[listId] = new BogusAudience(seed, contacts, new Dictionary<string, double> { [listId] = 1.0 });
        return Audience.Of(listId);
    }

    public void Add(string listId, BogusAudience contacts) => _bases[listId] = contacts;

    /// <summary>The tenants whose lists were resolved, in order (the pipeline must say whose lists it means).</summary>
    public System.Collections.Concurrent.ConcurrentQueue<string> Tenants { get; } = new();

    /// <summary>
    /// Runs before each page is resolved, with the page's continuation (null for the first page): tests throw from it
    /// to make the contacts service fail.
    /// </summary>
    public Func<Audience, string?, ValueTask>? BeforeResolve { get; set; }

    /// <summary>Rewrites each page resolved: tests hand the pipeline pages a contacts service should not give.</summary>
    public Func<AudiencePage, AudiencePage>? Rewrite { get; set; }

    /// <summary>How many times a page was asked for, by list and continuation ("" for the first page).</summary>
    public System.Collections.Concurrent.ConcurrentDictionary<(string List, string Continuation), int> Requests { get; } = new();

    public async ValueTask<AudiencePage> ResolvePageAsync(string tenantId, Audience audience, string? continuation, int pageSize, CancellationToken cancellation = default)
    {
        Tenants.Enqueue(tenantId);
        Requests.AddOrUpdate((audience.Included[0], continuation ?? ""), 1, (_, n) => n + 1);
        if (BeforeResolve is { } hook) await hook(audience, continuation);
        var page = _bases.TryGetValue(audience.Included[0], out var contacts)
            ? await contacts.ResolvePageAsync(tenantId, audience, continuation, pageSize, cancellation)
            : throw new UnknownSegmentException(audience.Included[0]);
        return Rewrite is { } rewrite ? rewrite(page) : page;
    }
}
