namespace EventSourcedCampaigns.Ports;

/// <summary>
/// One claimed batch, ready for the channel provider. <see cref="IdempotencyKey"/> is the same every time this
/// batch is handed over (at-least-once delivery may hand it over twice after a crash); providers that support
/// idempotency keys should pass it on.
/// </summary>
public sealed record DispatchRequest(
    Guid CampaignId, string? TenantId, int BatchNumber, Channel Channel, Variant Variant, IReadOnlyList<Recipient> Recipients)
{
    /// <summary>Stable per tenant, campaign and batch (two tenants may use the same campaign id).</summary>
    public string IdempotencyKey => $"{TenantId}/{CampaignId:N}-{BatchNumber}";

    /// <summary>
    /// <paramref name="text"/> (an idempotency key) as an HTTP or mail header can carry it: header values are ASCII, so
    /// every byte of its UTF-8 outside printable ASCII (<c>!</c> to <c>~</c>), and <c>%</c> itself, is percent-encoded
    /// as in RFC 3986. A key of printable ASCII is unchanged; <see cref="Uri.UnescapeDataString(string)"/> gives the key back.
    /// </summary>
    public static string HeaderSafe(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.All(c => c is > ' ' and <= '~' and not '%')) return text;
        var safe = new System.Text.StringBuilder(text.Length * 3);
        foreach (var b in System.Text.Encoding.UTF8.GetBytes(text))
            if (b is > (byte)' ' and <= (byte)'~' and not (byte)'%') safe.Append((char)b);
            else safe.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
        return safe.ToString();
    }
}

/// <summary>
/// What the provider did with a batch: messages accepted and messages it refused (bad address, opted out...).
/// <see cref="Refusals"/> names the refused recipients when the provider says which (their count is <see cref="Failed"/>);
/// the other recipients of the batch were accepted. <see cref="Delivered"/> and <see cref="Failed"/> are 0 or more and add
/// up to the batch's recipients; counts that do not are recorded as a failure of the whole batch with them in its error
/// (the provider took the batch, so it is never handed over again).
/// </summary>
public sealed record DispatchResult(int Delivered, int Failed)
{
    /// <summary>The recipients the provider refused, with its reason; empty when it reports counts only.</summary>
    public IReadOnlyList<RecipientRefusal> Refusals { get; init; } = [];
}

/// <summary>One recipient the provider refused, and the provider's reason (for example an SMTP 550 reply).</summary>
public sealed record RecipientRefusal(string RecipientId, string Reason);

/// <summary>
/// Port: the channel provider (an email service, an SMS gateway, a push service). Called only for a batch whose
/// claim is committed and whose campaign was not cancelled. Throw <see cref="PermanentDispatchException"/> for a
/// refusal of the whole batch; any other exception (<see cref="TransientDispatchException"/>, a timeout, an
/// <c>HttpRequestException</c>...) is retried with backoff and then recorded as a failed batch with its message. A call
/// must answer within the sending options' <c>ClaimTimeout</c> (give the adapter's own timeout well below it): one that has
/// not is taken for hung, and its batch is recorded as failed, of unknown fate, whatever it answers later.
/// </summary>
public interface IMessageDispatcher
{
    /// <summary>Hand one batch to the provider.</summary>
    ValueTask<DispatchResult> DispatchAsync(DispatchRequest batch, CancellationToken cancellation = default);
}

/// <summary>The provider failed to take a batch.</summary>
public abstract class DispatchException(string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>Whether trying again later may succeed.</summary>
    public abstract bool IsTransient { get; }

    /// <summary>
    /// The recipients (ids) the provider took before the failure, when the adapter knows them (an SMTP connection that
    /// dropped after some messages): the pipeline hands only the others over on the next attempt, and records these as
    /// delivered whatever becomes of the rest. Empty (or null): none, or unknown.
    /// </summary>
    public IReadOnlyList<string> Accepted { get; init; } = [];

    /// <summary>The recipients the provider refused before the failure, as <see cref="DispatchResult.Refusals"/>: not handed over again.</summary>
    public IReadOnlyList<RecipientRefusal> Refused { get; init; } = [];
}

/// <summary>
/// A failure worth retrying: timeout, throttling, provider outage. <paramref name="retryAfter"/>: the provider's own
/// "slow down, try again after this long" (an HTTP 429 or 503 <c>Retry-After</c>); the pipeline waits that long before
/// the next attempt and does not count it against the retries meant for errors. Zero or less asks for nothing: the
/// failure is retried as one without it is.
/// </summary>
public sealed class TransientDispatchException(string message, Exception? inner = null, TimeSpan? retryAfter = null) : DispatchException(message, inner)
{
    /// <inheritdoc />
    public override bool IsTransient => true;

    /// <summary>How long the provider asked to wait before the next attempt; null when it did not say.</summary>
    public TimeSpan? RetryAfter { get; init; } = retryAfter;
}

/// <summary>The provider refused the whole batch for good (for example a rejected sender or template).</summary>
public sealed class PermanentDispatchException(string message, Exception? inner = null) : DispatchException(message, inner)
{
    /// <inheritdoc />
    public override bool IsTransient => false;
}
