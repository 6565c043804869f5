using System.Diagnostics;
using EventSourcedCampaigns.Decisions;
using EventSourcedCampaigns.Marten;
using EventSourcedCampaigns.Marten.ReadModels;
using EventSourcedCampaigns.Smtp;
using EventSourcedCampaigns.Testing;
using EventSourcedCampaigns.Wolverine;
using Marten;
using Marten.Events;
using Spectre.Console;
using Wolverine;

namespace EventSourcedCampaigns.Demo;

/// <summary>The seed scenarios, run for real, then shown as a marketer and an auditor would see them.</summary>
public sealed class Demo(IMessageBus bus, IDocumentStore store, BogusAudience audiences, DemoOptions options, DemoDispatcher dispatcher, SmtpTarget smtp)
{
    private const string Tenant = "acme-shop";
    private static readonly Actor Maria = new("maria@acme.example", RequestChannel.User);
    private static readonly Actor Integration = new("key_live_crm_sync", RequestChannel.ApiKey);
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(3);
    private readonly List<string> _failures = [];

    public async Task<int> RunAsync()
    {
        var started = Stopwatch.GetTimestamp();
        AnsiConsole.Write(new Rule("[bold]EventSourcedCampaigns demo[/]").LeftJustified());
        AnsiConsole.MarkupLine($"Tenant [blue]{Tenant}[/], batches of {options.BatchSize:N0}, {options.Parallelism} batches in flight per campaign, provider latency {options.LatencyMs} ms.");
        AnsiConsole.MarkupLine($"The fully sent campaign goes through the SMTP provider to the capturing server on 127.0.0.1:{smtp.Port} ({Markup.Escape(smtp.Folder)}); the others use the fake provider.");

        var large = new Audience(["newsletter", "vip", "recent-buyers"], ["unsubscribed"]);
        var spring = await ScheduleLargeCampaignAsync(large);
        var flash = await CancelWhileSchedulingAsync(large);
        var (digest, claimsAfterCancel) = await CancelMidSendAsync();
        var orders = await RefuseCancelOfSentCampaignAsync();

        await store.WaitForNonStaleProjectionDataAsync(Patience);
        await ShowAsync(digest);
        await CheckReadModelsAsync(spring, flash, digest, orders, claimsAfterCancel);
        await ShowDeliveryAsync(orders);

        AnsiConsole.Write(new Rule());
        var elapsed = Stopwatch.GetElapsedTime(started);
        if (_failures.Count == 0)
            AnsiConsole.MarkupLine($"[green]Every expectation held.[/] ({elapsed.TotalSeconds:N0} s)");
        foreach (var failure in _failures) AnsiConsole.MarkupLine($"[red]FAILED:[/] {Markup.Escape(failure)}");
        return _failures.Count;
    }

    /// <summary>Klaviyo: "for large campaigns, the scheduling process itself may take some time".</summary>
    private async Task<Guid> ScheduleLargeCampaignAsync(Audience audience)
    {
        var id = await CreateAsync("Spring collection launch");
        await RunAsync(new ScheduleCampaign(id, DateTimeOffset.UtcNow.AddDays(1), audience, options.BatchSize, Maria));
        var state = await ProgressAsync(id, "Scheduling [bold]Spring collection launch[/]", s => s.Status != CampaignStatus.Scheduling);
        var expected = audiences.Count(audience);
        Expect(state.Phase is CampaignPhase.ReadyToSend { Plan: var plan } && plan.Recipients == expected,
            $"'Spring collection launch' is Scheduled for its {expected:N0} recipients (it is {state.Status}).");
        return id;
    }

    /// <summary>Klaviyo: "a Cancel button will appear ... while scheduling is still in progress".</summary>
    private async Task<Guid> CancelWhileSchedulingAsync(Audience audience)
    {
        var id = await CreateAsync("Flash sale (wrong discount code)");
        await RunAsync(new ScheduleCampaign(id, DateTimeOffset.UtcNow.AddHours(2), audience, options.BatchSize, Maria));
        var partly = await ProgressAsync(id, "Scheduling [bold]Flash sale[/] (will be cancelled)",
            s => s.Phase is not CampaignPhase.Scheduling { Prepared: var p, Total: var t } || (t > 0 && p * 5 >= t));
        var cancel = await RunAsync(new CancelCampaign(id, Maria, new CancelReason(CancelReasonCode.ContentError, "Wrong discount code in the subject")));
        await Task.Delay(TimeSpan.FromSeconds(1)); // let a page in flight try to continue
        var after = await StateAsync(id);
        var preparedAtCancel = partly.Phase is CampaignPhase.Scheduling s ? s.Prepared : 0;
        AnsiConsole.MarkupLine($"Cancelled [bold]Flash sale[/] while scheduling: {preparedAtCancel:N0} recipients prepared, then it stopped.");
        var events = await EventsAsync(id);
        var statusAtCancel = events.Select(e => e.Data).OfType<CancelRequested>().FirstOrDefault()?.StatusAtRequest;
        Expect(cancel.Decision is { IsRejected: false } && statusAtCancel == CampaignStatus.Scheduling && after.Status == CampaignStatus.Cancelled,
            $"'Flash sale' was cancelled during scheduling (it was {statusAtCancel?.ToString() ?? "not cancelled"} at the cancel, and is {after.Status}).");
        Expect(!events.Any(e => e.Data is SendStarted or BatchClaimed), "Nothing of 'Flash sale' was dispatched.");
        return id;
    }

    /// <summary>Klaviyo: "the status ... change[s] from Sending to Cancelled During Send"; PushPushGo: "stopped as fast as possible".</summary>
    private async Task<(Guid Id, int ClaimsAfterCancel)> CancelMidSendAsync()
    {
        var id = await CreateAsync("Weekly digest #47");
        await RunAsync(new ScheduleCampaign(id, DateTimeOffset.UtcNow.AddSeconds(3), Audience.Of("weekly-digest"), options.BatchSize, Maria));
        var sending = await ProgressAsync(id, "Sending [bold]Weekly digest #47[/] (will be cancelled mid-send)",
            s => s.Phase is not (CampaignPhase.Scheduling or CampaignPhase.ReadyToSend or CampaignPhase.Sending)
                 || (s.Phase is CampaignPhase.Sending { Progress: var p, Plan: var plan } && p.Delivered * 10 >= plan.Recipients * 3));
        var inFlight = sending.Phase is CampaignPhase.Sending x ? x.Progress.InFlight.Count : 0;
        var cancel = await RunAsync(new CancelCampaign(id, Integration, new CancelReason(CancelReasonCode.WrongAudience, "Digest went to the wrong segment")));
        var stopped = await WaitForAsync(id, s => s.Status != CampaignStatus.Cancelling, "the in-flight batches to finish");
        AnsiConsole.MarkupLine($"Cancelled [bold]Weekly digest #47[/] mid-send with {inFlight} batches in flight: now {stopped.Status.ToDisplay()}.");

        var events = await EventsAsync(id);
        var cancelSequence = events.FirstOrDefault(e => e.Data is CancelRequested)?.Sequence ?? long.MaxValue;
        var claimsAfterCancel = events.Count(e => e.Data is BatchClaimed && e.Sequence > cancelSequence);
        Expect(cancel.Decision is { IsRejected: false } && stopped.Status == CampaignStatus.CancelledDuringSend,
            $"'Weekly digest #47' is Cancelled During Send (it is {stopped.Status}).");
        Expect(claimsAfterCancel == 0, $"No batch was claimed after the cancel was committed ({claimsAfterCancel} were).");
        return (id, claimsAfterCancel);
    }

    /// <summary>Klaviyo: "campaigns that have already been fully sent cannot be cancelled".</summary>
    private async Task<Guid> RefuseCancelOfSentCampaignAsync()
    {
        var id = await CreateAsync("Order status update");
        dispatcher.UseSmtpFor(id);
        await RunAsync(new ScheduleCampaign(id, DateTimeOffset.UtcNow.AddSeconds(2), Audience.Of("order-updates"), options.BatchSize, Maria));
        var sent = await ProgressAsync(id, "Sending [bold]Order status update[/] to completion", s => s.IsFinished);
        var refused = await RunAsync(new CancelCampaign(id, Maria, new CancelReason(CancelReasonCode.MarketerRequest, "Too late?")));
        AnsiConsole.MarkupLine($"Cancel of the sent [bold]Order status update[/]: [yellow]{Markup.Escape(refused.Decision.Rejection?.Message ?? "accepted!")}[/]");
        Expect(sent.Status == CampaignStatus.Sent, $"'Order status update' was fully sent (it is {sent.Status}).");
        Expect(refused.Decision.Rejection?.Code == RejectionCode.NotCancellableSent, "The cancel of a sent campaign was refused as NotCancellableSent.");
        return id;
    }

    private async Task ShowAsync(Guid digest)
    {
        await using var query = store.QuerySession(Tenant);
        var list = await query.QueryCampaignsAsync(new CampaignListQuery(SortBy: CampaignSort.CreatedAt, Descending: false));
        var campaigns = new Table().Title("[bold]Campaigns[/]").AddColumns("Name", "Status", "Send time", "Recipients", "Delivered", "Actions");
        foreach (var c in list.Items)
            campaigns.AddRow(Markup.Escape(c.Name), c.StatusText, $"{c.SendAt:u}", $"{c.Recipients:N0}", $"{c.Delivered:N0}", c.Actions.ToString());
        AnsiConsole.Write(campaigns);

        var r = (await query.LoadSendReportAsync(digest))!;
        var report = new Table().Title($"[bold]Send report: {Markup.Escape(r.Name)}[/]").AddColumns("", "Value");
        foreach (var (label, value) in new (string, string)[]
        {
            ("Status", r.Status.ToDisplay()), ("Scheduled at", $"{r.ScheduledAt:u}"), ("Send started", $"{r.SendStartedAt:u}"),
            ("Cancel requested", $"{r.CancelRequestedAt:u} by {r.CancelledBy?.Id} ({r.CancelledBy?.Channel})"),
            ("Cancelled (effective)", $"{r.CancelledAt:u}"), ("Reason", $"{r.CancelReason?.Code}: {r.CancelReason?.Text}"),
            ("Recipients", $"{r.Totals.Recipients:N0}"), ("Delivered before the cancel", $"{r.DeliveredBeforeCancel:N0}"),
            ("Delivered after the cancel (in flight)", $"{r.DeliveredAfterCancel:N0}"), ("Failed", $"{r.Totals.Failed:N0}"),
            ("Not sent", $"{r.Totals.NotSent:N0}"), ("Delivered", $"{r.Totals.PercentDelivered:N2} %"),
            ("Cancel to stop", $"{r.CancelToStop?.TotalMilliseconds:N0} ms"),
        })
            report.AddRow(label, Markup.Escape(value));
        AnsiConsole.Write(report);

        var audit = await query.QueryCancellationAuditAsync(new CancellationAuditQuery());
        var auditTable = new Table().Title("[bold]Cancellation audit[/]")
            .AddColumns("Requested at (UTC)", "Campaign", "Who", "Via", "Status then", "Outcome", "Delivered before/after", "Failed", "Not sent", "Time to stop");
        var names = list.Items.ToDictionary(c => c.Id, c => c.Name);
        foreach (var a in audit.Items)
            auditTable.AddRow($"{a.RequestedAt.UtcDateTime:yyyy-MM-dd HH:mm:ss.fff}", Markup.Escape(names.GetValueOrDefault(a.CampaignId, "?")), Markup.Escape(a.ActorId),
                a.Channel.ToString(), a.StatusAtRequest?.ToDisplay() ?? "-", a.Outcome == CancelOutcome.Rejected ? $"Rejected ({a.RejectionCode})" : a.Outcome.ToString(),
                $"{a.DeliveredBefore:N0} / {a.DeliveredAfter:N0}", a.Failed is { } f ? $"{f:N0}" : "-", a.NotSent is { } n ? $"{n:N0}" : "-", a.TimeToStop is { } t ? $"{t.TotalMilliseconds:N0} ms" : "-");
        AnsiConsole.Write(auditTable);
    }

    private async Task CheckReadModelsAsync(Guid spring, Guid flash, Guid digest, Guid orders, int claimsAfterCancel)
    {
        await using var query = store.QuerySession(Tenant);
        var statuses = (await query.QueryCampaignsAsync(new CampaignListQuery())).Items.ToDictionary(c => c.Id, c => c.Status);
        Expect(statuses.GetValueOrDefault(spring) == CampaignStatus.Scheduled && statuses.GetValueOrDefault(flash) == CampaignStatus.Cancelled
               && statuses.GetValueOrDefault(digest) == CampaignStatus.CancelledDuringSend && statuses.GetValueOrDefault(orders) == CampaignStatus.Sent,
            "The Campaigns list shows Scheduled, Cancelled, Cancelled During Send and Sent.");
        var r = (await query.LoadSendReportAsync(digest))!;
        Expect(r.Totals.InFlight == 0 && r.Totals.Delivered + r.Totals.Failed + r.Totals.NotSent == r.Totals.Recipients && r.Totals.NotSent > 0,
            "The partial-send report adds up: delivered + failed + not sent = recipients, something was not sent.");
        Expect(r.ScheduledAt is not null && r.CancelledAt is not null && r.CancelRequestedAt <= r.CancelledAt,
            "The report shows the scheduled date and the cancellation date.");
        var audit = (await query.QueryCancellationAuditAsync(new CancellationAuditQuery())).Items;
        Expect(audit.Count == 3 && audit.Count(a => a.Outcome == CancelOutcome.Rejected) == 1,
            $"The audit holds the two accepted cancels and the refused one ({audit.Count} entries).");
        Expect(claimsAfterCancel == 0, "Zero claims after the cancel commit.");
    }

    /// <summary>What the capturing SMTP server received for the campaign sent through the SMTP provider.</summary>
    private async Task ShowDeliveryAsync(Guid orders)
    {
        await using var query = store.QuerySession(Tenant);
        var report = (await query.LoadSendReportAsync(orders))!;
        var received = CapturedMail.ForCampaign(smtp.Folder, Tenant, orders);
        AnsiConsole.MarkupLine($"The capturing SMTP server received [bold]{received.Count:N0}[/] messages for [bold]{Markup.Escape(report.Name)}[/] " +
                               $"over {smtp.Dispatcher.ConnectionsOpened} connection(s); the send report says {report.Totals.Delivered:N0} delivered, {report.Totals.Failed:N0} failed.");
        if (received.Count > 0)
        {
            var sample = received[received.Count / 2];
            var headers = new Table().Title($"[bold]A message as received ({Markup.Escape(Path.GetFileName(sample.File))})[/]").AddColumns("Header", "Value");
            foreach (var (name, value) in new (string, string?)[]
            {
                ("Envelope", $"MAIL FROM {sample.MailFrom}, RCPT TO {string.Join(", ", sample.RcptTos)}"),
                ("From", sample.Message.From.ToString()), ("To", sample.Message.To.ToString()), ("Subject", sample.Message.Subject),
                ("Message-ID", $"<{sample.Message.MessageId}>"), (SmtpDispatcher.IdempotencyHeader, sample.IdempotencyKey),
                (SmtpDispatcher.VariantHeader, sample.Message.Headers[SmtpDispatcher.VariantHeader]),
                ("Body", sample.Message.TextBody?.Trim()),
            })
                headers.AddRow(Markup.Escape(name), Markup.Escape(value ?? "(missing)"));
            AnsiConsole.Write(headers);
        }

        Expect(received.Count > 0 && received.Count == report.Totals.Delivered,
            $"The SMTP server received exactly the campaign's delivered count: {received.Count:N0} messages, {report.Totals.Delivered:N0} delivered.");
        var twice = received.GroupBy(m => m.RecipientId).Count(g => g.Count() > 1)
                    + received.SelectMany(m => m.RcptTos).GroupBy(a => a, StringComparer.OrdinalIgnoreCase).Count(g => g.Count() > 1);
        Expect(twice == 0 && received.All(m => m.RecipientId is not null && m.RcptTos.Length == 1),
            $"No recipient received the campaign twice (by idempotency key and by envelope address; {twice} duplicates).");
        Expect(received.All(m => m.Message.Subject == report.Name && m.Message.MessageId is { Length: > 0 }
                                 && m.RcptTos[0] == m.Message.To.Mailboxes.Single().Address),
            "Every message has its variant's subject, a Message-ID and its one recipient in To:.");
    }

    private async Task<Guid> CreateAsync(string name)
    {
        var id = Guid.NewGuid();
        await RunAsync(new CreateCampaign(id, name, Channel.Email, [new Variant("A", name, $"Hello from Acme: {name}", 100)], Maria));
        return id;
    }

    private async Task<CommandResult> RunAsync(CampaignCommand command)
    {
        var result = await bus.ExecuteCampaignCommandAsync(Tenant, command);
        if (result.Decision.Rejection is { } r && command is not CancelCampaign)
            throw new CampaignRejectedException(r);
        return result;
    }

    /// <summary>A live progress bar over the write model until <paramref name="done"/> holds.</summary>
    private Task<CampaignState> ProgressAsync(Guid id, string title, Func<CampaignState, bool> done) =>
        AnsiConsole.Progress().AutoClear(false).Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async ctx =>
            {
                var bar = ctx.AddTask(title);
                var deadline = Stopwatch.GetTimestamp() + (long)(Patience.TotalSeconds * Stopwatch.Frequency);
                while (true)
                {
                    var state = await StateAsync(id);
                    (bar.Value, bar.MaxValue) = state.Phase switch
                    {
                        CampaignPhase.Scheduling s => (s.Prepared, Math.Max(1, s.Total)),
                        CampaignPhase.Sending { Progress: var p, Plan: var plan } => (p.Delivered + p.Failed, plan.Recipients),
                        _ => (bar.MaxValue, bar.MaxValue),
                    };
                    if (done(state)) return state;
                    if (Stopwatch.GetTimestamp() > deadline) throw new TimeoutException($"{title}: stuck in {state.Status}.");
                    await Task.Delay(100);
                }
            });

    private async Task<CampaignState> WaitForAsync(Guid id, Func<CampaignState, bool> done, string what)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(Patience.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            var state = await StateAsync(id);
            if (done(state)) return state;
            if (Stopwatch.GetTimestamp() > deadline) throw new TimeoutException($"Waited too long for {what}.");
            await Task.Delay(20);
        }
    }

    private async Task<CampaignState> StateAsync(Guid id)
    {
        await using var query = store.QuerySession(Tenant);
        return await query.LoadCampaignStateAsync(id) ?? throw new InvalidOperationException($"Campaign {id} is missing.");
    }

    private async Task<IReadOnlyList<JasperFx.Events.IEvent>> EventsAsync(Guid id)
    {
        await using var query = store.QuerySession(Tenant);
        return await query.Events.FetchStreamAsync(id);
    }

    private void Expect(bool condition, string expectation)
    {
        if (!condition) _failures.Add(expectation);
        else AnsiConsole.MarkupLine($"[green]✓[/] {Markup.Escape(expectation)}");
    }
}
