using EventSourcedCampaigns.Ports;
using EventSourcedCampaigns.Smtp;
using EventSourcedCampaigns.Webhooks;

namespace EventSourcedCampaigns.Service.Delivery;

/// <summary>
/// The provider the service sends through, chosen with <c>Campaigns:Provider</c>: <c>local</c> (the embedded default,
/// nothing leaves the machine), <c>smtp</c> (settings in <c>Campaigns:Smtp</c>) or <c>webhook</c> (<c>Campaigns:Webhook</c>).
/// See docs/delivery.md.
/// </summary>
internal static class DeliveryProvider
{
    /// <summary>Registers the <see cref="IMessageDispatcher"/> that <c>Provider</c> in <paramref name="campaigns"/> names;
    /// <paramref name="local"/> makes the embedded one. An unknown name fails the start with the names allowed.</summary>
    public static IServiceCollection AddCampaignDelivery(this IServiceCollection services, IConfiguration campaigns, Func<IMessageDispatcher> local)
    {
        return ProviderName(campaigns) switch
        {
            "local" => services.AddSingleton(local()),
            "smtp" => services.AddSmtpDispatcher(campaigns.GetSection("Smtp")),
            "webhook" => services.AddWebhookDispatcher(campaigns.GetSection("Webhook")),
            _ => throw new InvalidOperationException($"Campaigns:Provider is '{campaigns["Provider"]}'; use local, smtp or webhook."),
        };
    }

    /// <summary>
    /// What the settings of the provider that <c>Provider</c> in <paramref name="campaigns"/> names cannot be used with,
    /// each naming its configuration key (<c>Campaigns:Smtp:Host is required.</c>): the providers' own rules
    /// (<see cref="SmtpDispatcherOptions.Problems"/>, <see cref="WebhookDispatcherOptions.Problems"/>), applied to the
    /// section as configuration binds it. Empty for the local provider and for usable settings.
    /// </summary>
    /// <exception cref="InvalidOperationException">A setting does not convert to its type (the binder's message names it).</exception>
    public static IReadOnlyList<string> SettingsProblems(IConfigurationSection campaigns) => ProviderName(campaigns) switch
    {
        "smtp" => (campaigns.GetSection("Smtp").Get<SmtpDispatcherOptions>() ?? new()).Problems($"{campaigns.Path}:Smtp:"),
        "webhook" => (campaigns.GetSection("Webhook").Get<WebhookDispatcherOptions>() ?? new()).Problems($"{campaigns.Path}:Webhook:"),
        _ => [],
    };

    private static string ProviderName(IConfiguration campaigns) =>
        campaigns["Provider"] is { Length: > 0 } name ? name.Trim().ToLowerInvariant() : "local";
}
