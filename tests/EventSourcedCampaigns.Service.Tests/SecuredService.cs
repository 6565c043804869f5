using EventSourcedCampaigns.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Npgsql;

namespace EventSourcedCampaigns.Service.Tests;

/// <summary>The service in process with every role on a schema of its own, trusting the test run's tokens.</summary>
public sealed class SecuredService : IAsyncLifetime
{
    public string Schema { get; } = TestDatabase.UniqueSchema("sec");
    public WebApplicationFactory<Program> Factory { get; private set; } = null!;

    /// <summary>Extra settings a test class needs (set before the first request).</summary>
    public static WebApplicationFactory<Program> Start(string schema, IReadOnlyDictionary<string, string?>? settings = null, string? environment = null)
    {
        return new ServiceFactory().WithWebHostBuilder(web =>
        {
            web.UseSetting("Campaigns:ConnectionString", TestDatabase.ConnectionString);
            web.UseSetting("Campaigns:Schema", schema);
            web.UseSetting("Campaigns:DaemonMode", "Solo");
            web.UseSetting("Campaigns:Local:Contacts", "2000");
            web.TrustTestTokens();
            foreach (var (key, value) in settings ?? new Dictionary<string, string?>()) web.UseSetting(key, value);
            if (environment is not null) web.UseEnvironment(environment);
        });
    }

    public Task InitializeAsync()
    {
        Factory = Start(Schema);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await Factory.DisposeAsync();

    /// <summary>A client signed in as <paramref name="actor"/> of <paramref name="tenant"/> (all scopes unless given).</summary>
    public HttpClient Client(string tenant, string actor = "ana@shop.example", params string[] scopes) =>
        Factory.CreateClient().SignedIn(tenant, actor, scopes);

    public HttpClient Anonymous() => Factory.CreateClient();

    /// <summary>How many events the schema holds (of <paramref name="tenant"/> only, when given): a refused request must not change it.</summary>
    public async Task<long> EventCountAsync(string? tenant = null)
    {
        await using var connection = new NpgsqlConnection(TestDatabase.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"select count(*) from {Schema}.mt_events{(tenant is null ? "" : " where tenant_id = @tenant")}", connection);
        if (tenant is not null) command.Parameters.AddWithValue("tenant", tenant);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
