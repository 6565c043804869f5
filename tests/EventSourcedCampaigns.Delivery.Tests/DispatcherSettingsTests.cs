using EventSourcedCampaigns.Smtp;
using EventSourcedCampaigns.Webhooks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EventSourcedCampaigns.Delivery.Tests;

/// <summary>Settings a provider cannot run with stop the host at its start, naming the setting, instead of failing
/// every batch later.</summary>
public sealed class DispatcherSettingsTests
{
    private static readonly Dictionary<string, string?> UsableSmtp = new()
    {
        ["Host"] = "smtp.example.com", ["Port"] = "587", ["FromAddress"] = "news@shop.example",
    };

    private static readonly Dictionary<string, string?> UsableWebhook = new()
    {
        ["Url"] = "https://gateway.example/campaigns", ["Secret"] = "whsec_test_0123456789",
    };

    public static TheoryData<string, string, string> UnusableSmtp => new()
    {
        { "Host", "", "SmtpDispatcherOptions.Host is required." },
        { "Port", "0", "SmtpDispatcherOptions.Port" },
        { "Port", "65536", "SmtpDispatcherOptions.Port" },
        { "Security", "7", "SmtpDispatcherOptions.Security" },
        { "FromAddress", "", "SmtpDispatcherOptions.FromAddress" },
        { "FromAddress", "news@", "SmtpDispatcherOptions.FromAddress" }, // MimeKit refuses it when the dispatcher is made
        { "FromAddress", "news", "SmtpDispatcherOptions.FromAddress" },  // no domain for the Message-IDs
        { "MaxConnections", "0", "SmtpDispatcherOptions.MaxConnections" },
        { "MaxConnections", "1001", "SmtpDispatcherOptions.MaxConnections" },
        { "Transaction", "9", "SmtpDispatcherOptions.Transaction" },
        { "Timeout", "00:00:00", "SmtpDispatcherOptions.Timeout" },
        { "ReconnectAttempts", "-1", "SmtpDispatcherOptions.ReconnectAttempts" },
        { "ReconnectAttempts", "101", "SmtpDispatcherOptions.ReconnectAttempts" },
        { "MessageIdDomain", "bad domain<>", "SmtpDispatcherOptions.MessageIdDomain must be a domain name." },
        { "MessageIdDomain", "10.0.0.1", "SmtpDispatcherOptions.MessageIdDomain must be a domain name." },
        { "LocalDomain", "bad host", "SmtpDispatcherOptions.LocalDomain must be a host name or an IP address." },
        { "ListUnsubscribe", "http://shop.example/unsubscribe/{recipientId}", "SmtpDispatcherOptions.ListUnsubscribe must be an https:// or mailto: address." },
        { "ListUnsubscribe", "unsubscribe@shop.example", "SmtpDispatcherOptions.ListUnsubscribe must be an https:// or mailto: address." },
        // Values the configuration binder cannot convert fail the same way, naming the setting and what it takes.
        { "Security", "Tls1", "SmtpDispatcherOptions.Security is 'Tls1'; use None, StartTlsWhenAvailable, StartTls, Tls." },
        { "Transaction", "Bogus", "SmtpDispatcherOptions.Transaction is 'Bogus'; use " },
        { "Port", "abc", "SmtpDispatcherOptions.Port is 'abc'; use a whole number." },
        { "Timeout", "soon", "SmtpDispatcherOptions.Timeout is 'soon'; use a duration such as 00:00:30." },
    };

    public static TheoryData<string, string, string> UnusableWebhook => new()
    {
        { "Url", "", "WebhookDispatcherOptions.Url" },
        { "Url", "ftp://gateway.example/campaigns", "WebhookDispatcherOptions.Url" },
        { "Secret", "", "WebhookDispatcherOptions.Secret is required." },
        { "Retries", "50", "WebhookDispatcherOptions.Retries must be 0-10." },
        { "Retries", "-1", "WebhookDispatcherOptions.Retries" },
        { "AttemptTimeout", "00:00:00", "WebhookDispatcherOptions.AttemptTimeout" },
        { "AttemptTimeout", "1.00:00:00", "WebhookDispatcherOptions.AttemptTimeout" },
        { "Retries", "many", "WebhookDispatcherOptions.Retries is 'many'; use a whole number." },
        { "AttemptTimeout", "soon", "WebhookDispatcherOptions.AttemptTimeout is 'soon'; use a duration such as 00:00:30." },
    };

    private static IHost Host(Action<IServiceCollection> register)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        register(builder.Services);
        return builder.Build();
    }

    private static IConfiguration Section(Dictionary<string, string?> usable, string key, string value) =>
        new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>(usable) { [key] = value }).Build();

    [Theory, MemberData(nameof(UnusableSmtp))]
    public async Task A_host_with_unusable_smtp_settings_does_not_start(string key, string value, string named)
    {
        using var host = Host(services => services.AddSmtpDispatcher(Section(UsableSmtp, key, value)));

        var refused = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains(named, refused.Message);
    }

    [Theory, MemberData(nameof(UnusableWebhook))]
    public async Task A_host_with_unusable_webhook_settings_does_not_start(string key, string value, string named)
    {
        using var host = Host(services => services.AddWebhookDispatcher(Section(UsableWebhook, key, value)));

        var refused = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains(named, refused.Message);
    }

    [Fact]
    public async Task Settings_given_in_code_are_checked_at_the_start_too_and_every_problem_is_named()
    {
        using var smtp = Host(services => services.AddSmtpDispatcher(o => o.Port = 0));
        var smtpRefused = await Assert.ThrowsAsync<OptionsValidationException>(() => smtp.StartAsync());
        Assert.Equal(["SmtpDispatcherOptions.Host is required.", "SmtpDispatcherOptions.Port must be 1-65535.",
            "SmtpDispatcherOptions.FromAddress must be an email address."], smtpRefused.Failures);

        using var webhook = Host(services => services.AddWebhookDispatcher(o => o.Retries = 50));
        var webhookRefused = await Assert.ThrowsAsync<OptionsValidationException>(() => webhook.StartAsync());
        Assert.Equal(["WebhookDispatcherOptions.Url must be an absolute http(s) URL.", "WebhookDispatcherOptions.Secret is required.",
            "WebhookDispatcherOptions.Retries must be 0-10."], webhookRefused.Failures);
    }

    [Fact]
    public async Task Usable_settings_start_and_make_the_dispatcher()
    {
        using var smtp = Host(services => services.AddSmtpDispatcher(Section(UsableSmtp, "MaxConnections", "1000")));
        await smtp.StartAsync();
        Assert.IsType<SmtpDispatcher>(smtp.Services.GetRequiredService<IMessageDispatcher>());
        await smtp.StopAsync();

        using var webhook = Host(services => services.AddWebhookDispatcher(Section(UsableWebhook, "Retries", "10")));
        await webhook.StartAsync();
        Assert.IsType<WebhookDispatcher>(webhook.Services.GetRequiredService<IMessageDispatcher>());
        await webhook.StopAsync();
    }

    [Theory]
    [InlineData("01:00:00", 10)]
    [InlineData("00:00:00.010", 0)]
    public async Task The_longest_and_shortest_usable_attempt_timeouts_are_accepted_by_the_resilience_handler(string attemptTimeout, int retries)
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        using var webhook = Host(services => services.AddWebhookDispatcher(o =>
        {
            o.Url = receiver.Url; o.Secret = "whsec_test_0123456789"; o.AttemptTimeout = TimeSpan.Parse(attemptTimeout); o.Retries = retries;
        }));
        await webhook.StartAsync();
        var dispatcher = webhook.Services.GetRequiredService<IMessageDispatcher>();

        // The HTTP resilience handler checks its own options when the first request builds it: they must pass as well.
        var batch = new DispatchRequest(Guid.NewGuid(), "acme", 1, Channel.Sms, new Variant("A", "Hi", "-30%", 100),
            [new Recipient("c1", "+447000000001", "Contact 1")]);
        var outcome = await Record.ExceptionAsync(() => dispatcher.DispatchAsync(batch).AsTask());

        Assert.True(outcome is null or TransientDispatchException, $"Expected a delivery or a timeout, got {outcome}");
        await webhook.StopAsync();
    }

    [Fact]
    public void A_dispatcher_made_directly_still_refuses_unusable_settings()
    {
        var smtp = Assert.Throws<InvalidOperationException>(() => new SmtpDispatcher(new SmtpDispatcherOptions { Host = "smtp.example.com", FromAddress = "news@" }));
        Assert.Equal("SmtpDispatcherOptions.FromAddress must be an email address.", smtp.Message);

        using var services = new ServiceCollection().AddHttpClient().BuildServiceProvider();
        var webhook = Assert.Throws<InvalidOperationException>(() => new WebhookDispatcher(services.GetRequiredService<IHttpClientFactory>(),
            Options.Create(new WebhookDispatcherOptions { Url = new Uri("https://gateway.example/"), Secret = "s", Retries = 50 })));
        Assert.Equal("WebhookDispatcherOptions.Secret must be at least 16 characters: a random value, e.g. from openssl rand -hex 32. " +
                     "WebhookDispatcherOptions.Retries must be 0-10.", webhook.Message);
    }
}
