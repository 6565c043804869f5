using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Security.Claims;
using System.Text;
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
        : new Actor(subject, ByApiKey(user) ? RequestChannel.ApiKey : RequestChannel.User);

    /// <summary>
    /// Whether the caller authenticated with an API key: the key itself, or a dashboard session opened with one. An
    /// <see cref="ApiKeyClaim"/> in a token proves no key (a token so made was audited as a machine client's).
    /// </summary>
    public static bool ByApiKey(ClaimsPrincipal user) =>
        user.Identity?.AuthenticationType is ApiKeyAuthenticationHandler.SchemeName or DashboardSession.SchemeName && user.HasClaim(c => c.Type == ApiKeyClaim);

    /// <summary>
    /// Whether <paramref name="value"/> can name a tenant or an actor: not blank, no spaces around it, at most
    /// <paramref name="max"/> characters, only visible ones. PostgreSQL cannot store a NUL; the other control and format
    /// characters (direction marks and overrides, zero-width spaces and joiners, soft hyphens) and line separators only
    /// disguise an id: <c>ana\u200B@shop.example</c> reads as <c>ana@shop.example</c> in the audit, its CSV and the logs.
    /// </summary>
    public static bool IsUsable(string? value, int max) =>
        !string.IsNullOrWhiteSpace(value) && value.Length == value.Trim().Length && value.Length <= max && OnlyVisible(value);

    private static bool OnlyVisible(string value)
    {
        for (var at = 0; at < value.Length;)
        {
            // A lone surrogate half is no character at all.
            if (Rune.DecodeFromUtf16(value.AsSpan(at), out var rune, out var length) != OperationStatus.Done) return false;
            if (Rune.GetUnicodeCategory(rune) is UnicodeCategory.Control or UnicodeCategory.Format
                or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator) return false;
            at += length;
        }
        return true;
    }

    // Exactly one claim, and a string: credentials naming two tenants name none we could choose between, and a number or
    // an object in a token is no id ({"id":"shop"} would be a tenant of that text).
    private static string? SingleUsable(ClaimsPrincipal user, string type, int max) =>
        user.FindAll(type).ToList() is [{ Value: var value, ValueType: ClaimValueTypes.String }] && IsUsable(value, max) ? value : null;

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
