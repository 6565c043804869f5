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
        var provider = campaigns["Provider"] is { Length: > 0 } name ? name.Trim().ToLowerInvariant() : "local";
        return provider switch
        {
            "local" => services.AddSingleton(local()),
            "smtp" => services.AddSmtpDispatcher(campaigns.GetSection("Smtp")),
            "webhook" => services.AddWebhookDispatcher(campaigns.GetSection("Webhook")),
            _ => throw new InvalidOperationException($"Campaigns:Provider is '{campaigns["Provider"]}'; use local, smtp or webhook."),
        };
    }
}
