using EventSourcedCampaigns.Smtp;

namespace EventSourcedCampaigns.Delivery.Tests;

/// <summary>The SMTP provider against a real SMTP server (eng/smtp.sh), with faults injected by the server.</summary>
public sealed class SmtpDispatcherTests : IAsyncLifetime
{
    private static readonly Variant VariantA = new("A", "Winter sale", "Everything -30% until Sunday.", 50);
    private SmtpServer _server = null!;
    private SmtpDispatcher _dispatcher = null!;

    public async Task InitializeAsync()
    {
        _server = await SmtpServer.StartAsync();
        _dispatcher = Dispatcher();
    }

    public async Task DisposeAsync()
    {
        await _dispatcher.DisposeAsync();
        await _server.DisposeAsync();
    }

    private SmtpDispatcher Dispatcher(Action<SmtpDispatcherOptions>? configure = null)
    {
        var options = new SmtpDispatcherOptions
        {
            Host = "127.0.0.1", Port = _server.Port, Security = SmtpSecurity.None, FromAddress = "news@shop.example", FromName = "Shop",
            MaxConnections = 2, Timeout = TimeSpan.FromSeconds(20),
        };
        configure?.Invoke(options);
        return new SmtpDispatcher(options);
    }

    private static DispatchRequest Batch(int recipients, int batchNumber = 1, Variant? variant = null, string prefix = "r") =>
        new(Guid.Parse("7d0c6a4e-8c55-4f0e-9b9f-4a3c2f1e0d11"), "acme", batchNumber, Channel.Email, variant ?? VariantA,
            Enumerable.Range(1, recipients).Select(i => new Recipient($"{prefix}{i}", $"{prefix}{i}@example.test", $"Contact {i}")).ToArray());

    private static string KeyOf(DispatchRequest batch, Recipient r) => $"{batch.IdempotencyKey}/{r.Id}";

    [Fact]
    public async Task Each_recipient_gets_one_personalised_message_with_the_variant_a_stable_message_id_and_the_idempotency_header()
    {
        var batch = Batch(20);

        var result = await _dispatcher.DispatchAsync(batch);

        Assert.Equal((20, 0), (result.Delivered, result.Failed));
        var messages = _server.Messages();
        Assert.Equal(20, messages.Count);
        foreach (var recipient in batch.Recipients)
        {
            var mine = messages.Where(m => m.IdempotencyKey == KeyOf(batch, recipient)).ToList();
            var message = Assert.Single(mine);
            Assert.Equal([recipient.Address], message.RcptTos);
            Assert.Equal("news@shop.example", message.MailFrom);
            Assert.Equal(recipient.Address, message.Message.To.Mailboxes.Single().Address);
            Assert.Equal(recipient.Name, message.Message.To.Mailboxes.Single().Name);
            Assert.Equal(VariantA.Subject, message.Message.Subject);
            Assert.Equal(VariantA.Content, message.Body.Trim());
            Assert.Equal("A", message.Message.Headers[SmtpDispatcher.VariantHeader]);
            Assert.Equal(SmtpDispatcher.MessageIdFor(batch.IdempotencyKey, recipient.Id, "shop.example"), $"<{message.Message.MessageId}>");
        }
        Assert.Equal(20, messages.Select(m => m.Message.MessageId).Distinct().Count());
    }

    [Fact]
    public async Task Each_message_names_where_its_recipient_unsubscribes_with_one_click_for_an_https_address()
    {
        await using var dispatcher = Dispatcher(o => o.ListUnsubscribe = "https://shop.example/unsubscribe?c={campaignId}&t={tenant}&r={recipientId}");
        var batch = Batch(2) with { Recipients = [new Recipient("r 1/é", "r1@example.test", "Contact 1"), new Recipient("r2", "r2@example.test", null)] };

        await dispatcher.DispatchAsync(batch);

        var messages = _server.Messages();
        Assert.Equal(2, messages.Count);
        Assert.Equal(["<https://shop.example/unsubscribe?c=7d0c6a4e8c554f0e9b9f4a3c2f1e0d11&t=acme&r=r%201%2F%C3%A9>",
                "<https://shop.example/unsubscribe?c=7d0c6a4e8c554f0e9b9f4a3c2f1e0d11&t=acme&r=r2>"],
            messages.Select(m => m.Message.Headers["List-Unsubscribe"]).Order());
        Assert.All(messages, m => Assert.Equal("List-Unsubscribe=One-Click", m.Message.Headers["List-Unsubscribe-Post"]));
    }

    [Theory]
    [InlineData("mailto:unsubscribe@shop.example?subject={recipientId}", SmtpTransactionMode.PerRecipient, "<mailto:unsubscribe@shop.example?subject=r1>")]
    [InlineData("mailto:unsubscribe@shop.example?subject={campaignId}", SmtpTransactionMode.PerBatch, "<mailto:unsubscribe@shop.example?subject=7d0c6a4e8c554f0e9b9f4a3c2f1e0d11>")]
    [InlineData("https://shop.example/unsubscribe/{recipientId}", SmtpTransactionMode.PerBatch, null)] // one message for the batch names no recipient
    [InlineData(null, SmtpTransactionMode.PerRecipient, null)]
    public async Task A_mailto_address_gets_no_one_click_header_and_a_batch_message_none_that_names_a_recipient(string? address,
        SmtpTransactionMode mode, string? expected)
    {
        await using var dispatcher = Dispatcher(o => (o.ListUnsubscribe, o.Transaction) = (address, mode));

        await dispatcher.DispatchAsync(Batch(1));

        var message = Assert.Single(_server.Messages()).Message;
        Assert.Equal(expected, message.Headers["List-Unsubscribe"]);
        Assert.Null(message.Headers["List-Unsubscribe-Post"]);
    }

    [Fact]
    public async Task Connections_are_reused_across_batches_and_bounded_by_max_connections()
    {
        var batches = Enumerable.Range(1, 8).Select(n => Batch(5, n, prefix: $"b{n}-")).ToArray();

        var results = await Task.WhenAll(batches.Select(b => _dispatcher.DispatchAsync(b).AsTask()));

        Assert.All(results, r => Assert.Equal((5, 0), (r.Delivered, r.Failed)));
        Assert.Equal(40, _server.Messages().Count);
        Assert.True(_dispatcher.ConnectionsOpened <= 2, $"8 batches on at most 2 connections, but {_dispatcher.ConnectionsOpened} were opened.");
        Assert.Equal(_dispatcher.ConnectionsOpened, _dispatcher.IdleConnections);
    }

    [Fact]
    public async Task A_550_for_one_recipient_refuses_it_with_the_servers_reply_and_the_others_are_delivered()
    {
        _server.Inject(new { refuse = new Dictionary<string, string> { ["r3@example.test"] = "550 5.1.1 <r3@example.test>: Recipient address rejected: User unknown" } });
        var batch = Batch(6);

        var result = await _dispatcher.DispatchAsync(batch);

        Assert.Equal((5, 1), (result.Delivered, result.Failed));
        var refusal = Assert.Single(result.Refusals);
        Assert.Equal("r3", refusal.RecipientId);
        Assert.Equal("550 5.1.1 <r3@example.test>: Recipient address rejected: User unknown", refusal.Reason);
        var messages = _server.Messages();
        Assert.Equal(5, messages.Count);
        Assert.DoesNotContain(messages, m => m.RcptTos.Contains("r3@example.test"));
    }

    [Fact]
    public async Task A_4xx_other_than_421_to_rcpt_to_refuses_that_recipient_with_the_reply_and_is_not_retried()
    {
        _server.Inject(new { refuse = new Dictionary<string, string> { ["r2@example.test"] = "450 4.2.1 <r2@example.test>: Mailbox busy" } });

        var result = await _dispatcher.DispatchAsync(Batch(4));

        Assert.Equal((3, 1), (result.Delivered, result.Failed));
        Assert.Equal(new RecipientRefusal("r2", "450 4.2.1 <r2@example.test>: Mailbox busy"), Assert.Single(result.Refusals));
        Assert.Equal(3, _server.Messages().Count);
    }

    /// <summary>A 4xx about the transaction: where the server says it (MAIL FROM or DATA), and its reply.</summary>
    public static TheoryData<string, string> TransientTransactionReplies => new()
    {
        { "mail", "421 4.3.2 Service shutting down" },
        { "mail", "451 4.3.0 Local error in processing" },
        { "data", "451 4.3.0 Try again later" },
    };

    [Theory, MemberData(nameof(TransientTransactionReplies))]
    public async Task A_4xx_for_the_transaction_is_transient_and_a_retry_delivers_everyone(string at, string reply)
    {
        _server.Inject(new { transient_first = 1, transient_at = at, transient_reply = reply });
        var batch = Batch(5);

        var error = await Assert.ThrowsAsync<TransientDispatchException>(() => _dispatcher.DispatchAsync(batch).AsTask());
        Assert.Contains(reply, error.Message);
        Assert.DoesNotContain("retried", error.Message);
        var retry = await _dispatcher.DispatchAsync(batch);

        Assert.Equal((5, 0), (retry.Delivered, retry.Failed));
        var messages = _server.Messages();
        Assert.Equal(batch.Recipients.Select(r => KeyOf(batch, r)).Order(), messages.Select(m => m.IdempotencyKey).Order());
    }

    [Fact]
    public async Task A_5xx_to_mail_from_is_permanent()
    {
        _server.Inject(new { mail_reply = "550 5.7.1 Sender address rejected: not owned by user" });

        var error = await Assert.ThrowsAsync<PermanentDispatchException>(() => _dispatcher.DispatchAsync(Batch(3)).AsTask());

        Assert.Contains("550 5.7.1 Sender address rejected", error.Message);
        Assert.Empty(_server.Messages());
    }

    [Fact]
    public async Task A_connection_dropped_mid_batch_is_reopened_and_the_batch_goes_on_without_loss_or_duplicate()
    {
        _server.Inject(new { drop_after = 4 });
        var batch = Batch(10);

        var result = await _dispatcher.DispatchAsync(batch);

        Assert.Equal((10, 0), (result.Delivered, result.Failed));
        var keys = _server.Messages().Select(m => m.IdempotencyKey).ToList();
        Assert.Equal(batch.Recipients.Select(r => KeyOf(batch, r)).Order(), keys.Order());
        Assert.Equal(2, _dispatcher.ConnectionsOpened);
    }

    [Fact]
    public async Task A_connection_dropped_before_the_reply_to_data_resends_that_one_message_with_the_same_message_id()
    {
        // The server stored message 4 but the connection closed before its 250: the dispatcher cannot know, and sends
        // it again. The one duplicate is recognisable: same Message-ID and idempotency key (at least once, documented).
        _server.Inject(new { drop_before_reply = 3 });
        var batch = Batch(8);

        var result = await _dispatcher.DispatchAsync(batch);

        Assert.Equal((8, 0), (result.Delivered, result.Failed));
        var messages = _server.Messages();
        Assert.Equal(9, messages.Count);
        var duplicate = Assert.Single(messages.GroupBy(m => m.Message.MessageId), g => g.Count() > 1);
        Assert.Equal(2, duplicate.Count());
        Assert.Single(duplicate.Select(m => m.IdempotencyKey).Distinct());
        Assert.Equal(batch.Recipients.Select(r => KeyOf(batch, r)).Order(), messages.Select(m => m.IdempotencyKey).Distinct().Order());
    }

    [Fact]
    public async Task A_server_without_the_starttls_or_auth_the_settings_require_is_permanent_and_sends_nothing()
    {
        // The capturing server offers neither: no retry would change that, so no batch waits out the retries for it.
        await using var tls = Dispatcher(o => o.Security = SmtpSecurity.StartTls);
        var noTls = await Assert.ThrowsAsync<PermanentDispatchException>(() => tls.DispatchAsync(Batch(3)).AsTask());
        Assert.Contains("cannot be used with these settings", noTls.Message);
        Assert.Contains("STARTTLS", noTls.Message);

        await using var auth = Dispatcher(o => { o.Security = SmtpSecurity.StartTlsWhenAvailable; o.UserName = "campaigns"; o.Password = "secret"; });
        var noAuth = await Assert.ThrowsAsync<PermanentDispatchException>(() => auth.DispatchAsync(Batch(3)).AsTask());
        Assert.Contains("authentication", noAuth.Message);
        Assert.Empty(_server.Messages());
    }

    [Fact]
    public async Task An_unreachable_server_makes_the_batch_transient_after_its_reconnect_attempts()
    {
        await using var dispatcher = Dispatcher(o => { o.Port = FreePort(); o.ReconnectAttempts = 1; });

        var error = await Assert.ThrowsAsync<TransientDispatchException>(() => dispatcher.DispatchAsync(Batch(3)).AsTask());

        Assert.Contains("failed 2 times in a row", error.Message);
        // The message is the batch's recorded reason once the pipeline's retries run out: it says what happened, not
        // what the pipeline may do next (a failed recipient's reason read "the rest will be retried").
        Assert.DoesNotContain("retried", error.Message);
    }

    [Fact]
    public async Task A_slow_server_within_the_timeout_delivers_everyone()
    {
        _server.Inject(new { delay_ms = 300 });
        await using var dispatcher = Dispatcher(o => o.Timeout = TimeSpan.FromSeconds(30));

        var result = await dispatcher.DispatchAsync(Batch(4));

        Assert.Equal((4, 0), (result.Delivered, result.Failed));
        Assert.Equal(4, _server.Messages().Count);
    }

    [Fact]
    public async Task A_batch_past_its_BatchTimeout_names_whom_it_sent_and_gives_the_rest_back()
    {
        // Found by an audit: a slow but healthy relay took longer than ClaimTimeout, and every recipient it had taken
        // was recorded failed, "the node sending it was lost".
        _server.Inject(new { delay_ms = 400 });
        await using var dispatcher = Dispatcher(o => o.BatchTimeout = TimeSpan.FromSeconds(1));

        var error = await Assert.ThrowsAsync<TransientDispatchException>(() => dispatcher.DispatchAsync(Batch(8)).AsTask());

        Assert.Contains("took longer than 00:00:01 (BatchTimeout)", error.Message);
        Assert.InRange(error.Accepted.Count, 1, 7);
        Assert.Equal(error.Accepted.Order(), _server.Messages().Select(m => Assert.Single(m.RcptTos).Split('@')[0]).Order());
    }

    [Fact]
    public async Task A_server_whose_tls_fails_is_permanent_not_retried()
    {
        // Found by an audit: a failed TLS handshake was retried as a dropped connection, 12 times a batch.
        await using var dispatcher = Dispatcher(o => o.Security = SmtpSecurity.Tls);

        var error = await Assert.ThrowsAsync<PermanentDispatchException>(() => dispatcher.DispatchAsync(Batch(2)).AsTask());

        Assert.Contains("TLS with the SMTP server", error.Message);
        Assert.Equal(1, dispatcher.ConnectionsOpened);
    }

    [Fact]
    public async Task A_server_slower_than_the_timeout_is_transient()
    {
        _server.Inject(new { delay_ms = 3000 });
        await using var dispatcher = Dispatcher(o => { o.Timeout = TimeSpan.FromMilliseconds(500); o.ReconnectAttempts = 0; });

        await Assert.ThrowsAsync<TransientDispatchException>(() => dispatcher.DispatchAsync(Batch(1)).AsTask());
    }

    [Fact]
    public async Task Per_batch_transactions_send_one_message_to_every_accepted_recipient_and_name_the_refused()
    {
        _server.Inject(new { refuse = new Dictionary<string, string> { ["r2@example.test"] = "550 5.1.1 No such user" } });
        await using var dispatcher = Dispatcher(o => o.Transaction = SmtpTransactionMode.PerBatch);
        var batch = Batch(4);

        var result = await dispatcher.DispatchAsync(batch);

        Assert.Equal((3, 1), (result.Delivered, result.Failed));
        Assert.Equal(new RecipientRefusal("r2", "550 5.1.1 No such user"), Assert.Single(result.Refusals));
        var message = Assert.Single(_server.Messages());
        Assert.Equal(["r1@example.test", "r3@example.test", "r4@example.test"], message.RcptTos);
        Assert.Equal(batch.IdempotencyKey, message.IdempotencyKey);
    }

    [Fact]
    public async Task A_key_beyond_ascii_goes_out_percent_encoded_not_as_an_encoded_word()
    {
        // Found by an audit: MimeKit wrote it as an RFC 2047 encoded word (=?utf-8?q?sh=C3=B6p...?=), folded, and a
        // receiver comparing the raw header saw another key than the webhook's.
        await using var dispatcher = Dispatcher();
        var batch = Batch(1) with { TenantId = "shöp" };

        await dispatcher.DispatchAsync(batch);

        var message = Assert.Single(_server.Messages());
        var header = message.Message.Headers.First(h => h.Field == SmtpDispatcher.IdempotencyHeader);
        Assert.Equal($"sh%C3%B6p/{batch.CampaignId:N}-1/r1", System.Text.Encoding.ASCII.GetString(header.RawValue).Trim());
        Assert.Equal(KeyOf(batch, batch.Recipients[0]), Uri.UnescapeDataString(message.IdempotencyKey!));
    }

    [Theory]
    [InlineData("Promoc\u0327a\u0303o de Sa\u0303o Paulo")] // NFD: combining cedilla and tilde
    [InlineData("Promo\u00e7\u00e3o de S\u00e3o Paulo")] // NFC
    [InlineData("\u6771\u4eac\u30bb\u30fc\u30eb \U0001F1EF\U0001F1F5 \U0001F468\u200d\U0001F469\u200d\U0001F467\u200d\U0001F466 \U0001F44D\U0001F3FD \u05de\u05d1\u05e6\u05e2 50% \u05d4\u05e0\u05d7\u05d4 \u0633\u0639\u0631 \u0661\u0662\u0663 \u0417\u0438\u043c\u0430 \u0490\u0491")]
    public async Task Subjects_names_and_contents_in_any_script_arrive_exactly(string text)
    {
        // From an audit by marketers in Tokyo, Tel Aviv, Kyiv and São Paulo: long subjects folded over several encoded
        // words, emoji sequences, combining marks and right-to-left text, each decoded back to the very characters.
        const string fromName = "\u041c\u0430\u0433\u0430\u0437\u0438\u043d S\u00e3o Paulo \u6771\u4eac \U0001F6CD\uFE0F \u05e9\u05dc\u05d5\u05dd";
        var subject = string.Join(" ", Enumerable.Repeat(text, 4)); // past one header line: folded
        var longLine = string.Concat(Enumerable.Repeat(text, 100)); // a line of several thousand bytes
        var content = $"{text}\n\n{longLine}\nend \U0001F44B";
        await using var dispatcher = Dispatcher(o => o.FromName = fromName);
        var batch = Batch(1, variant: new Variant("A", subject, content, 100)) with
        {
            Recipients = [new Recipient("r1", "r1@example.test", "\u0406\u0432\u0430\u043d \u05d9\u05d5\u05e1\u05d9 \U0001F44D\U0001F3FD")],
        };

        var result = await dispatcher.DispatchAsync(batch);

        Assert.Equal((1, 0), (result.Delivered, result.Failed));

        var message = Assert.Single(_server.Messages()).Message;
        Assert.Equal(subject, message.Subject);
        Assert.Equal(fromName, message.From.Mailboxes.Single().Name);
        Assert.Equal(batch.Recipients[0].Name, message.To.Mailboxes.Single().Name);
        // A line too long for SMTP (and for 8bit): the body went out encoded, and decodes to the content exactly.
        var part = (MimeKit.TextPart)message.Body;
        Assert.Equal("utf-8", part.ContentType.Charset);
        Assert.NotEqual(MimeKit.ContentEncoding.EightBit, part.ContentTransferEncoding);
        Assert.Equal(content, message.TextBody);
        // No line of the message is over SMTP's 998 bytes (RFC 5321): the long line went out encoded.
        using var raw = new MemoryStream();
        message.WriteTo(raw);
        Assert.All(System.Text.Encoding.UTF8.GetString(raw.ToArray()).Split('\n'),
            line => Assert.True(System.Text.Encoding.UTF8.GetByteCount(line.TrimEnd('\r')) <= 998, line.Length > 40 ? line[..40] : line));
    }

    [Fact]
    public async Task An_internationalized_domain_goes_out_in_punycode_and_a_local_part_beyond_ascii_is_refused_by_a_server_without_smtputf8()
    {
        // The capture server, like many relays, does not offer SMTPUTF8 (RFC 6531).
        await using var dispatcher = Dispatcher();
        var batch = Batch(1) with
        {
            Recipients = [new Recipient("r1", "r1@example.test"), new Recipient("idn", "ana@m\u00fcnchen.example"),
                new Recipient("utf8", "jos\u00e9@shop.example"), new Recipient("r2", "r2@example.test")],
        };

        var result = await dispatcher.DispatchAsync(batch);

        Assert.Equal((3, 1), (result.Delivered, result.Failed));
        var refusal = Assert.Single(result.Refusals);
        Assert.Equal("utf8", refusal.RecipientId);
        Assert.StartsWith("5", refusal.Reason); // the server's reply
        Assert.Contains(_server.Messages(), m => m.RcptTos.SequenceEqual(["ana@xn--mnchen-3ya.example"]));
    }

    [Fact]
    public async Task A_per_batch_transaction_whose_every_recipient_is_refused_names_them_all_and_sends_nothing()
    {
        _server.Inject(new { refuse = new Dictionary<string, string> { ["r1@example.test"] = "550 5.1.1 No such user", ["r2@example.test"] = "550 5.1.1 No such user" } });
        await using var dispatcher = Dispatcher(o => o.Transaction = SmtpTransactionMode.PerBatch);

        var result = await dispatcher.DispatchAsync(Batch(2));

        Assert.Equal((0, 2), (result.Delivered, result.Failed));
        Assert.Equal(["r1", "r2"], result.Refusals.Select(r => r.RecipientId).Order());
        Assert.Empty(_server.Messages());
    }

    [Theory, MemberData(nameof(TransientTransactionReplies))]
    public async Task A_4xx_for_a_per_batch_transaction_is_transient_refuses_nobody_and_a_retry_delivers_everyone(string at, string reply)
    {
        // Pipelined, a refused MAIL FROM makes the server answer every RCPT TO with 503 (no transaction): those replies
        // are about the transaction, not the recipients, who must not be recorded as refused.
        _server.Inject(new { transient_first = 1, transient_at = at, transient_reply = reply });
        await using var dispatcher = Dispatcher(o => o.Transaction = SmtpTransactionMode.PerBatch);
        var batch = Batch(4);

        var error = await Assert.ThrowsAsync<TransientDispatchException>(() => dispatcher.DispatchAsync(batch).AsTask());
        Assert.Contains(reply, error.Message);
        Assert.Empty(error.Refused);
        var retry = await dispatcher.DispatchAsync(batch);

        Assert.Equal((4, 0), (retry.Delivered, retry.Failed));
        Assert.Equal(batch.IdempotencyKey, Assert.Single(_server.Messages()).IdempotencyKey);
    }

    [Fact]
    public async Task A_421_to_a_rcpt_to_of_a_per_batch_transaction_is_transient_and_names_who_got_the_message()
    {
        // Found by an audit: the 421 was recorded as that recipient's refusal, a temporary error counted as a failure for good.
        _server.Inject(new { refuse = new Dictionary<string, string>
        {
            ["r2@example.test"] = "550 5.1.1 No such user", ["r3@example.test"] = "421 4.3.2 Service shutting down",
        } });
        await using var dispatcher = Dispatcher(o => o.Transaction = SmtpTransactionMode.PerBatch);

        var error = await Assert.ThrowsAsync<TransientDispatchException>(() => dispatcher.DispatchAsync(Batch(4)).AsTask());

        Assert.Contains("421 4.3.2 Service shutting down", error.Message);
        Assert.Equal(["r1", "r4"], error.Accepted.Order());
        Assert.Equal(new RecipientRefusal("r2", "550 5.1.1 No such user"), Assert.Single(error.Refused));
        Assert.Equal(["r1@example.test", "r4@example.test"], Assert.Single(_server.Messages()).RcptTos);
    }

    [Fact]
    public async Task A_5xx_to_mail_from_of_a_per_batch_transaction_is_permanent()
    {
        _server.Inject(new { mail_reply = "550 5.7.1 Sender address rejected: not owned by user" });
        await using var dispatcher = Dispatcher(o => o.Transaction = SmtpTransactionMode.PerBatch);

        var error = await Assert.ThrowsAsync<PermanentDispatchException>(() => dispatcher.DispatchAsync(Batch(3)).AsTask());

        Assert.Contains("550 5.7.1 Sender address rejected", error.Message);
        Assert.Empty(_server.Messages());
    }

    [Fact]
    public async Task Sms_batches_are_refused_for_good()
    {
        var sms = Batch(1) with { Channel = Channel.Sms };

        await Assert.ThrowsAsync<PermanentDispatchException>(() => _dispatcher.DispatchAsync(sms).AsTask());
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
