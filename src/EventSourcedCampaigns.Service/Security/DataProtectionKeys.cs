using System.Xml.Linq;
using Marten;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.Extensions.Options;

namespace EventSourcedCampaigns.Service.Security;

/// <summary>One ASP.NET Core data-protection key (the XML the key manager writes), stored in the service's database.</summary>
public sealed record DataProtectionKeyDocument(string Id, string Xml);

/// <summary>
/// The data-protection key ring in PostgreSQL (Marten), shared by every node of the service: a dashboard session cookie
/// issued by one node opens on all of them, and survives restarts. The keys are stored as the key manager writes them
/// (not encrypted at rest): whoever can read the database can forge sessions, as with the API-key hashes' database.
/// </summary>
public sealed class MartenXmlRepository(IDocumentStore store) : IXmlRepository
{
    public IReadOnlyCollection<XElement> GetAllElements()
    {
        // The key manager's interface is synchronous; it reads the ring rarely (start, then about once a day).
        using var session = store.QuerySession();
        var documents = session.Query<DataProtectionKeyDocument>().ToListAsync().GetAwaiter().GetResult();
        return [.. documents.Select(d => XElement.Parse(d.Xml))];
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        using var session = store.LightweightSession();
        session.Store(new DataProtectionKeyDocument(string.IsNullOrEmpty(friendlyName) ? Guid.NewGuid().ToString("N") : friendlyName,
            element.ToString(SaveOptions.DisableFormatting)));
        session.SaveChangesAsync().GetAwaiter().GetResult();
    }

    /// <summary>Keep the key ring in the service's database, under one application name for all nodes.</summary>
    public static IServiceCollection AddSharedDataProtection(IServiceCollection services)
    {
        services.AddDataProtection().SetApplicationName("EventSourcedCampaigns.Service");
        services.AddSingleton<IConfigureOptions<KeyManagementOptions>>(sp =>
            new ConfigureOptions<KeyManagementOptions>(o => o.XmlRepository = new MartenXmlRepository(sp.GetRequiredService<IDocumentStore>())));
        return services;
    }
}
