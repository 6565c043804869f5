using Microsoft.Extensions.Configuration;

namespace EventSourcedCampaigns.Service.Tests;

/// <summary>The service's settings as configuration binds them from the given keys (section <c>Campaigns</c>).</summary>
internal static class ConfiguredSettings
{
    public static ServiceSettings Bind(params (string Key, string Value)[] values) =>
        ServiceSettings.Load(new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value)))
            .Build().GetSection(ServiceSettings.Section));
}
