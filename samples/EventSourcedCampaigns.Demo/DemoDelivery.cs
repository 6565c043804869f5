using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using EventSourcedCampaigns.Ports;
using EventSourcedCampaigns.Smtp;
using MimeKit;

namespace EventSourcedCampaigns.Demo;

/// <summary>
/// The demo's provider: campaigns named with <see cref="UseSmtpFor"/> go through the real <see cref="SmtpDispatcher"/>
/// to the local capturing SMTP server (eng/smtp.sh); the others (the 1,000,000-recipient one is never sent, the
/// mid-send cancel needs a provider fast enough to cancel at 30 % of 200,000 within the minute) use the fake provider.
/// </summary>
public sealed class DemoDispatcher(SmtpDispatcher smtp, IMessageDispatcher fake) : IMessageDispatcher
{
    private readonly ConcurrentDictionary<Guid, bool> _smtp = new();

    public void UseSmtpFor(Guid campaignId) => _smtp[campaignId] = true;

    public ValueTask<DispatchResult> DispatchAsync(DispatchRequest batch, CancellationToken cancellation = default) =>
        _smtp.ContainsKey(batch.CampaignId) ? smtp.DispatchAsync(batch, cancellation) : fake.DispatchAsync(batch, cancellation);
}

/// <summary>One message as the capturing server stored it (eng/smtp/capture_server.py: DIR/messages/NNNNNNNN.json).</summary>
public sealed record CapturedMail(string File, string MailFrom, string[] RcptTos, MimeMessage Message)
{
    public string? IdempotencyKey => Message.Headers[SmtpDispatcher.IdempotencyHeader];

    /// <summary>The recipient id at the end of the idempotency key ({tenant}/{campaign:N}-{batch}/{recipientId}).</summary>
    public string? RecipientId => IdempotencyKey is { } key && key.LastIndexOf('/') is var slash and > 0 ? key[(slash + 1)..] : null;

    /// <summary>The messages in <paramref name="folder"/>/messages whose idempotency key names <paramref name="campaignId"/>, in arrival order.</summary>
    public static IReadOnlyList<CapturedMail> ForCampaign(string folder, string tenant, Guid campaignId)
    {
        var prefix = $"{tenant}/{campaignId:N}-";
        var messages = new List<CapturedMail>();
        foreach (var file in Directory.GetFiles(Path.Combine(folder, "messages"), "*.json").Order(StringComparer.Ordinal))
        {
            using var json = JsonDocument.Parse(System.IO.File.ReadAllBytes(file));
            var root = json.RootElement;
            using var data = new MemoryStream(Encoding.UTF8.GetBytes(root.GetProperty("data").GetString() ?? ""));
            var mail = new CapturedMail(file, root.GetProperty("mail_from").GetString() ?? "",
                [.. root.GetProperty("rcpt_tos").EnumerateArray().Select(r => r.GetString() ?? "")], MimeMessage.Load(data));
            if (mail.IdempotencyKey?.StartsWith(prefix, StringComparison.Ordinal) == true) messages.Add(mail);
        }
        return messages;
    }

    /// <summary>Deletes the messages a previous demo run left (the demo's own folder, like its own schema).</summary>
    public static void Clear(string folder)
    {
        var messages = Path.Combine(folder, "messages");
        if (!Directory.Exists(messages)) return;
        foreach (var file in Directory.EnumerateFiles(messages, "*.json")) System.IO.File.Delete(file);
    }
}

/// <summary>The local capturing SMTP server the demo sends to, and the dispatcher pointed at it.</summary>
public sealed record SmtpTarget(string Folder, int Port, SmtpDispatcher Dispatcher);
