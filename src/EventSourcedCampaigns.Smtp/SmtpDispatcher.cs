using System.Text.RegularExpressions;
using System.Diagnostics;
using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using EventSourcedCampaigns.Ports;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace EventSourcedCampaigns.Smtp;

/// <summary>
/// Sends email batches through an SMTP server with MailKit. Each batch borrows one connection from a small pool
/// (at most <see cref="SmtpDispatcherOptions.MaxConnections"/>, kept open across batches; MailKit pipelines
/// MAIL FROM / RCPT TO / DATA when the server offers PIPELINING) and, by default, sends one message in one SMTP
/// transaction per recipient, with the recipient in To:.
/// <para>
/// Replies: a 5xx to RCPT TO or DATA refuses that recipient (<see cref="DispatchResult.Refusals"/> carries the server's
/// reply) and the batch goes on; a 4xx to RCPT TO alone (mailbox busy) also refuses only that recipient. A 421, or a 4xx
/// to MAIL FROM or DATA, is about the connection or the whole transaction: <see cref="TransientDispatchException"/>,
/// and the pipeline retries the batch. A 5xx to MAIL FROM or a failed authentication: <see cref="PermanentDispatchException"/>.
/// A dropped connection is reopened and the batch continues with the recipients not accepted yet; after
/// <see cref="SmtpDispatcherOptions.ReconnectAttempts"/> reconnects without progress it throws <see cref="TransientDispatchException"/>.
/// Every exception it throws mid-batch names the recipients already accepted and refused (<see cref="DispatchException.Accepted"/>,
/// <see cref="DispatchException.Refused"/>): the pipeline retries only the others, and records those as delivered.
/// </para>
/// <para>
/// At least once: a retried batch (after a connection lost between the end of DATA and the server's reply, or one sent as
/// one transaction) sends again to recipients the server may already have accepted. Every message carries a Message-ID
/// derived from the batch's idempotency key and the recipient (<see cref="MessageIdFor"/>) and the header
/// <c>X-Campaign-Idempotency-Key: {IdempotencyKey}/{recipientId}</c> (<see cref="DispatchRequest.HeaderSafe"/>), the same on every attempt, so duplicates can be
/// detected downstream.
/// </para>
/// </summary>
public sealed partial class SmtpDispatcher : IMessageDispatcher, IAsyncDisposable, IDisposable
{
    /// <summary>The header naming the batch and recipient of a message, stable across retries.</summary>
    public const string IdempotencyHeader = "X-Campaign-Idempotency-Key";

    /// <summary>The header naming the variant a message was sent with.</summary>
    public const string VariantHeader = "X-Campaign-Variant";

    private readonly SmtpDispatcherOptions _options;
    private readonly SemaphoreSlim _slots;
    private readonly ConcurrentQueue<PooledClient> _idle = new();
    private readonly MailboxAddress _from;
    private readonly string _messageIdDomain;
    private int _disposed;

    /// <summary>A dispatcher with its own connection pool; dispose it to close the connections.</summary>
    public SmtpDispatcher(SmtpDispatcherOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _slots = new SemaphoreSlim(options.MaxConnections, options.MaxConnections);
        _from = new MailboxAddress(options.FromName ?? "", options.FromAddress);
        _messageIdDomain = string.IsNullOrWhiteSpace(options.MessageIdDomain) ? _from.Domain : options.MessageIdDomain;
    }

    /// <summary>Connections currently open and idle in the pool.</summary>
    public int IdleConnections => _idle.Count;

    /// <summary>Connections opened since this dispatcher was created (reconnects included).</summary>
    public int ConnectionsOpened => _connectionsOpened;
    private int _connectionsOpened;

    /// <summary>
    /// The Message-ID (with its angle brackets) of the message for <paramref name="recipientId"/> in the batch with
    /// <paramref name="idempotencyKey"/>: a hash of both, so every attempt of that message has the same id.
    /// For <see cref="SmtpTransactionMode.PerBatch"/> the recipient id is null.
    /// </summary>
    public static string MessageIdFor(string idempotencyKey, string? recipientId, string domain)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(recipientId is null ? idempotencyKey : $"{idempotencyKey}/{recipientId}"));
        return $"<{Convert.ToHexStringLower(hash.AsSpan(0, 16))}@{domain}>";
    }

    /// <inheritdoc />
    public async ValueTask<DispatchResult> DispatchAsync(DispatchRequest batch, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (batch.Channel != Channel.Email)
            throw new PermanentDispatchException($"The SMTP provider sends email only; batch {batch.IdempotencyKey} is for {batch.Channel}.");

        await _slots.WaitAsync(cancellation).ConfigureAwait(false);
        var session = new BatchSession(this, batch, TakeIdle());
        try
        {
            var result = _options.Transaction == SmtpTransactionMode.PerRecipient
                ? await session.PerRecipientAsync(cancellation).ConfigureAwait(false)
                : await session.PerBatchAsync(cancellation).ConfigureAwait(false);
            Return(session.Client);
            session.Client = null;
            return result;
        }
        finally
        {
            // Any other way out (an exception, a cancellation): the connection's state is unknown, close it.
            Discard(session.Client);
            _slots.Release();
        }
    }

    private PooledClient? TakeIdle()
    {
        while (_idle.TryDequeue(out var client))
        {
            if (client.IsConnected) return client;
            client.Dispose();
        }
        return null;
    }

    private void Return(PooledClient? client)
    {
        if (client is null) return;
        if (client.IsConnected && _disposed == 0) _idle.Enqueue(client);
        else client.Dispose();
    }

    private static void Discard(PooledClient? client)
    {
        if (client is null) return;
        try { client.Disconnect(false); }
        catch (Exception e) when (e is IOException or SocketException or ServiceNotConnectedException or SmtpProtocolException or ObjectDisposedException) { }
        client.Dispose();
    }

    private async Task<PooledClient> ConnectAsync(CancellationToken cancellation)
    {
        var client = new PooledClient { Timeout = (int)Math.Min(int.MaxValue, _options.Timeout.TotalMilliseconds) };
        if (!string.IsNullOrWhiteSpace(_options.LocalDomain)) client.LocalDomain = _options.LocalDomain;
        try
        {
            Interlocked.Increment(ref _connectionsOpened);
            await client.ConnectAsync(_options.Host, _options.Port, _options.Security switch
            {
                SmtpSecurity.None => SecureSocketOptions.None,
                SmtpSecurity.StartTlsWhenAvailable => SecureSocketOptions.StartTlsWhenAvailable,
                SmtpSecurity.StartTls => SecureSocketOptions.StartTls,
                _ => SecureSocketOptions.SslOnConnect,
            }, cancellation).ConfigureAwait(false);
            if (!string.IsNullOrEmpty(_options.UserName))
                await client.AuthenticateAsync(_options.UserName, _options.Password ?? "", cancellation).ConfigureAwait(false);
            return client;
        }
        catch
        {
            Discard(client);
            throw;
        }
    }

    private MimeMessage Message(DispatchRequest batch, Recipient? recipient)
    {
        var message = new MimeMessage { Subject = batch.Variant.Subject ?? "" }; // the rules give every email one
        message.From.Add(_from);
        if (recipient is not null) message.To.Add(Mailbox(recipient));
        else message.To.Add(new GroupAddress("undisclosed-recipients"));
        message.MessageId = MessageIdFor(batch.IdempotencyKey, recipient?.Id, _messageIdDomain).Trim('<', '>');
        message.Headers.Add(IdempotencyHeader, DispatchRequest.HeaderSafe(recipient is null ? batch.IdempotencyKey : $"{batch.IdempotencyKey}/{recipient.Id}"));
        message.Headers.Add(VariantHeader, batch.Variant.Key);
        if (!string.IsNullOrWhiteSpace(_options.ListUnsubscribe)
            && (recipient is not null || !_options.ListUnsubscribe.Contains(SmtpDispatcherOptions.RecipientIdPlaceholder, StringComparison.Ordinal)))
        {
            var unsubscribe = _options.UnsubscribeAddress(batch.TenantId, batch.CampaignId, recipient?.Id);
            message.Headers.Add("List-Unsubscribe", $"<{unsubscribe}>");
            if (unsubscribe.StartsWith("https:", StringComparison.OrdinalIgnoreCase)) message.Headers.Add("List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
        }
        message.Body = new TextPart(_options.ContentIsHtml ? "html" : "plain") { Text = batch.Variant.Content };
        return message;
    }

    private static MailboxAddress Mailbox(Recipient recipient) => new(recipient.Name ?? "", recipient.Address);

    /// <summary>The server's reply as it was written: "550 5.1.1 ...", a multi-line reply on one line.</summary>
    private static string Reply(SmtpCommandException e) => OneLine($"{(int)e.StatusCode} {e.Message}");

    private static string OneLine(string text) => string.Join(" / ", text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    /// <summary>A reply of 4xx, as MailKit words a failed AUTH: "421: 4.3.2 ..." or "454 4.7.0 ...".</summary>
    [GeneratedRegex(@"^\s*4\d\d\b")]
    private static partial Regex TemporaryReply();

    private static bool IsTransient(SmtpCommandException e) => (int)e.StatusCode is >= 400 and < 500;

    private static bool IsConnectionFailure(Exception e, CancellationToken cancellation) => e switch
    {
        OperationCanceledException => !cancellation.IsCancellationRequested, // MailKit's own timeout
        IOException or SocketException or TimeoutException or ServiceNotConnectedException or SmtpProtocolException => true,
        _ => false,
    };

    /// <summary>One batch on one (re)connected client.</summary>
    private sealed class BatchSession(SmtpDispatcher owner, DispatchRequest batch, PooledClient? client)
    {
        public PooledClient? Client = client;
        private readonly List<RecipientRefusal> _refusals = [];
        private readonly List<string> _accepted = [];
        private int _delivered;
        private int _failuresWithoutProgress;

        public async Task<DispatchResult> PerRecipientAsync(CancellationToken cancellation)
        {
            var recipients = batch.Recipients;
            var deadline = Stopwatch.GetTimestamp() + (long)(owner._options.BatchTimeout.TotalSeconds * Stopwatch.Frequency);
            for (var i = 0; i < recipients.Count;)
            {
                // A slow relay: what was sent is counted, the rest goes back to the pipeline (which the cancel stops),
                // rather than the call outlasting ClaimTimeout and every recipient recorded failed, of unknown fate.
                if (Stopwatch.GetTimestamp() > deadline)
                    throw new TransientDispatchException(
                        $"Batch {batch.IdempotencyKey} took longer than {owner._options.BatchTimeout} (BatchTimeout): {_delivered} of {recipients.Count} " +
                        $"recipients were accepted, {_refusals.Count} refused, the others not tried.")
                        { Accepted = [.. _accepted], Refused = [.. _refusals] };
                var recipient = recipients[i];
                MimeMessage message;
                try { message = owner.Message(batch, recipient); }
                catch (ParseException e)
                {
                    _refusals.Add(new RecipientRefusal(recipient.Id, $"Invalid address '{recipient.Address}': {e.Message}"));
                    i++;
                    continue;
                }
                if (await SendAsync(message, null, cancellation).ConfigureAwait(false) is { } outcome)
                {
                    if (outcome.Refusal is { } reason) _refusals.Add(new RecipientRefusal(recipient.Id, reason));
                    else
                    {
                        _delivered++;
                        _accepted.Add(recipient.Id);
                    }
                    i++;
                }
            }
            return Result();
        }

        public async Task<DispatchResult> PerBatchAsync(CancellationToken cancellation)
        {
            var valid = new List<Recipient>();
            foreach (var recipient in batch.Recipients)
            {
                try { _ = Mailbox(recipient); valid.Add(recipient); }
                catch (ParseException e) { _refusals.Add(new RecipientRefusal(recipient.Id, $"Invalid address '{recipient.Address}': {e.Message}")); }
            }
            if (valid.Count == 0) return Result();
            var message = owner.Message(batch, null);
            while (true)
            {
                var outcome = await SendAsync(message, valid, cancellation).ConfigureAwait(false);
                if (outcome is null) continue; // reconnected: the transaction was not accepted, send it again
                if (outcome.Refusal is { } reason)
                {
                    foreach (var recipient in valid.Where(r => _refusals.All(f => f.RecipientId != r.Id)))
                        _refusals.Add(new RecipientRefusal(recipient.Id, reason));
                }
                else _delivered = valid.Count(r => _refusals.All(f => f.RecipientId != r.Id));
                return Result();
            }
        }

        private DispatchResult Result() => new(_delivered, _refusals.Count) { Refusals = _refusals };

        private sealed record Outcome(string? Refusal);

        /// <summary>Send one transaction: accepted (null refusal), refused (the reply), or null after a reconnect
        /// (send it again). Throws for a failure of the connection or of the whole batch.</summary>
        private async Task<Outcome?> SendAsync(MimeMessage message, List<Recipient>? envelope, CancellationToken cancellation)
        {
            try
            {
                Client ??= await owner.ConnectAsync(cancellation).ConfigureAwait(false);
                if (envelope is null)
                {
                    Client.Refused = null;
                    await Client.SendAsync(message, cancellation).ConfigureAwait(false);
                }
                else
                {
                    // Refusals of single recipients are collected (PooledClient) instead of failing the transaction.
                    var refused = new List<(MailboxAddress, SmtpResponse)>();
                    Client.Refused = refused;
                    try
                    {
                        await Client.SendAsync(message, owner._from, envelope.Select(Mailbox), cancellation).ConfigureAwait(false);
                    }
                    catch (SmtpCommandException e) when (e.ErrorCode != SmtpErrorCode.SenderNotAccepted && refused.Count == envelope.Count)
                    {
                        // MailKit ends a transaction in which no recipient was accepted with an error of its own. Not so
                        // for a refused MAIL FROM: pipelined, every RCPT TO then got a 503 about the missing transaction,
                        // which refuses nobody; the reply to MAIL FROM decides (421 or 4xx transient, 5xx permanent).
                    }
                    finally { Client.Refused = null; }
                    var replies = refused.Select(r => (Recipient: envelope.First(e => string.Equals(e.Address, r.Item1.Address, StringComparison.OrdinalIgnoreCase)
                                                                                    || Mailbox(e).Address == r.Item1.Address), Response: r.Item2)).ToList();
                    // A 421 to a RCPT TO is the server going away, not a refusal of that recipient: as for 421 anywhere, the
                    // batch is worth another try for the recipients the message did not go to.
                    var unavailable = replies.Where(r => r.Response.StatusCode == SmtpStatusCode.ServiceNotAvailable).Select(r => r.Recipient.Id).ToHashSet();
                    foreach (var (recipient, response) in replies.Where(r => !unavailable.Contains(r.Recipient.Id)))
                        _refusals.Add(new RecipientRefusal(recipient.Id, $"{(int)response.StatusCode} {response.Response}".Trim()));
                    if (unavailable.Count > 0)
                    {
                        _accepted.AddRange(envelope.Where(r => replies.All(x => x.Recipient.Id != r.Id)).Select(r => r.Id));
                        var reply = replies.First(r => unavailable.Contains(r.Recipient.Id)).Response;
                        throw new TransientDispatchException(
                            $"The SMTP server answered {(int)reply.StatusCode} {reply.Response} to {unavailable.Count} recipients of batch {batch.IdempotencyKey}; " +
                            $"{_accepted.Count} of {batch.Recipients.Count} were accepted.")
                            { Accepted = [.. _accepted], Refused = [.. _refusals] };
                    }
                }
                _failuresWithoutProgress = 0;
                return new Outcome(null);
            }
            catch (SmtpCommandException e) when (e.StatusCode == SmtpStatusCode.ServiceNotAvailable
                                                 || (IsTransient(e) && e.ErrorCode != SmtpErrorCode.RecipientNotAccepted))
            {
                // 421 anywhere, or a 4xx to MAIL FROM / DATA: the whole batch is worth another try later.
                throw new TransientDispatchException(
                    $"The SMTP server answered {Reply(e)} for batch {batch.IdempotencyKey} after {_delivered} of {batch.Recipients.Count} recipients were accepted.", e)
                    { Accepted = [.. _accepted], Refused = [.. _refusals] };
            }
            catch (SmtpCommandException e) when (e.ErrorCode is SmtpErrorCode.RecipientNotAccepted or SmtpErrorCode.MessageNotAccepted)
            {
                _failuresWithoutProgress = 0;
                return new Outcome(Reply(e)); // this recipient (or this message) is refused; the connection stays usable
            }
            catch (SmtpCommandException e)
            {
                // A 5xx to MAIL FROM, or anything else unexpected at 5xx (the greeting, EHLO): the server refuses this sender.
                throw new PermanentDispatchException(e.ErrorCode == SmtpErrorCode.SenderNotAccepted
                    ? $"The SMTP server refused the sender {owner._from.Address}: {Reply(e)}."
                    : $"The SMTP server {owner._options.Host}:{owner._options.Port} refused to take mail from {owner._from.Address}: {Reply(e)}.", e)
                    { Accepted = [.. _accepted], Refused = [.. _refusals] };
            }
            catch (AuthenticationException e) when (TemporaryReply().IsMatch(e.Message))
            {
                // 421 or 454 (RFC 4954, "temporary authentication failure"): the server, not the credentials.
                throw new TransientDispatchException($"SMTP authentication as '{owner._options.UserName}' failed for now: {OneLine(e.Message)}", e)
                    { Accepted = [.. _accepted], Refused = [.. _refusals] };
            }
            catch (AuthenticationException e)
            {
                throw new PermanentDispatchException($"SMTP authentication as '{owner._options.UserName}' failed: {OneLine(e.Message)}", e)
                    { Accepted = [.. _accepted], Refused = [.. _refusals] };
            }
            catch (SslHandshakeException e)
            {
                // A certificate not trusted, or no TLS after STARTTLS: a setting to fix, which no retry changes.
                throw new PermanentDispatchException(
                    $"TLS with the SMTP server {owner._options.Host}:{owner._options.Port} failed: {OneLine(e.Message.Split("\n")[0])}", e)
                    { Accepted = [.. _accepted], Refused = [.. _refusals] };
            }
            catch (NotSupportedException e)
            {
                // The server lacks what the settings require (STARTTLS, AUTH): no retry changes that, every batch would fail.
                throw new PermanentDispatchException(
                    $"The SMTP server {owner._options.Host}:{owner._options.Port} cannot be used with these settings: {e.Message}", e)
                    { Accepted = [.. _accepted], Refused = [.. _refusals] };
            }
            catch (Exception e) when (IsConnectionFailure(e, cancellation))
            {
                Discard(Client);
                Client = null;
                if (++_failuresWithoutProgress > owner._options.ReconnectAttempts)
                    throw new TransientDispatchException(
                        $"The connection to the SMTP server {owner._options.Host}:{owner._options.Port} failed {_failuresWithoutProgress} times in a row " +
                        $"({e.GetType().Name}: {e.Message}) after {_delivered} of {batch.Recipients.Count} recipients of batch {batch.IdempotencyKey} were accepted.", e)
                        { Accepted = [.. _accepted], Refused = [.. _refusals] };
                return null;
            }
        }
    }

    /// <summary>An SMTP client that can collect refused recipients instead of failing the transaction.</summary>
    private sealed class PooledClient : SmtpClient
    {
        public List<(MailboxAddress, SmtpResponse)>? Refused { get; set; }

        protected override void OnRecipientNotAccepted(MimeMessage message, MailboxAddress mailbox, SmtpResponse response)
        {
            if (Refused is null) base.OnRecipientNotAccepted(message, mailbox, response);
            else Refused.Add((mailbox, response));
        }
    }

    /// <summary>Closes the idle connections (QUIT).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        while (_idle.TryDequeue(out var client))
        {
            try { await client.DisconnectAsync(true).ConfigureAwait(false); }
            catch (Exception e) when (e is IOException or SocketException or ServiceNotConnectedException or SmtpProtocolException or SmtpCommandException) { }
            client.Dispose();
        }
    }

    /// <summary>Closes the idle connections without QUIT.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        while (_idle.TryDequeue(out var client)) Discard(client);
    }
}
