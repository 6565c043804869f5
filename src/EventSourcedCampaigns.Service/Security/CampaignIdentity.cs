using System.Buffers.Text;
using System.Security.Claims;
using System.Text.Json;

namespace EventSourcedCampaigns.Service.Security;

/// <summary>
/// Who is calling, from the authenticated principal only: the tenant from its validated "tenant_id" claim (a token
/// claim, or the API key's tenant), the actor from its subject. Nothing the caller merely says (a header) counts.
/// </summary>
public static class CampaignIdentity
{
    public const string TenantClaim = "tenant_id";
    public const string SubjectClaim = "sub";
    public const string ScopeClaim = "scope";
    /// <summary>Set on principals authenticated with an API key.</summary>
    public const string ApiKeyClaim = "api_key_id";

    /// <summary>Longest tenant id a credential may name.</summary>
    public const int MaxTenantLength = 100;
    /// <summary>Longest subject (the actor's id) a credential may name.</summary>
    public const int MaxSubjectLength = 320;

    /// <summary>The tenant the principal belongs to, or null when its credentials name no usable one.</summary>
    public static string? TenantOf(ClaimsPrincipal user) => SingleUsable(user, TenantClaim, MaxTenantLength);

    /// <summary>The actor the audit records: a user by its subject, an API key by its name; null without a usable subject.</summary>
    public static Actor? ActorOf(ClaimsPrincipal user) =>
        SingleUsable(user, SubjectClaim, MaxSubjectLength) is not { } subject ? null
        : new Actor(subject, user.HasClaim(c => c.Type == ApiKeyClaim) ? RequestChannel.ApiKey : RequestChannel.User);

    /// <summary>
    /// Whether <paramref name="value"/> can name a tenant or an actor: not blank, at most <paramref name="max"/>
    /// characters, no control characters (PostgreSQL cannot store a NUL; the others only disguise an id).
    /// </summary>
    public static bool IsUsable(string? value, int max) =>
        !string.IsNullOrWhiteSpace(value) && value.Length <= max && !value.Any(c => char.IsControl(c) || IsBidiControl(c));

    /// <summary>
    /// The explicit direction controls (embeddings, overrides, isolates): an id holding one reads as another id wherever it is
    /// shown without isolation (the audit's CSV, the logs).
    /// </summary>
    private static bool IsBidiControl(char c) => c is >= '\u202A' and <= '\u202E' or >= '\u2066' and <= '\u2069';

    // Exactly one claim: credentials naming two tenants name none we could choose between.
    private static string? SingleUsable(ClaimsPrincipal user, string type, int max) =>
        user.FindAll(type).ToList() is [{ Value: var value }] && IsUsable(value, max) ? value : null;

    /// <summary>
    /// The first claim name a token's payload (<paramref name="encodedPayload"/>, base64url JSON) gives twice, or null.
    /// Names are compared as written: claim names are case-sensitive.
    /// </summary>
    public static string? RepeatedClaim(string encodedPayload)
    {
        var reader = new Utf8JsonReader(Base64Url.DecodeFromChars(encodedPayload));
        var names = new HashSet<string>(StringComparer.Ordinal);
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1 && !names.Add(reader.GetString()!)) return reader.GetString();
            if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray && reader.CurrentDepth > 0) reader.Skip();
        }
        return null;
    }

    /// <summary>Whether the principal was granted <paramref name="scope"/>.</summary>
    public static bool HasScope(ClaimsPrincipal user, string scope) =>
        user.FindAll(ScopeClaim).Concat(user.FindAll("scp"))
            .SelectMany(c => c.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Contains(scope, StringComparer.Ordinal);
}
