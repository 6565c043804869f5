using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace EventSourcedCampaigns.Service.Security;

/// <summary>Symmetric signing keys: the configured ones, and the development key of this installation.</summary>
public static class SigningKeys
{
    /// <summary>The development key, created with 256 random bits on first use (the file is never in the repository).</summary>
    public static SymmetricSecurityKey Development(AuthSettings settings)
    {
        var file = settings.DevelopmentKeyFile;
        if (!File.Exists(file))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(file))!);
            var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
            try
            {
                using var stream = new FileStream(file, FileMode.CreateNew, FileAccess.Write, FileShare.None);
                if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                using var writer = new StreamWriter(stream);
                writer.Write(key);
            }
            catch (IOException) when (File.Exists(file)) { } // another process created it first: use theirs
        }
        return FromBase64(File.ReadAllText(file).Trim(), "the development key file " + file);
    }

    /// <summary>A configured key; refused when it is too short to be safe.</summary>
    public static SymmetricSecurityKey FromBase64(string base64, string what)
    {
        byte[] bytes;
        try { bytes = Convert.FromBase64String(base64); }
        catch (FormatException) { throw new InvalidOperationException($"{what} is not base64."); }
        return bytes.Length >= 32 ? new SymmetricSecurityKey(bytes) : throw new InvalidOperationException($"{what} is shorter than 32 bytes.");
    }

    /// <summary>A signed token for <paramref name="tenant"/> and <paramref name="actor"/> with <paramref name="scopes"/>.</summary>
    public static string Issue(SecurityKey key, string issuer, string audience, string tenant, string actor, IEnumerable<string> scopes, TimeSpan lifetime)
    {
        var now = DateTime.UtcNow;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now + lifetime,
            Subject = new ClaimsIdentity([
                new Claim(CampaignIdentity.SubjectClaim, actor),
                new Claim(CampaignIdentity.TenantClaim, tenant),
                new Claim(CampaignIdentity.ScopeClaim, string.Join(' ', scopes)),
            ]),
            SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.HmacSha256),
        });
    }
}
