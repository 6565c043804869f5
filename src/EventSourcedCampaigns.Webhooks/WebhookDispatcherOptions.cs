using Microsoft.Extensions.Options;

namespace EventSourcedCampaigns.Webhooks;

/// <summary>Settings of <see cref="WebhookDispatcher"/> (configuration section <c>Campaigns:Webhook</c> in the service).</summary>
public sealed class WebhookDispatcherOptions
{
    /// <summary>The gateway's endpoint; each batch is POSTed here.</summary>
    public Uri? Url { get; set; }

    /// <summary>The shared secret of the HMAC-SHA256 signature (<see cref="WebhookSignature"/>). Give it through the
    /// environment or a secret store.</summary>
    public string Secret { get; set; } = "";

    /// <summary>The shortest <see cref="Secret"/> accepted: a guessable one would let anyone sign a batch.</summary>
    public const int MinSecretLength = 16;

    /// <summary>Timeout of one HTTP attempt: 10 ms to 1 hour (the HTTP resilience handler refuses longer totals).</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Quick retries inside one dispatch (network errors, 408, 5xx other than 503). Small on purpose: the send
    /// pipeline retries the batch with its own backoff after that. 0-10.</summary>
    public int Retries { get; set; } = 1;

    /// <summary>
    /// What these settings cannot be used with: one message per unusable setting, naming it as
    /// <paramref name="settingPrefix"/> followed by the property (the service passes its configuration section,
    /// <c>Campaigns:Webhook:</c>); empty when every setting is usable. These are the only rules: a host with
    /// <c>AddWebhookDispatcher</c> applies them when it starts (<see cref="OptionsValidationException"/>), the
    /// <see cref="WebhookDispatcher"/> constructor when it is called directly.
    /// </summary>
    public IReadOnlyList<string> Problems(string settingPrefix = nameof(WebhookDispatcherOptions) + ".")
    {
        List<string> problems = [];
        if (Url is not { IsAbsoluteUri: true } || (Url.Scheme != Uri.UriSchemeHttps && Url.Scheme != Uri.UriSchemeHttp))
            problems.Add($"{settingPrefix}{nameof(Url)} must be an absolute http(s) URL.");
        if (string.IsNullOrWhiteSpace(Secret)) problems.Add($"{settingPrefix}{nameof(Secret)} is required.");
        else if (Secret.Trim().Length < MinSecretLength)
            problems.Add($"{settingPrefix}{nameof(Secret)} must be at least {MinSecretLength} characters: a random value, e.g. from openssl rand -hex 32.");
        // Polly's timeouts are 10 ms to 1 day; the whole request may take AttemptTimeout × (Retries + 1) and the waits between (at most 30 s each).
        if (AttemptTimeout < TimeSpan.FromMilliseconds(10) || AttemptTimeout > TimeSpan.FromHours(1))
            problems.Add($"{settingPrefix}{nameof(AttemptTimeout)} must be 10 ms to 1 hour.");
        if (Retries is < 0 or > 10) problems.Add($"{settingPrefix}{nameof(Retries)} must be 0-10.");
        return problems;
    }

    // For a dispatcher made directly (new WebhookDispatcher(...)), which the host's start did not check.
    internal void Validate()
    {
        if (Problems() is { Count: > 0 } problems) throw new InvalidOperationException(string.Join(" ", problems));
    }
}

/// <summary>Applies <see cref="WebhookDispatcherOptions.Problems"/> to the options a container makes (at the host's
/// start with <c>AddWebhookDispatcher</c>).</summary>
internal sealed class WebhookDispatcherOptionsValidator : IValidateOptions<WebhookDispatcherOptions>
{
    public ValidateOptionsResult Validate(string? name, WebhookDispatcherOptions options) =>
        options.Problems() is { Count: > 0 } problems ? ValidateOptionsResult.Fail(problems) : ValidateOptionsResult.Success;
}
