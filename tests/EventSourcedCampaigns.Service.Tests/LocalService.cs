using EventSourcedCampaigns.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace EventSourcedCampaigns.Service.Tests;

/// <summary>
/// The service in this process, every role, on a schema of its own, with the local provider and a made-up contact base
/// of <c>contacts</c> where the list "everyone" holds them all; test tokens are trusted.
/// </summary>
internal static class LocalService
{
    public static WebApplicationFactory<Program> Start(string schema, long contacts, params (string Key, string Value)[] settings)
    {
        return new ServiceFactory().WithWebHostBuilder(web =>
        {
            web.UseSetting("Campaigns:ConnectionString", TestDatabase.ConnectionString);
            web.UseSetting("Campaigns:Schema", TestDatabase.UniqueSchema(schema));
            web.TrustTestTokens();
            web.UseSetting("Campaigns:DaemonMode", "Solo");
            web.UseSetting("Campaigns:Local:Contacts", contacts.ToString(System.Globalization.CultureInfo.InvariantCulture));
            web.UseSetting("Campaigns:Local:Lists:everyone", "1.0");
            foreach (var (key, value) in settings) web.UseSetting(key, value);
        });
    }
}
