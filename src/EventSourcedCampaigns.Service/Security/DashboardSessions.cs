using System.Security.Claims;
using System.Security.Cryptography;
using Marten;

namespace EventSourcedCampaigns.Service.Security;

/// <summary>
/// A dashboard session that has not ended: the cookie names it (claim <see cref="DashboardSessionStore.SessionClaim"/>), and
/// a cookie whose session is no longer here opens nothing. Signing out deletes it; it lapses at <see cref="ExpiresAt"/> at the latest.
/// </summary>
public sealed record DashboardSessionRecord(string Id, string TenantId, string Subject, string? ApiKeyId, DateTimeOffset CreatedAt,
    DateTimeOffset ExpiresAt);

/// <summary>
/// The dashboard's sessions in PostgreSQL (Marten, across tenants, beside the API keys), so that signing out on one node
/// ends the session on every node at its next request. Each cookie-authenticated request costs one round trip: the
/// session's record (and the API key it was opened with, if any) by primary key, in one batch. There is no cache on
/// purpose: a cached "still active" would let a copy of a signed-out cookie live on in another node for the cache's time.
/// </summary>
public sealed class DashboardSessionStore(IDocumentStore store, TimeProvider clock)
{
    /// <summary>The cookie's claim naming its session.</summary>
    public const string SessionClaim = "sid";

    /// <summary>
    /// The longest a session lasts, however often it is used (the cookie slides for <see cref="DashboardSession.SessionLifetime"/>
    /// between requests): the bound after which its record is deleted, so that sessions nobody signed out do not pile up.
    /// </summary>
    public static readonly TimeSpan MaxSessionAge = TimeSpan.FromDays(7);

    /// <summary>
    /// A new session of <paramref name="tenantId"/>'s <paramref name="subject"/> (opened with API key <paramref name="apiKeyId"/>,
    /// if any) lasting until <paramref name="endsBy"/> or <see cref="MaxSessionAge"/>, whichever is sooner: its id. Deletes the
    /// records of sessions that lapsed meanwhile.
    /// </summary>
    public async Task<string> OpenAsync(string tenantId, string subject, string? apiKeyId, DateTimeOffset? endsBy,
        CancellationToken cancellation = default)
    {
        var now = clock.GetUtcNow();
        var expires = now + MaxSessionAge;
        if (endsBy < expires) expires = endsBy.Value;
        var id = Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
        await using var session = store.LightweightSession();
        session.Insert(new DashboardSessionRecord(id, tenantId, subject, apiKeyId, now, expires));
        session.DeleteWhere<DashboardSessionRecord>(s => s.ExpiresAt < now);
        await session.SaveChangesAsync(cancellation);
        return id;
    }

    /// <summary>
    /// Whether the session <paramref name="user"/>'s cookie names is still open: it was not signed out or lapsed, it is the
    /// same tenant and subject, and the API key it was opened with (if any) is not revoked. A cookie without a session id
    /// (issued before sessions were recorded) is not.
    /// </summary>
    public async Task<bool> IsOpenAsync(ClaimsPrincipal user, CancellationToken cancellation = default)
    {
        if (user.FindFirst(SessionClaim)?.Value is not { Length: > 0 } id) return false;
        var keyId = user.FindFirst(CampaignIdentity.ApiKeyClaim)?.Value;
        await using var session = store.QuerySession();
        var batch = session.CreateBatchQuery();
        var record = batch.Load<DashboardSessionRecord>(id);
        var key = keyId is null ? null : batch.Load<ApiKey>(keyId);
        await batch.Execute(cancellation);
        return await record is { } open
               && open.ExpiresAt > clock.GetUtcNow()
               && open.TenantId == CampaignIdentity.TenantOf(user)
               && open.Subject == CampaignIdentity.ActorOf(user)?.Id
               && open.ApiKeyId == keyId
               && (key is null || await key is { IsActive: true });
    }

    /// <summary>End session <paramref name="id"/> on every node (nothing when it already ended).</summary>
    public async Task EndAsync(string id, CancellationToken cancellation = default)
    {
        await using var session = store.LightweightSession();
        session.Delete<DashboardSessionRecord>(id);
        await session.SaveChangesAsync(cancellation);
    }

    /// <summary>How many sessions are open (for tests and operators).</summary>
    public async Task<int> OpenCountAsync(CancellationToken cancellation = default)
    {
        var now = clock.GetUtcNow();
        await using var session = store.QuerySession();
        return await session.Query<DashboardSessionRecord>().CountAsync(s => s.ExpiresAt > now, cancellation);
    }
}
