using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Marten;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace EventSourcedCampaigns.Service.Security;

/// <summary>
/// An API key of a machine client: its tenant and scopes. Only a hash of its secret is stored; the key itself
/// (<c>esc_{id}.{secret}</c>) is shown once, when it is created.
/// </summary>
public sealed record ApiKey(string Id, string TenantId, string Name, string[] Scopes, string SecretHash, DateTimeOffset CreatedAt,
    DateTimeOffset? RevokedAt = null)
{
    /// <summary>Whether it still opens the door.</summary>
    public bool IsActive => RevokedAt is null;
}

/// <summary>Create, list, revoke and check API keys (stored in Marten, across tenants).</summary>
public sealed class ApiKeyStore(IDocumentStore store, TimeProvider clock)
{
    private const string Prefix = "esc_";

    /// <summary>A new key for <paramref name="tenantId"/>: the stored record and the key to hand over (shown once).</summary>
    public async Task<(ApiKey Key, string Secret)> CreateAsync(string tenantId, string name, IReadOnlyCollection<string> scopes,
        CancellationToken cancellation = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(tenantId);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        // A key whose tenant or actor ("apikey:{name}") the API would not take would be refused on every request.
        if (!CampaignIdentity.IsUsable(tenantId.Trim(), CampaignIdentity.MaxTenantLength))
            throw new ArgumentException($"A tenant id has at most {CampaignIdentity.MaxTenantLength} characters, all visible.", nameof(tenantId));
        if (!CampaignIdentity.IsUsable($"apikey:{name.Trim()}", CampaignIdentity.MaxSubjectLength))
            throw new ArgumentException($"A key's name has at most {CampaignIdentity.MaxSubjectLength - "apikey:".Length} characters, all visible.", nameof(name));
        if (scopes.Count == 0 || scopes.Except(Security.Scopes.All).Any())
            throw new ArgumentException($"Scopes must be some of {string.Join(", ", Security.Scopes.All)}.", nameof(scopes));
        // The audit names a key's cancels "apikey:{name}" (and its actor filter ignores case): two active keys of one name
        // would leave an auditor unable to say which of them cancelled.
        if ((await ListAsync(tenantId.Trim(), cancellation)).FirstOrDefault(k => k.IsActive && string.Equals(k.Name, name.Trim(), StringComparison.OrdinalIgnoreCase)) is { } same)
            throw new ArgumentException($"Tenant {same.TenantId} already has an active API key named '{same.Name}' ({same.Id}): the audit could not tell " +
                                        "their cancels apart. Give the new key another name (crm-sync-2), or revoke that one first.", nameof(name));
        var id = Convert.ToHexString(RandomNumberGenerator.GetBytes(8)).ToLowerInvariant();
        var secret = Base64Url(RandomNumberGenerator.GetBytes(32));
        var key = new ApiKey(id, tenantId.Trim(), name.Trim(), [.. scopes.Distinct()], Hash(secret), clock.GetUtcNow());
        await using var session = store.LightweightSession();
        session.Insert(key);
        await session.SaveChangesAsync(cancellation);
        return (key, $"{Prefix}{id}.{secret}");
    }

    /// <summary>The keys of a tenant (all tenants when null), newest first.</summary>
    public async Task<IReadOnlyList<ApiKey>> ListAsync(string? tenantId, CancellationToken cancellation = default)
    {
        await using var session = store.QuerySession();
        var keys = session.Query<ApiKey>();
        return tenantId is null
            ? await keys.OrderByDescending(k => k.CreatedAt).ToListAsync(cancellation)
            : await keys.Where(k => k.TenantId == tenantId).OrderByDescending(k => k.CreatedAt).ToListAsync(cancellation);
    }

    /// <summary>Revoke a key: it stops working at once. False when there is no such key.</summary>
    public async Task<bool> RevokeAsync(string id, CancellationToken cancellation = default)
    {
        await using var session = store.LightweightSession();
        if (await session.LoadAsync<ApiKey>(id, cancellation) is not { } key) return false;
        if (key.IsActive) session.Store(key with { RevokedAt = clock.GetUtcNow() });
        await session.SaveChangesAsync(cancellation);
        return true;
    }

    /// <summary>Whether key <paramref name="id"/> exists and is not revoked.</summary>
    public async Task<bool> IsActiveAsync(string id, CancellationToken cancellation = default)
    {
        await using var session = store.QuerySession();
        return await session.LoadAsync<ApiKey>(id, cancellation) is { IsActive: true };
    }

    /// <summary>The active key <paramref name="presented"/> is, or null.</summary>
    public async Task<ApiKey?> FindAsync(string presented, CancellationToken cancellation = default)
    {
        if (!presented.StartsWith(Prefix, StringComparison.Ordinal) || presented.Length > 200) return null;
        var parts = presented[Prefix.Length..].Split('.', 2);
        if (parts.Length != 2 || parts[0].Length != 16 || !parts[0].All(char.IsAsciiHexDigitLower)) return null;
        await using var session = store.QuerySession();
        var key = await session.LoadAsync<ApiKey>(parts[0], cancellation);
        return key is { IsActive: true }
               && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(key.SecretHash), Encoding.ASCII.GetBytes(Hash(parts[1])))
            ? key
            : null;
    }

    // The secret is 256 random bits: a plain SHA-256 is enough (there is nothing to brute-force as with passwords).
    private static string Hash(string secret) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(secret))).ToLowerInvariant();

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

/// <summary>Authenticates "Authorization: ApiKey esc_..." (or the X-Api-Key header) against <see cref="ApiKeyStore"/>.</summary>
public sealed class ApiKeyAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    ApiKeyStore keys) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string Header = "X-Api-Key";

    /// <summary>The key a request presents, if it presents one.</summary>
    public static string? Presented(HttpRequest request) =>
        request.Headers.Authorization.FirstOrDefault() is { } authorization && authorization.StartsWith(SchemeName + " ", StringComparison.OrdinalIgnoreCase)
            ? authorization[(SchemeName.Length + 1)..].Trim()
            : request.Headers[Header].FirstOrDefault();

    /// <summary>
    /// Whether a request presents an API key beside another credential (an Authorization header) or two keys: which one
    /// it means to act with is not ours to guess, and a forged token must not pass for being next to a valid key.
    /// </summary>
    public static bool PresentsTwo(HttpRequest request) =>
        request.Headers[Header].Count > 1 || (request.Headers.ContainsKey(Header) && request.Headers.Authorization.Any(h => !string.IsNullOrEmpty(h)));

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (PresentsTwo(Request)) return AuthenticateResult.Fail("The request presents more than one credential.");
        if (Presented(Request) is not { Length: > 0 } presented) return AuthenticateResult.NoResult();
        if (await keys.FindAsync(presented, Context.RequestAborted) is not { } key) return AuthenticateResult.Fail("Unknown or revoked API key.");
        var identity = new ClaimsIdentity([
            new Claim(CampaignIdentity.SubjectClaim, $"apikey:{key.Name}"),
            new Claim(CampaignIdentity.TenantClaim, key.TenantId),
            new Claim(CampaignIdentity.ApiKeyClaim, key.Id),
            new Claim(CampaignIdentity.ScopeClaim, string.Join(' ', key.Scopes)),
        ], SchemeName, CampaignIdentity.SubjectClaim, null);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }
}
