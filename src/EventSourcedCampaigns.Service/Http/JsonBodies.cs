using System.Text.Json;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Net.Http.Headers;

namespace EventSourcedCampaigns.Service.Http;

/// <summary>
/// The JSON bodies of the API and of the dashboard's sign-in (docs/api.md): sent as <c>application/json</c> in UTF-8 (415 unsupported_media_type otherwise, a
/// body without a Content-Type or with another charset included), and each property given once at any depth, the properties the operation does not
/// read included (400 bad_request otherwise). System.Text.Json refuses a repeated property only where it binds it to a
/// member; a repeated property it skips would be accepted, and which copy a proxy or another reader keeps is not ours to know.
/// Checked once the caller is authenticated and authorized, before the body is bound.
/// </summary>
public static class JsonBodies
{
    public static IApplicationBuilder UseStrictJsonBodies(this IApplicationBuilder app) => app.Use(async (http, next) =>
    {
        var request = http.Request;
        if (!(request.Path.StartsWithSegments("/api") || request.Path.StartsWithSegments("/auth")) || http.GetEndpoint()?.Metadata.GetMetadata<IAcceptsMetadata>() is null || !HasBody(request))
        {
            await next(http);
            return;
        }
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var media) || !media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase))
        {
            await Problems.Problem(StatusCodes.Status415UnsupportedMediaType, ProblemCodes.UnsupportedMediaType,
                $"Send the body as application/json, not {(string.IsNullOrEmpty(request.ContentType) ? "without a Content-Type" : $"as '{Shown(request.ContentType)}'")}.").ExecuteAsync(http);
            return;
        }
        // Which of two charsets the body is in is not ours to guess (the first was used, whatever the second said).
        if (media.Parameters.Count(p => p.Name.Equals("charset", StringComparison.OrdinalIgnoreCase)) > 1)
        {
            await Problems.Problem(StatusCodes.Status415UnsupportedMediaType, ProblemCodes.UnsupportedMediaType,
                "Send the body as UTF-8 and name its charset once (charset=utf-8): the Content-Type names two.").ExecuteAsync(http);
            return;
        }
        if (media.Charset.HasValue)
        {
            // The binding knows a few other encodings and throws on the rest: the body is UTF-8, named as the caller likes.
            if (!IsUtf8(HeaderUtilities.RemoveQuotes(media.Charset).Value))
            {
                await Problems.Problem(StatusCodes.Status415UnsupportedMediaType, ProblemCodes.UnsupportedMediaType,
                    $"Send the body as UTF-8 (charset=utf-8), not as charset '{Shown(media.Charset.Value!)}'.").ExecuteAsync(http);
                return;
            }
            request.ContentType = "application/json";
        }
        request.EnableBuffering();
        var refused = await PropertyNameProblemAsync(request.Body, http.RequestAborted);
        request.Body.Position = 0;
        if (refused is not null)
        {
            await Problems.BadRequest(ProblemCodes.BadRequest, refused).ExecuteAsync(http);
            return;
        }
        await next(http);
    });

    /// <summary>
    /// Why the property names of <paramref name="body"/> are refused, or null: the first name given twice in one object (names
    /// compared in any case, as they are read), or a name that is not valid Unicode text (an escaped lone surrogate such as
    /// <c>\ud800</c>, or bytes that are not UTF-8: reading it threw, a 500). A body that is not JSON is left to the binding,
    /// which refuses it with its own reason.
    /// </summary>
    public static async Task<string?> PropertyNameProblemAsync(Stream body, CancellationToken cancellation)
    {
        using var buffer = new MemoryStream();
        await body.CopyToAsync(buffer, cancellation);
        return PropertyNameProblem(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
    }

    private static string? PropertyNameProblem(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        var objects = new Stack<HashSet<string>>();
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject: objects.Push(new HashSet<string>(StringComparer.OrdinalIgnoreCase)); break;
                    case JsonTokenType.EndObject: objects.Pop(); break;
                    case JsonTokenType.PropertyName when !objects.Peek().Add(reader.GetString()!):
                        return $"The body gives the property '{Shown(reader.GetString()!)}' twice in one object: give it once.";
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON: the binding refuses it.
        }
        catch (InvalidOperationException)
        {
            // GetString of a property name: "Cannot transcode invalid UTF-8 JSON text ...", "Cannot read invalid UTF-16 JSON text ...".
            return "A property name in the request body is not valid Unicode text (a lone surrogate such as \\ud800, or bytes that are not UTF-8).";
        }
        return null;
    }

    private static bool HasBody(HttpRequest request) =>
        request.ContentLength > 0 || (request.ContentLength is null && request.Headers.TransferEncoding.Count > 0);

    private static bool IsUtf8(string? charset) =>
        string.Equals(charset, "utf-8", StringComparison.OrdinalIgnoreCase) || string.Equals(charset, "utf8", StringComparison.OrdinalIgnoreCase);

    private static string Shown(string value) => Http.Shown.Start(value);
}
