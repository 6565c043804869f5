using Microsoft.Extensions.Configuration;

namespace EventSourcedCampaigns.Service.Tests;

/// <summary>The settings as configuration binds them: what an operator writes is what the service uses.</summary>
public sealed class the_service_settings
{
    private static ServiceSettings Bind(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build()
            .GetSection(ServiceSettings.Section).Get<ServiceSettings>() ?? new ServiceSettings();

    [Fact]
    public void a_configured_list_of_retry_delays_replaces_the_default_instead_of_adding_to_it()
    {
        var settings = Bind(("Campaigns:Sending:DispatchRetryDelays:0", "00:00:00.100"));

        Assert.Equal([TimeSpan.FromMilliseconds(100)], settings.Sending.DispatchRetryDelays!);
        Assert.Null(Bind().Sending.DispatchRetryDelays); // unset: the pipeline's own default
    }
}
