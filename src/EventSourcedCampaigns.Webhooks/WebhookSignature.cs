using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace EventSourcedCampaigns.Webhooks;

/// <summary>
/// The signature of a webhook request, in the header <c>X-Campaign-Signature: t={unix seconds},v1={hex}</c>, where hex
/// is the lower-case HMAC-SHA256, keyed with the shared secret (UTF-8), of the bytes <c>{t}.</c> followed by the
/// request body exactly as received. Receivers recompute it, compare in constant time and reject an old timestamp
/// (replay): <see cref="Verify"/> does all three.
/// </summary>
public static class WebhookSignature
{
    /// <summary>The request header carrying the signature.</summary>
    public const string Header = "X-Campaign-Signature";

    /// <summary>The header value for <paramref name="body"/> signed at <paramref name="timestamp"/>.</summary>
    public static string Sign(string secret, DateTimeOffset timestamp, ReadOnlySpan<byte> body)
    {
        ArgumentException.ThrowIfNullOrEmpty(secret);
        var t = timestamp.ToUnixTimeSeconds();
        return $"t={t.ToString(CultureInfo.InvariantCulture)},v1={Convert.ToHexStringLower(Mac(secret, t, body))}";
    }

    /// <summary>
    /// Whether <paramref name="header"/> is a valid signature of <paramref name="body"/> with <paramref name="secret"/>,
    /// made no more than <paramref name="tolerance"/> (default 5 minutes) away from <paramref name="now"/>.
    /// </summary>
    public static bool Verify(string secret, string? header, ReadOnlySpan<byte> body, DateTimeOffset now, TimeSpan? tolerance = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(secret);
        if (string.IsNullOrEmpty(header)) return false;
        long? t = null;
        var signatures = new List<byte[]>();
        foreach (var part in header.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var (key, value) = part.IndexOf('=') is var i and > 0 ? (part[..i], part[(i + 1)..]) : (part, "");
            if (key == "t" && long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed)) t = parsed;
            else if (key == "v1" && value.Length == 64)
            {
                try { signatures.Add(Convert.FromHexString(value)); }
                catch (FormatException) { }
            }
        }
        if (t is not { } timestamp || signatures.Count == 0) return false;
        // A time no date can hold is a forged header: refused like any other, not thrown at the receiver.
        if (timestamp > MaxUnixSeconds) return false;
        if ((now - DateTimeOffset.FromUnixTimeSeconds(timestamp)).Duration() > (tolerance ?? TimeSpan.FromMinutes(5))) return false;
        var expected = Mac(secret, timestamp, body);
        var valid = false;
        foreach (var signature in signatures) valid |= CryptographicOperations.FixedTimeEquals(expected, signature);
        return valid;
    }

    private static readonly long MaxUnixSeconds = DateTimeOffset.MaxValue.ToUnixTimeSeconds();

    private static byte[] Mac(string secret, long timestamp, ReadOnlySpan<byte> body)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(secret));
        hmac.AppendData(Encoding.ASCII.GetBytes(timestamp.ToString(CultureInfo.InvariantCulture) + "."));
        hmac.AppendData(body);
        return hmac.GetHashAndReset();
    }
}
