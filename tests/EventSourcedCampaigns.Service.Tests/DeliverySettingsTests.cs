using Microsoft.Extensions.Configuration;

namespace EventSourcedCampaigns.Service.Tests;

/// <summary>The settings of the provider <c>Campaigns:Provider</c> names are checked at start like every other setting:
/// unusable ones stop the node with exit code 2 and one line naming the configuration key, instead of failing every batch.</summary>
public sealed class the_delivery_settings
{
    /// <summary>The settings of <paramref name="values"/>, loaded; a later value of a key replaces an earlier one.</summary>
    private static ServiceSettings Load(params (string Key, string Value)[] values) =>
        ServiceSettings.Load(new ConfigurationBuilder().AddInMemoryCollection(values.GroupBy(v => v.Key)
                .Select(key => new KeyValuePair<string, string?>(key.Key, key.Last().Value)))
            .Build().GetSection(ServiceSettings.Section));

    private static readonly (string, string)[] Smtp =
        [("Campaigns:Provider", "smtp"), ("Campaigns:Smtp:Host", "smtp.example.com"), ("Campaigns:Smtp:FromAddress", "news@shop.example")];

    private static readonly (string, string)[] Webhook =
        [("Campaigns:Provider", "webhook"), ("Campaigns:Webhook:Url", "https://gateway.example/campaigns"), ("Campaigns:Webhook:Secret", "whsec_0123456789abcdef")];

    public static TheoryData<string, string, string> Unusable => new()
    {
        { "Campaigns:Smtp:Host", "", "Campaigns:Smtp:Host is required." },
        { "Campaigns:Smtp:FromAddress", "news@", "Campaigns:Smtp:FromAddress must be an email address." },
        { "Campaigns:Smtp:Port", "70000", "Campaigns:Smtp:Port must be 1-65535." },
        { "Campaigns:Smtp:Port", "abc", "Campaigns:Smtp:Port" },
        { "Campaigns:Smtp:MaxConnections", "0", "Campaigns:Smtp:MaxConnections" },
        { "Campaigns:Webhook:Secret", "", "Campaigns:Webhook:Secret is required." },
        // Found by an audit: 0.4 ms passed as positive and was 0 ms to MailKit, every recipient failed.
        { "Campaigns:Smtp:Timeout", "00:00:00.0004", "Campaigns:Smtp:Timeout must be 1 ms to 1 hour." },
        { "Campaigns:Smtp:BatchTimeout", "00:00:00.5", "Campaigns:Smtp:BatchTimeout must be 1 s to 1 hour." },
        // Found by an audit: spaces, or one character, signed every batch.
        { "Campaigns:Webhook:Secret", "   ", "Campaigns:Webhook:Secret is required." },
        { "Campaigns:Webhook:Secret", "whsec_short", "Campaigns:Webhook:Secret must be at least 16 characters" },
        { "Campaigns:Webhook:Url", "", "Campaigns:Webhook:Url must be an absolute http(s) URL." },
        { "Campaigns:Webhook:Url", "gateway.example/campaigns", "Campaigns:Webhook:Url" },
        { "Campaigns:Webhook:Retries", "50", "Campaigns:Webhook:Retries must be 0-10." },
        { "Campaigns:Webhook:AttemptTimeout", "-00:00:01", "Campaigns:Webhook:AttemptTimeout" },
    };

    [Theory, MemberData(nameof(Unusable))]
    public void an_unusable_setting_of_the_chosen_provider_is_refused_naming_it(string key, string value, string named)
    {
        var usable = key.StartsWith("Campaigns:Smtp:") ? Smtp : Webhook;

        var refused = Assert.Throws<InvalidSettingsException>(() => Load([.. usable, (key, value)]));

        Assert.Contains(named, refused.Message);
        Assert.DoesNotContain('\n', refused.Message);
    }

    [Fact]
    public void usable_provider_settings_load_and_a_provider_not_chosen_is_not_checked()
    {
        Load(Smtp);
        Load(Webhook);
        Load(("Campaigns:Provider", "SMTP"), ("Campaigns:Smtp:Host", "smtp.example.com"), ("Campaigns:Smtp:FromAddress", "news@shop.example"));
        Load(("Campaigns:Smtp:Port", "abc"), ("Campaigns:Webhook:Retries", "50")); // the local provider (default) uses neither
        Load([.. Smtp, ("Campaigns:Webhook:Secret", "")]);
    }

    [Fact]
    public void every_unusable_setting_is_named_on_one_line()
    {
        var refused = Assert.Throws<InvalidSettingsException>(() => Load(("Campaigns:Provider", "webhook"), ("Campaigns:Webhook:Retries", "50")));

        Assert.Equal("Campaigns:Webhook:Url must be an absolute http(s) URL. Campaigns:Webhook:Secret is required. " +
                     "Campaigns:Webhook:Retries must be 0-10.", refused.Message);
    }

    [Theory]
    [InlineData("smtp")]
    [InlineData("webhook")]
    public async Task the_service_starts_with_usable_provider_settings(string provider)
    {
        var settings = (provider == "smtp" ? Smtp : Webhook).ToDictionary(s => s.Item1, s => s.Item2);
        settings["Campaigns:ApplySchemaOnStartup"] = "true";

        await using var node = await WorkerProcess.StartAsync(IntegrationTests.Infrastructure.TestDatabase.UniqueSchema("dlvset"), settings);

        Assert.False(node.HasExited, node.RecentOutput);
    }

    [Theory]
    [InlineData("smtp", "Campaigns__Smtp__FromAddress", "news@shop.example", "Campaigns:Smtp:Host is required.")]
    [InlineData("webhook", "Campaigns__Webhook__Url", "https://gateway.example/campaigns", "Campaigns:Webhook:Secret is required.")]
    public async Task the_service_stops_at_start_with_exit_code_2_and_one_line(string provider, string key, string value, string named)
    {
        var line = await RefusedStart.RunAsync(["--urls", "http://127.0.0.1:0"], new Dictionary<string, string?>
        {
            ["Campaigns__ConnectionString"] = "Host=127.0.0.1;Port=1;Username=nobody", // never reached
            ["Campaigns__Provider"] = provider, [key] = value,
        });
        Assert.Equal($"The campaigns service cannot start: {named}", line);
    }
}
