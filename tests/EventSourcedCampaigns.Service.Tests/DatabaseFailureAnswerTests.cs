using EventSourcedCampaigns.Service.Http;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace EventSourcedCampaigns.Service.Tests;

public sealed class the_answer_to_a_database_failure
{
    [Fact]
    public async Task names_an_exhausted_connection_pool_and_logs_the_route_it_failed()
    {
        // Found by an outage drill: with every pooled connection busy, each request was told its statement ran past the
        // command timeout ("ask for less"), and every 503 was logged as "(no route)".
        var logged = new List<string>();
        var http = new DefaultHttpContext
        {
            RequestServices = new ServiceCollection().AddLogging(l => l.AddProvider(new CapturedLogs(logged))).BuildServiceProvider(),
            Response = { Body = new MemoryStream() },
        };
        http.Request.Method = "GET";
        var exhausted = new NpgsqlException(
            "The connection pool has been exhausted, either raise 'Max Pool Size' (currently 3) or 'Timeout' (currently 2 seconds) in your connection string.",
            new TimeoutException());
        // The exception handler runs with the request's endpoint cleared; its feature keeps the endpoint that failed.
        http.Features.Set<IExceptionHandlerFeature>(new ExceptionHandlerFeature
        {
            Error = exhausted, Path = "/api/campaigns",
            Endpoint = new RouteEndpoint(_ => Task.CompletedTask, RoutePatternFactory.Parse("/api/campaigns"), 0, EndpointMetadataCollection.Empty, "list"),
        });

        Assert.True(await new CampaignExceptionHandler().TryHandleAsync(http, exhausted, CancellationToken.None));

        Assert.Equal(StatusCodes.Status503ServiceUnavailable, http.Response.StatusCode);
        var body = System.Text.Encoding.UTF8.GetString(((MemoryStream)http.Response.Body).ToArray());
        Assert.Contains("database_unavailable", body);
        Assert.Contains("Maximum Pool Size", body);
        Assert.DoesNotContain("command timeout", body);
        Assert.Contains("GET /api/campaigns answered 503: every pooled connection was in use", logged);
    }
}
