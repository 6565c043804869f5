namespace EventSourcedCampaigns.Webhooks;

/// <summary>Settings of <see cref="WebhookDispatcher"/> (configuration section <c>Campaigns:Webhook</c> in the service).</summary>
public sealed class WebhookDispatcherOptions
{
    /// <summary>The gateway's endpoint; each batch is POSTed here.</summary>
    public Uri? Url { get; set; }

    /// <summary>The shared secret of the HMAC-SHA256 signature (<see cref="WebhookSignature"/>). Give it through the
    /// environment or a secret store.</summary>
    public string Secret { get; set; } = "";

    /// <summary>Timeout of one HTTP attempt.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Quick retries inside one dispatch (network errors, 408, 5xx other than 503). Small on purpose: the send
    /// pipeline retries the batch with its own backoff after that.</summary>
    public int Retries { get; set; } = 1;

    internal void Validate()
    {
        if (Url is not { IsAbsoluteUri: true } || (Url.Scheme != Uri.UriSchemeHttps && Url.Scheme != Uri.UriSchemeHttp))
            throw new InvalidOperationException("WebhookDispatcherOptions.Url must be an absolute http(s) URL.");
        if (string.IsNullOrEmpty(Secret)) throw new InvalidOperationException("WebhookDispatcherOptions.Secret is required.");
        if (AttemptTimeout <= TimeSpan.Zero) throw new InvalidOperationException("WebhookDispatcherOptions.AttemptTimeout must be positive.");
        if (Retries is < 0 or > 10) throw new InvalidOperationException("WebhookDispatcherOptions.Retries must be 0-10.");
    }
}
