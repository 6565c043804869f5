namespace EventSourcedCampaigns.Service.Security;

/// <summary>
/// Headers on every response that tell a browser to run nothing the service did not serve: the dashboard loads its one
/// script and stylesheet from /app and talks to /api on the same origin, so anything else (an injected script, a frame
/// on another site, a body sniffed as HTML) is refused by the browser even if a bug let it in.
/// </summary>
public static class ResponseHardening
{
    /// <summary>
    /// Scripts, connections and forms from this origin only; no frames of it elsewhere, no plugins, no base URL. Inline
    /// style attributes stay allowed (the dashboard sets a few; a style cannot run code).
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; " +
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";

    /// <summary>Set as the response starts, so that an error page, whose handler clears the headers set before it, has them too.</summary>
    public static IApplicationBuilder UseResponseHardening(this IApplicationBuilder app) => app.Use((http, next) =>
    {
        http.Response.OnStarting(() =>
        {
            var headers = http.Response.Headers;
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = "no-referrer";
            // What the API and the session answer may be personal data (recipients, exports, the audit): never kept in a
            // browser's cache, where it would outlive signing out on a shared machine. The dashboard's files may be.
            if (!http.Request.Path.StartsWithSegments("/app")) headers.CacheControl = "no-store";
            return Task.CompletedTask;
        });
        return next(http);
    });
}
