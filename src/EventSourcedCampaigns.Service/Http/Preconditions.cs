using System.Globalization;
using System.Text.RegularExpressions;
using EventSourcedCampaigns.Marten;
using Microsoft.Net.Http.Headers;

namespace EventSourcedCampaigns.Service.Http;

/// <summary>Endpoint metadata: the command takes an <c>If-Match</c> header (a campaign's ETag, or <c>*</c>).</summary>
public sealed record IfMatchMetadata;

/// <summary>Endpoint metadata: the GET answers the campaign's <c>ETag</c>.</summary>
public sealed record ETagMetadata;

/// <summary>
/// Optimistic concurrency over HTTP (docs/api.md, "Conditional edits"). A campaign's ETag is its stream's version, which
/// every event appended to the campaign moves (an audit-only refused cancel too): the expected version of event sourcing,
/// checked by the command door under the campaign's row lock. Only what reads the event store answers it: the report is
/// an asynchronous read model and may show an older version.
/// </summary>
public static partial class Preconditions
{
    /// <summary>A version as an ETag writes it: a whole number, 0 or more, without leading zeros (in quotes in the tag).</summary>
    public const string VersionPattern = "0|[1-9][0-9]{0,18}";

    /// <summary>What a malformed If-Match is told.</summary>
    public const string BadIfMatchDetail =
        "Give one If-Match header: the campaign's ETag as its events answered it (a version in quotes, e.g. \"7\"), or *.";

    /// <summary>The strong ETag of a campaign at stream version <paramref name="version"/>: <c>"7"</c>.</summary>
    public static string ETagOf(long version) => string.Create(CultureInfo.InvariantCulture, $"\"{version}\"");

    /// <summary>
    /// The version an <c>If-Match</c> header expects: null without one or for <c>*</c> (any current campaign: an unknown
    /// one is 404 as without the header), or a 400 when it is not one ETag as <see cref="ETagOf"/> writes them (a weak one
    /// never matches a strong comparison; several would leave which version was read to guess).
    /// </summary>
    public static bool TryReadIfMatch(HttpRequest request, out long? expectedVersion, out IResult? problem)
    {
        (expectedVersion, problem) = (null, null);
        var values = request.Headers[HeaderNames.IfMatch];
        if (values.Count == 0 || values is ["*"]) return true;
        if (values is [{ } one] && OneETag().Match(one) is { Success: true } tag
            && long.TryParse(tag.Groups["version"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var version))
        {
            expectedVersion = version;
            return true;
        }
        problem = Problems.BadRequest(ProblemCodes.BadIfMatch, BadIfMatchDetail);
        return false;
    }

    /// <summary>412: the campaign changed since its caller read it; nothing was applied.</summary>
    public static IResult Failed(CampaignVersionMismatchException e) => Problems.Problem(StatusCodes.Status412PreconditionFailed,
        ProblemCodes.PreconditionFailed, ChangedSinceRead(e.CampaignId, e.ExpectedVersion, e.ActualVersion));

    internal static string ChangedSinceRead(Guid campaignId, long expected, long actual) => string.Create(CultureInfo.InvariantCulture,
        $"Campaign {campaignId} changed since you read it (ETag \"{expected}\", now \"{actual}\"); nothing was applied. Read it again and send your change with its new ETag.");

    [GeneratedRegex($$"""\A"(?<version>{{VersionPattern}})"\z""", RegexOptions.CultureInvariant)]
    private static partial Regex OneETag();
}
