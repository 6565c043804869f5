using Microsoft.Extensions.Options;
using MimeKit;

namespace EventSourcedCampaigns.Smtp;

/// <summary>How the connection to the SMTP server is secured.</summary>
public enum SmtpSecurity
{
    /// <summary>Plain text; only for a server on the same host or a trusted network.</summary>
    None,
    /// <summary>STARTTLS when the server offers it, plain text otherwise.</summary>
    StartTlsWhenAvailable,
    /// <summary>STARTTLS, required (submission port 587).</summary>
    StartTls,
    /// <summary>TLS from the first byte (port 465).</summary>
    Tls,
}

/// <summary>How a batch becomes SMTP transactions.</summary>
public enum SmtpTransactionMode
{
    /// <summary>One message and one transaction per recipient: a personalised To:, a refusal names one recipient.</summary>
    PerRecipient,
    /// <summary>One message per batch, every recipient in the envelope (To: undisclosed-recipients): fewer bytes,
    /// no personalisation; refusals still come per recipient from the RCPT TO replies.</summary>
    PerBatch,
}

/// <summary>Settings of <see cref="SmtpDispatcher"/> (configuration section <c>Campaigns:Smtp</c> in the service).</summary>
public sealed class SmtpDispatcherOptions
{
    /// <summary>The SMTP server's host name.</summary>
    public string Host { get; set; } = "";

    /// <summary>The server's port: 25 (relay), 587 (submission with STARTTLS) or 465 (TLS).</summary>
    public int Port { get; set; } = 587;

    /// <summary>TLS; <see cref="SmtpSecurity.StartTls"/> unless set.</summary>
    public SmtpSecurity Security { get; set; } = SmtpSecurity.StartTls;

    /// <summary>User name for SMTP AUTH; no authentication when empty.</summary>
    public string? UserName { get; set; }

    /// <summary>Password for SMTP AUTH. Give it through the environment or a secret store, not a file in the repository.</summary>
    public string? Password { get; set; }

    /// <summary>The sender's address (MAIL FROM and From:).</summary>
    public string FromAddress { get; set; } = "";

    /// <summary>The sender's display name in From:.</summary>
    public string? FromName { get; set; }

    /// <summary>Domain of the generated Message-IDs; the domain of <see cref="FromAddress"/> when empty.</summary>
    public string? MessageIdDomain { get; set; }

    /// <summary>Connections this dispatcher keeps open and uses at once (one batch uses one connection at a time).</summary>
    public int MaxConnections { get; set; } = 4;

    /// <summary>One transaction per recipient (default) or one per batch.</summary>
    public SmtpTransactionMode Transaction { get; set; } = SmtpTransactionMode.PerRecipient;

    /// <summary>Timeout of each network operation (connect, each command, the message data).</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long one batch may take, one message per recipient (<see cref="SmtpTransactionMode.PerRecipient"/>): past it,
    /// the recipients not yet sent go back to the pipeline (a <see cref="EventSourcedCampaigns.Ports.TransientDispatchException"/> naming those
    /// sent), which retries them while the campaign still sends. Keep it well under the pipeline's
    /// <c>ClaimTimeout</c> (5 minutes by default), past which a batch without an answer is recorded failed, of unknown fate.
    /// </summary>
    public TimeSpan BatchTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Times a batch reconnects after a dropped connection without any recipient accepted in between,
    /// before it gives up with a <c>TransientDispatchException</c> (the pipeline then retries the batch).</summary>
    public int ReconnectAttempts { get; set; } = 2;

    /// <summary>Send the variant's content as HTML (text/html) instead of plain text.</summary>
    public bool ContentIsHtml { get; set; }

    /// <summary>Name of the client in EHLO; MailKit's default (the machine's name) when empty.</summary>
    public string? LocalDomain { get; set; }

    /// <summary>
    /// Where a recipient unsubscribes, sent as <c>List-Unsubscribe</c> (RFC 2369): an <c>https://</c> or <c>mailto:</c>
    /// address in which <c>{recipientId}</c>, <c>{campaignId}</c> and <c>{tenant}</c> are replaced by the message's own
    /// (escaped for a URI). An <c>https://</c> address also gets <c>List-Unsubscribe-Post: List-Unsubscribe=One-Click</c>
    /// (RFC 8058), which large mailbox providers ask of bulk senders. None when empty. A batch sent as one message
    /// (<see cref="SmtpTransactionMode.PerBatch"/>) has no single recipient: it carries the header only when the address
    /// does not name one.
    /// </summary>
    public string? ListUnsubscribe { get; set; }

    /// <summary>The placeholders <see cref="ListUnsubscribe"/> may hold.</summary>
    public const string RecipientIdPlaceholder = "{recipientId}", CampaignIdPlaceholder = "{campaignId}", TenantPlaceholder = "{tenant}";

    /// <summary><see cref="ListUnsubscribe"/> for one message (its values escaped for a URI).</summary>
    internal string UnsubscribeAddress(string? tenant, Guid campaignId, string? recipientId) => ListUnsubscribe!
        .Replace(RecipientIdPlaceholder, Uri.EscapeDataString(recipientId ?? ""), StringComparison.Ordinal)
        .Replace(CampaignIdPlaceholder, campaignId.ToString("N"), StringComparison.Ordinal)
        .Replace(TenantPlaceholder, Uri.EscapeDataString(tenant ?? ""), StringComparison.Ordinal);

    /// <summary>
    /// What these settings cannot be used with: one message per unusable setting, naming it as
    /// <paramref name="settingPrefix"/> followed by the property (the service passes its configuration section,
    /// <c>Campaigns:Smtp:</c>); empty when every setting is usable. These are the only rules: a host with
    /// <c>AddSmtpDispatcher</c> applies them when it starts (<see cref="OptionsValidationException"/>), the
    /// <see cref="SmtpDispatcher"/> constructor when it is called directly.
    /// </summary>
    public IReadOnlyList<string> Problems(string settingPrefix = nameof(SmtpDispatcherOptions) + ".")
    {
        List<string> problems = [];
        if (string.IsNullOrWhiteSpace(Host)) problems.Add($"{settingPrefix}{nameof(Host)} is required.");
        if (Port is < 1 or > 65535) problems.Add($"{settingPrefix}{nameof(Port)} must be 1-65535.");
        if (!Enum.IsDefined(Security))
            problems.Add($"{settingPrefix}{nameof(Security)} is {Security}; use {string.Join(", ", Enum.GetNames<SmtpSecurity>())}.");
        if (!IsEmailAddress(FromAddress)) problems.Add($"{settingPrefix}{nameof(FromAddress)} must be an email address.");
        if (MaxConnections is < 1 or > 1000) problems.Add($"{settingPrefix}{nameof(MaxConnections)} must be 1-1000.");
        if (!Enum.IsDefined(Transaction))
            problems.Add($"{settingPrefix}{nameof(Transaction)} is {Transaction}; use {string.Join(", ", Enum.GetNames<SmtpTransactionMode>())}.");
        // MailKit counts whole milliseconds: less is no time at all.
        if (Timeout < TimeSpan.FromMilliseconds(1) || Timeout > TimeSpan.FromHours(1)) problems.Add($"{settingPrefix}{nameof(Timeout)} must be 1 ms to 1 hour.");
        if (BatchTimeout < TimeSpan.FromSeconds(1) || BatchTimeout > TimeSpan.FromHours(1)) problems.Add($"{settingPrefix}{nameof(BatchTimeout)} must be 1 s to 1 hour.");
        if (ReconnectAttempts is < 0 or > 100) problems.Add($"{settingPrefix}{nameof(ReconnectAttempts)} must be 0-100.");
        // Both go on the wire as they are: a Message-ID that is not the documented one, or an EHLO a strict relay refuses.
        if (!string.IsNullOrWhiteSpace(MessageIdDomain) && Uri.CheckHostName(MessageIdDomain) is not UriHostNameType.Dns)
            problems.Add($"{settingPrefix}{nameof(MessageIdDomain)} must be a domain name.");
        if (!string.IsNullOrWhiteSpace(LocalDomain) && Uri.CheckHostName(LocalDomain) is UriHostNameType.Unknown or UriHostNameType.Basic)
            problems.Add($"{settingPrefix}{nameof(LocalDomain)} must be a host name or an IP address.");
        if (!string.IsNullOrWhiteSpace(ListUnsubscribe)
            && !(Uri.TryCreate(UnsubscribeAddress("t", Guid.Empty, "r"), UriKind.Absolute, out var unsubscribe) && unsubscribe.Scheme is "https" or "mailto"))
            problems.Add($"{settingPrefix}{nameof(ListUnsubscribe)} must be an https:// or mailto: address.");
        return problems;
    }

    // For a dispatcher made directly (new SmtpDispatcher(options)), which the host's start did not check.
    internal void Validate()
    {
        if (Problems() is { Count: > 0 } problems) throw new InvalidOperationException(string.Join(" ", problems));
    }

    // As the dispatcher reads it (MAIL FROM and From:), with a domain for the Message-IDs.
    private static bool IsEmailAddress(string? address)
    {
        if (string.IsNullOrWhiteSpace(address)) return false;
        try
        {
            return new MailboxAddress("", address).Domain.Length > 0;
        }
        catch (ParseException)
        {
            return false;
        }
    }
}

/// <summary>Applies <see cref="SmtpDispatcherOptions.Problems"/> to the options a container makes (at the host's start
/// with <c>AddSmtpDispatcher</c>).</summary>
internal sealed class SmtpDispatcherOptionsValidator : IValidateOptions<SmtpDispatcherOptions>
{
    public ValidateOptionsResult Validate(string? name, SmtpDispatcherOptions options) =>
        options.Problems() is { Count: > 0 } problems ? ValidateOptionsResult.Fail(problems) : ValidateOptionsResult.Success;
}
