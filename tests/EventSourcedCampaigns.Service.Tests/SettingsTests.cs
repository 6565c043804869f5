using Microsoft.Extensions.Configuration;

namespace EventSourcedCampaigns.Service.Tests;

/// <summary>The settings as configuration binds them: what an operator writes is what the service uses.</summary>
public sealed class the_service_settings
{
    private static ServiceSettings Bind(params (string Key, string Value)[] values) =>
        ServiceSettings.Load(new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value)))
            .Build().GetSection(ServiceSettings.Section));

    public static TheoryData<string, string, string> Unusable => new()
    {
        { "Campaigns:Roles", "foo", "Campaigns:Roles" },
        { "Campaigns:Roles", "", "Campaigns:Roles" },
        { "Campaigns:Roles", "0", "Campaigns:Roles names no role" },
        { "Campaigns:Roles", "8", "Campaigns:Roles is '8'" },
        { "Campaigns:Roles", "-1", "Campaigns:Roles is '-1'" },
        { "Campaigns:DaemonMode", "bogus", "Campaigns:DaemonMode" },
        { "Campaigns:DaemonMode", "7", "Campaigns:DaemonMode is '7'" },
        { "Campaigns:MaxRequestBodyBytes", "-1", "Campaigns:MaxRequestBodyBytes must not be negative" },
        { "Campaigns:MaxReadyLag", "abc", "Campaigns:MaxReadyLag" },
        { "Campaigns:MaxReadyLag", "-1", "Campaigns:MaxReadyLag must not be negative" },
        { "Campaigns:Schema", "", "Campaigns:Schema is ''" },
        { "Campaigns:Schema", "my-campaigns", "Campaigns:Schema is 'my-campaigns'" },
        { "Campaigns:Schema", "1campaigns", "Campaigns:Schema is '1campaigns'" },
        { "Campaigns:LeadershipPollingTime", "00:00:00", "Campaigns:LeadershipPollingTime must be positive" },
        { "Campaigns:DrainTime", "-00:00:01", "Campaigns:DrainTime must not be negative" },
        { "Campaigns:TelemetryExporter", "otlpx", "Campaigns:TelemetryExporter is 'otlpx'" },
        { "Campaigns:Provider", "bogus", "Campaigns:Provider is 'bogus'" },
        { "Campaigns:Sending:BatchesInFlightPerCampaign", "0", "Campaigns:Sending" },
        { "Campaigns:Sending:ClaimTimeout", "-00:00:01", "Campaigns:Sending" },
        { "Campaigns:Sending:MaxWaitBehindCancels", "-00:00:01", "MaxWaitBehindCancels" },
        { "Campaigns:Local:TransientFailureRate", "1.5", "Campaigns:Local:TransientFailureRate must be a share from 0 to 1" },
        { "Campaigns:Local:PermanentFailureRate", "-0.1", "Campaigns:Local:PermanentFailureRate" },
        { "Campaigns:Local:RecipientFailureRate", "NaN", "Campaigns:Local:RecipientFailureRate" },
        { "Campaigns:Local:Latency", "-00:00:01", "Campaigns:Local:Latency must not be negative" },
        { "Campaigns:Local:Contacts", "-5", "Campaigns:Local:Contacts" },
        { "Campaigns:Local:Lists:newsletter", "2", "Campaigns:Local:Lists:newsletter" },
    };

    [Theory, MemberData(nameof(Unusable))]
    public void a_value_the_service_cannot_run_with_is_refused_naming_the_setting(string key, string value, string named)
    {
        var refused = Assert.Throws<InvalidSettingsException>(() => Bind((key, value)));
        Assert.Contains(named, refused.Message);
    }

    [Fact]
    public void the_defaults_are_usable() =>
        Assert.Equal(ServiceRoles.Api | ServiceRoles.Sender | ServiceRoles.Projections, Bind().Roles);

    [Fact]
    public void an_exporter_accepted_in_any_case_or_padding_is_the_one_used() =>
        Assert.Equal("otlp", Bind(("Campaigns:TelemetryExporter", " OTLP ")).TelemetryExporter);

    [Fact]
    public void a_configured_list_of_retry_delays_replaces_the_default_instead_of_adding_to_it()
    {
        var settings = Bind(("Campaigns:Sending:DispatchRetryDelays:0", "00:00:00.100"));

        Assert.Equal([TimeSpan.FromMilliseconds(100)], settings.Sending.DispatchRetryDelays!);
        Assert.Null(Bind().Sending.DispatchRetryDelays); // unset: the pipeline's own default
    }
}
