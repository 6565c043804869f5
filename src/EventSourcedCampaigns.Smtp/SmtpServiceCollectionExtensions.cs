using EventSourcedCampaigns.Ports;
using EventSourcedCampaigns.Providers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace EventSourcedCampaigns.Smtp;

/// <summary>Registration of <see cref="SmtpDispatcher"/> as the campaign provider.</summary>
public static class SmtpServiceCollectionExtensions
{
    /// <summary>
    /// Send campaigns through SMTP with the settings of <paramref name="section"/> (<see cref="SmtpDispatcherOptions"/>:
    /// <c>Host</c>, <c>Port</c>, <c>Security</c>, <c>UserName</c>, <c>Password</c>, <c>FromAddress</c>, ...).
    /// Registers <see cref="SmtpDispatcher"/> as the <see cref="IMessageDispatcher"/> (a singleton owning the connection pool).
    /// The settings are checked when the host starts (<see cref="SmtpDispatcherOptions.Problems"/>): unusable ones fail
    /// <c>StartAsync</c> with an <see cref="OptionsValidationException"/> naming them, before any batch is sent.
    /// </summary>
    public static IServiceCollection AddSmtpDispatcher(this IServiceCollection services, IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(section);
        services.AddOptions<SmtpDispatcherOptions>().BindChecked(section).ValidateOnStart();
        return services.AddSmtpDispatcherCore();
    }

    /// <summary>Send campaigns through SMTP with settings given in code, checked when the host starts.</summary>
    public static IServiceCollection AddSmtpDispatcher(this IServiceCollection services, Action<SmtpDispatcherOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<SmtpDispatcherOptions>().Configure(configure).ValidateOnStart();
        return services.AddSmtpDispatcherCore();
    }

    private static IServiceCollection AddSmtpDispatcherCore(this IServiceCollection services)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SmtpDispatcherOptions>, SmtpDispatcherOptionsValidator>());
        services.AddSingleton(sp => new SmtpDispatcher(sp.GetRequiredService<IOptions<SmtpDispatcherOptions>>().Value));
        services.AddSingleton<IMessageDispatcher>(sp => sp.GetRequiredService<SmtpDispatcher>());
        return services;
    }
}
