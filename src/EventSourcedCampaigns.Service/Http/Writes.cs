namespace EventSourcedCampaigns.Service.Http;

/// <summary>Requests that change something (docs/api.md, "Retrying a command").</summary>
public static class Writes
{
    /// <summary>
    /// A request that changes something runs to its end once it has arrived, whether or not its caller waits for the answer:
    /// a closed tab or a client's timeout would otherwise cancel it wherever it was (checking its body, looking up its
    /// Idempotency-Key), and a create its caller gave up on was never made. Reading a body that does not arrive still ends:
    /// Kestrel fails the read when the connection goes, and answers a body that stalls with 408.
    /// </summary>
    public static IApplicationBuilder UseWritesThatOutliveTheirCaller(this IApplicationBuilder app) => app.Use((http, next) =>
    {
        if (!HttpMethods.IsGet(http.Request.Method) && !HttpMethods.IsHead(http.Request.Method) && !HttpMethods.IsOptions(http.Request.Method))
            http.RequestAborted = CancellationToken.None;
        return next(http);
    });
}
