using System.Text;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EventSourcedCampaigns.Service.Tests;

/// <summary>Every refusal of the API is logged by its route's pattern (docs/security.md).</summary>
[Collection("in-process host")]
public sealed class the_refusal_log : IAsyncLifetime
{
    private readonly List<string> _logged = [];
    private WebApplicationFactory<Program> _factory = null!;

    public Task InitializeAsync()
    {
        _factory = LocalService.Start("refusallog", 100).WithWebHostBuilder(web =>
            web.ConfigureServices(services => services.AddLogging(l => l.AddProvider(new CapturedLogs(_logged)))));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    [Fact]
    public async Task names_the_route_of_a_body_it_could_not_read()
    {
        // Found by an audit: a body refused by the exception handler (the endpoint cleared) was logged as "(no route)".
        var client = _factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", TestAuth.Token("shop-a"));
        var id = Guid.NewGuid();
        var answer = await client.PostAsync($"/api/campaigns/{id}/cancel", new StringContent("{\"reasonCode\":", Encoding.UTF8, "application/json"));

        Assert.Equal(System.Net.HttpStatusCode.BadRequest, answer.StatusCode);
        lock (_logged)
            Assert.Contains(_logged, line => line.StartsWith("Refused POST /api/campaigns/{id}/cancel with 400 (tenant shop-a", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/json; charset=utf-16")]
    [InlineData("")]
    public async Task names_the_route_of_a_body_of_another_type(string contentType)
    {
        var client = _factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", TestAuth.Token("shop-a"));
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes("{}"));
        if (contentType.Length > 0) content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        var answer = await client.PostAsync("/api/campaigns", content);

        Assert.Equal(System.Net.HttpStatusCode.UnsupportedMediaType, answer.StatusCode);
        lock (_logged)
            Assert.Contains(_logged, line => line.StartsWith("Refused POST /api/campaigns with 415 (tenant shop-a", StringComparison.Ordinal));
    }
}
