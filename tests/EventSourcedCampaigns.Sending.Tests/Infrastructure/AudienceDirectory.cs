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

    public ValueTask<AudiencePage> ResolvePageAsync(string tenantId, Audience audience, string? continuation, int pageSize, CancellationToken cancellation = default)
    {
        Tenants.Enqueue(tenantId);
        return _bases.TryGetValue(audience.Included[0], out var contacts)
            ? contacts.ResolvePageAsync(tenantId, audience, continuation, pageSize, cancellation)
            : throw new UnknownSegmentException(audience.Included[0]);
    }
}
