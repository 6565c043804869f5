using System.ComponentModel.DataAnnotations;

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
    [Required] public string Host { get; set; } = "";

    /// <summary>The server's port: 25 (relay), 587 (submission with STARTTLS) or 465 (TLS).</summary>
    [Range(1, 65535)] public int Port { get; set; } = 587;

    /// <summary>TLS; <see cref="SmtpSecurity.StartTls"/> unless set.</summary>
    public SmtpSecurity Security { get; set; } = SmtpSecurity.StartTls;

    /// <summary>User name for SMTP AUTH; no authentication when empty.</summary>
    public string? UserName { get; set; }

    /// <summary>Password for SMTP AUTH. Give it through the environment or a secret store, not a file in the repository.</summary>
    public string? Password { get; set; }

    /// <summary>The sender's address (MAIL FROM and From:).</summary>
    [Required] public string FromAddress { get; set; } = "";

    /// <summary>The sender's display name in From:.</summary>
    public string? FromName { get; set; }

    /// <summary>Domain of the generated Message-IDs; the domain of <see cref="FromAddress"/> when empty.</summary>
    public string? MessageIdDomain { get; set; }

    /// <summary>Connections this dispatcher keeps open and uses at once (one batch uses one connection at a time).</summary>
    [Range(1, 1000)] public int MaxConnections { get; set; } = 4;

    /// <summary>One transaction per recipient (default) or one per batch.</summary>
    public SmtpTransactionMode Transaction { get; set; } = SmtpTransactionMode.PerRecipient;

    /// <summary>Timeout of each network operation (connect, each command, the message data).</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Times a batch reconnects after a dropped connection without any recipient accepted in between,
    /// before it gives up with a <c>TransientDispatchException</c> (the pipeline then retries the batch).</summary>
    [Range(0, 100)] public int ReconnectAttempts { get; set; } = 2;

    /// <summary>Send the variant's content as HTML (text/html) instead of plain text.</summary>
    public bool ContentIsHtml { get; set; }

    /// <summary>Name of the client in EHLO; MailKit's default (the machine's name) when empty.</summary>
    public string? LocalDomain { get; set; }

    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(Host)) throw new InvalidOperationException("SmtpDispatcherOptions.Host is required.");
        if (string.IsNullOrWhiteSpace(FromAddress) || !FromAddress.Contains('@'))
            throw new InvalidOperationException("SmtpDispatcherOptions.FromAddress must be an email address.");
        if (Port is < 1 or > 65535) throw new InvalidOperationException("SmtpDispatcherOptions.Port must be 1-65535.");
        if (MaxConnections < 1) throw new InvalidOperationException("SmtpDispatcherOptions.MaxConnections must be at least 1.");
        if (Timeout <= TimeSpan.Zero) throw new InvalidOperationException("SmtpDispatcherOptions.Timeout must be positive.");
        if (ReconnectAttempts < 0) throw new InvalidOperationException("SmtpDispatcherOptions.ReconnectAttempts must not be negative.");
    }
}
