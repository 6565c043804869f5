using System.Net;
using EventSourcedCampaigns.Ports;
using EventSourcedCampaigns.Providers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Timeout;

namespace EventSourcedCampaigns.Webhooks;

/// <summary>Registration of <see cref="WebhookDispatcher"/> as the campaign provider.</summary>
public static class WebhookServiceCollectionExtensions
{
    /// <summary>POST campaign batches to a gateway with the settings of <paramref name="section"/>
    /// (<see cref="WebhookDispatcherOptions"/>: <c>Url</c>, <c>Secret</c>, <c>AttemptTimeout</c>, <c>Retries</c>). The settings
    /// are checked when the host starts (<see cref="WebhookDispatcherOptions.Problems"/>): unusable ones fail
    /// <c>StartAsync</c> with an <see cref="OptionsValidationException"/> naming them, before any batch is sent.</summary>
    public static IServiceCollection AddWebhookDispatcher(this IServiceCollection services, IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(section);
        services.AddOptions<WebhookDispatcherOptions>().BindChecked(section).ValidateOnStart();
        return services.AddWebhookDispatcherCore();
    }

    /// <summary>POST campaign batches to a gateway with settings given in code, checked when the host starts.</summary>
    public static IServiceCollection AddWebhookDispatcher(this IServiceCollection services, Action<WebhookDispatcherOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<WebhookDispatcherOptions>().Configure(configure).ValidateOnStart();
        return services.AddWebhookDispatcherCore();
    }

    private static IServiceCollection AddWebhookDispatcherCore(this IServiceCollection services)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<WebhookDispatcherOptions>, WebhookDispatcherOptionsValidator>());
        services.AddHttpClient(WebhookDispatcher.HttpClientName)
            // A redirect is not the gateway's answer: followed, a 301 or 302 became a GET without the batch whose 200
            // counted everyone delivered, and a 307 sent the signed batch to another host. It is a refusal, naming where.
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false })
            .AddStandardResilienceHandler()
            .Configure((HttpStandardResilienceOptions o, IServiceProvider sp) =>
            {
                WebhookDispatcherOptions options;
                try
                {
                    options = sp.GetRequiredService<IOptions<WebhookDispatcherOptions>>().Value;
                }
                catch (OptionsValidationException)
                {
                    return; // unusable settings fail the host's start once, naming them, not again from here
                }
                // A few quick attempts, then the pipeline's own backoff takes over: never retry for long here.
                o.AttemptTimeout.Timeout = options.AttemptTimeout;
                o.Retry.MaxRetryAttempts = Math.Max(1, options.Retries);
                o.Retry.Delay = TimeSpan.FromMilliseconds(200);
                o.Retry.MaxDelay = WebhookDispatcher.MaxRetryDelay;
                o.Retry.ShouldRetryAfterHeader = false;
                o.Retry.ShouldHandle = args => ValueTask.FromResult(options.Retries > 0 && args.Outcome switch
                {
                    // Not a timeout: the gateway may have taken the batch, and a quick retry is not stopped by a cancel
                    // (the pipeline's retry is; it hands the batch over again only while the campaign still sends).
                    { Exception: HttpRequestException } => true,
                    // 429 and 503 go back to the pipeline at once, with their Retry-After.
                    { Result: { } r } => r.StatusCode is HttpStatusCode.RequestTimeout
                                         || ((int)r.StatusCode >= 500 && r.StatusCode != HttpStatusCode.ServiceUnavailable),
                    _ => false,
                });
                // Every attempt and every wait between them: a bound that left out the waits cut the last retries short.
                o.TotalRequestTimeout.Timeout = options.AttemptTimeout * (options.Retries + 1) + WebhookDispatcher.MaxRetryDelay * options.Retries
                                                + TimeSpan.FromSeconds(5);
                o.CircuitBreaker.SamplingDuration = TimeSpan.FromTicks(Math.Max(TimeSpan.FromSeconds(30).Ticks, options.AttemptTimeout.Ticks * 2));
                o.CircuitBreaker.BreakDuration = WebhookDispatcher.CircuitBreakDuration; // what a rested batch waits
            });
        services.AddSingleton(sp => new WebhookDispatcher(sp.GetRequiredService<IHttpClientFactory>(),
            sp.GetRequiredService<IOptions<WebhookDispatcherOptions>>(), sp.GetService<TimeProvider>()));
        services.AddSingleton<IMessageDispatcher>(sp => sp.GetRequiredService<WebhookDispatcher>());
        return services;
    }
}
