// A consumer of the packed EventSourcedCampaigns packages. It runs docs/getting-started.md's program verbatim (steps 2 to
// 4: the host, the first campaign cancelled, the queries, read-your-write), then checks what the text promises through the
// packages' public API only: the first campaign cancelled and audited, a campaign sent through the send pipeline whose
// cancel is refused and audited, and a cancel mid-send with batches at the provider. Against a real PostgreSQL
// (CAMPAIGNS_POSTGRES): a database of its own, named by the ConnectionStrings:campaigns setting as the guide says, dropped
// at the end. Prints one line per check; exits 0 when every check holds, 1 when one fails, 2 when it cannot run.
using EventSourcedCampaigns;              // Actor, Audience, CancelReason, CampaignStatus, ...
using EventSourcedCampaigns.Decisions;    // the commands: CreateCampaign, ScheduleCampaign, CancelCampaign, ...
using EventSourcedCampaigns.Marten;       // AddCampaigns, CampaignConnectionStrings, the queries, WaitForReadModelsAsync
using EventSourcedCampaigns.Marten.ReadModels; // CampaignListItem, SendReport, CancellationAuditEntry, CancelOutcome
using EventSourcedCampaigns.Ports;        // IAudienceResolver, IMessageDispatcher
using EventSourcedCampaigns.Wolverine;    // AddCampaignSending, ExecuteCampaignCommandAsync
using JasperFx.Events.Daemon;             // DaemonMode
using Marten;
using Microsoft.Extensions.Configuration; // GetConnectionString
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Wolverine;
using Wolverine.Marten;                   // IntegrateWithWolverine
using System.Diagnostics;
using EventSourcedCampaigns.Testing;
using Npgsql;

var server = Environment.GetEnvironmentVariable("CAMPAIGNS_POSTGRES");
if (string.IsNullOrWhiteSpace(server))
{
    Console.Error.WriteLine("Set CAMPAIGNS_POSTGRES to an Npgsql connection string.");
    return 2;
}

var failures = 0;
void Check(bool ok, string what)
{
    Console.WriteLine($"{(ok ? "ok" : "FAILED")}: {what}");
    if (!ok) failures++;
}

// Which builds of the libraries this process runs: the test compares these with the packed assemblies.
foreach (var assembly in new[] { typeof(Decider).Assembly, typeof(StoreOptionsExtensions).Assembly,
             typeof(CampaignSendingExtensions).Assembly, typeof(BogusAudience).Assembly,
             typeof(EventSourcedCampaigns.Smtp.SmtpDispatcher).Assembly, typeof(EventSourcedCampaigns.Webhooks.WebhookDispatcher).Assembly })
    Console.WriteLine($"assembly {assembly.GetName().Name} mvid {assembly.ManifestModule.ModuleVersionId}");

// The guide's configuration, from the environment: the connection string and, to keep the output to the checks, the log level.
var database = $"consumer_{Guid.NewGuid():N}"[..30];
await Sql(server, $"create database {database}");
Environment.SetEnvironmentVariable("ConnectionStrings__campaigns", new NpgsqlConnectionStringBuilder(server) { Database = database }.ConnectionString);
Environment.SetEnvironmentVariable("Logging__LogLevel__Default", "Warning");
try
{
    // ---- docs/getting-started.md, step 2 ----
    var builder = Host.CreateApplicationBuilder(args);
    builder.Services.AddSingleton<IAudienceResolver, MyAudienceResolver>();   // lists/segments -> recipients
    builder.Services.AddSingleton<IMessageDispatcher, MyEmailProvider>();     // a batch -> your provider

    builder.Services.AddMarten(opts =>
        {
            // WithAutoPrepare: Npgsql prepares the statements the pipeline repeats (unless the string sets Max Auto Prepare)
            opts.Connection(CampaignConnectionStrings.WithAutoPrepare(builder.Configuration.GetConnectionString("campaigns")!));
            opts.AddCampaigns();                        // events, tenancy, write model, read models
        })
        .AddAsyncDaemon(DaemonMode.HotCold)             // or run the service with the Projections role instead
        .IntegrateWithWolverine();

    builder.Services.AddWolverine(opts =>
    {
        opts.Policies.AutoApplyTransactions();
        opts.AddCampaignSending(sending => sending.WithBatchesInFlightPerCampaign(8));
    });

    using var host = builder.Build();
    await host.StartAsync();

    // ---- step 3 ----
    var bus = host.Services.GetRequiredService<IMessageBus>();
    var maria = new Actor("maria@acme.example", RequestChannel.User);
    var id = Guid.NewGuid();

    await bus.ExecuteCampaignCommandAsync("acme", new CreateCampaign(id, "Spring launch", Channel.Email,
        [new Variant("A", "Spring is here", "<p>...</p>", 50), new Variant("B", "New season, new you", "<p>...</p>", 50)], maria));
    await bus.ExecuteCampaignCommandAsync("acme", new ScheduleCampaign(id, DateTimeOffset.UtcNow.AddHours(2),
        new Audience(["newsletter", "vip"], ["unsubscribed"]), BatchSize: 1_000, maria));

    // Later, the marketer presses Cancel:
    var result = await bus.ExecuteCampaignCommandAsync("acme", new CancelCampaign(id, maria,
        new CancelReason(CancelReasonCode.WrongAudience, "Wrong segment")));
    if (result.Decision.Rejection is { } refused)
        Console.WriteLine($"{refused.Code}: {refused.Message}");   // e.g. NotCancellableSent

    Check(!result.IsRejected && result.State?.Status == CampaignStatus.Cancelled, $"getting started: cancel accepted, status {result.State?.Status}");

    // ---- step 4 ----
    var store = host.Services.GetRequiredService<IDocumentStore>();
    await using var query = store.QuerySession("acme");
    await store.WaitForReadModelsAsync(await query.LastSequenceAsync(id), TimeSpan.FromSeconds(10));

    var tab = await query.QueryCampaignsAsync(new CampaignListQuery(Status: CampaignStatus.Sending));
    var report = await query.LoadSendReportAsync(id);
    var audit = await query.QueryCancellationAuditAsync(new CancellationAuditQuery(From: DateTimeOffset.UtcNow.AddDays(-7)));
    // ---- end of the guide's program ----
    // What the guide's own queries read, after its wait: the cancel (an audit saw "Scheduling" and no audit entry when they came first).
    Check(report?.Status == CampaignStatus.Cancelled && audit.Items.Any(e => e.CampaignId == id),
        $"the guide's queries, after its wait, show the cancel: report {report?.Status}, {audit.Items.Count} audit entries");

    const string tenant = "acme";
    var provider = (MyEmailProvider)host.Services.GetRequiredService<IMessageDispatcher>();

    async Task ReadModelsShow(long sequence)
    {
        try { await store.WaitForReadModelsAsync(sequence, TimeSpan.FromSeconds(60)); }
        catch (TimeoutException e) { Check(false, e.Message); }
    }

    async Task<CampaignStatus?> WaitFor(Guid campaign, CampaignStatus wanted)
    {
        for (var deadline = DateTime.UtcNow.AddSeconds(60); ; await Task.Delay(50))
        {
            await using var q = store.QuerySession(tenant);
            var status = (await q.LoadCampaignStateAsync(campaign))?.Status;
            if (status == wanted || DateTime.UtcNow > deadline) return status;
        }
    }

    async Task Schedule(Guid campaign, string name, TimeSpan sendIn, int batchSize)
    {
        var created = await bus.ExecuteCampaignCommandAsync(tenant,
            new CreateCampaign(campaign, name, Channel.Email, [new Variant("A", "Spring is here", "<p>Hello</p>", 100)], maria));
        var scheduled = await bus.ExecuteCampaignCommandAsync(tenant,
            new ScheduleCampaign(campaign, DateTimeOffset.UtcNow + sendIn, new Audience(["everyone"], []), batchSize, maria));
        Check(!created.IsRejected && !scheduled.IsRejected, $"{name}: created and scheduled {created.Decision.Rejection?.Message}{scheduled.Decision.Rejection?.Message}");
    }

    // 1. The guide's campaign: cancelled, in the read models and the audit once they caught up.
    await using (var q = store.QuerySession(tenant))
    {
        Check((await q.LoadCampaignStateAsync(id))?.Status == CampaignStatus.Cancelled, "the stored campaign is Cancelled");
        Check((await q.LoadSendReportAsync(id))?.Status == CampaignStatus.Cancelled, "its send report reads Cancelled");
        var list = await q.QueryCampaignsAsync(new CampaignListQuery(Status: CampaignStatus.Cancelled));
        Check(list.Items.Any(c => c.Id == id && c.Name == "Spring launch"), "the Campaigns list shows it as Cancelled");
        var entries = await q.QueryCancellationAuditAsync(new CancellationAuditQuery(CampaignId: id));
        Check(entries.Items is [{ Outcome: CancelOutcome.Cancelled, ActorId: "maria@acme.example", ReasonCode: CancelReasonCode.WrongAudience }],
            $"the cancellation audit has it: {string.Join(", ", entries.Items.Select(e => e.Outcome))}");
    }

    // 2. A campaign sent by the pipeline with the fake provider; cancelling it is refused, and audited.
    var recipients = BogusAudience.AnyList(contacts: MyAudienceResolver.Contacts).Count(new Audience(["everyone"], []));
    var sent = Guid.NewGuid();
    await Schedule(sent, "Summer sale", TimeSpan.FromSeconds(3), batchSize: (int)(recipients / 4));
    Check(await WaitFor(sent, CampaignStatus.Sent) == CampaignStatus.Sent, "the pipeline started the send at its time and sent it: Sent");
    Check(provider.Fake.CallsFor(sent) == 4, $"the provider got each of the 4 batches once ({provider.Fake.CallsFor(sent)})");
    var refusal = await bus.ExecuteCampaignCommandAsync(tenant, new CancelCampaign(sent, maria, new CancelReason(CancelReasonCode.ContentError, "Typo")));
    Check(refusal.Decision.Rejection?.Code == RejectionCode.NotCancellableSent,
        $"cancel of a sent campaign refused: {refusal.Decision.Rejection?.Code} \"{refusal.Decision.Rejection?.Message}\"");
    await ReadModelsShow(refusal.Sequence);
    await using (var q = store.QuerySession(tenant))
    {
        Check((await q.LoadCampaignStateAsync(sent))?.Status == CampaignStatus.Sent, "the sent campaign is still Sent");
        var sentReport = await q.LoadSendReportAsync(sent);
        Check(sentReport?.Totals is { Delivered: var delivered, NotSent: 0 } && delivered == recipients && sentReport.Totals.PercentDelivered == 100,
            $"its send report: {sentReport?.Totals.Delivered} of {sentReport?.Totals.Recipients} delivered");
        var entries = await q.QueryCancellationAuditAsync(new CancellationAuditQuery(CampaignId: sent));
        Check(entries.Items is [{ Outcome: CancelOutcome.Rejected, RejectionCode: RejectionCode.NotCancellableSent, CampaignName: "Summer sale" }],
            "the refused cancel is in the cancellation audit");
    }

    // 3. Cancel mid-send: the provider holds the campaign's first batches until the cancel has returned.
    var midSend = Guid.NewGuid();
    provider.Hold(midSend);
    await Schedule(midSend, "Autumn sale", TimeSpan.FromSeconds(3), batchSize: (int)(recipients / 20));
    Check(await WaitFor(midSend, CampaignStatus.Sending) == CampaignStatus.Sending, "the mid-send campaign is Sending");
    for (var deadline = DateTime.UtcNow.AddSeconds(60); provider.Fake.CallsFor(midSend) == 0 && DateTime.UtcNow < deadline;) await Task.Delay(20);
    var cancelMidSend = await bus.ExecuteCampaignCommandAsync(tenant, new CancelCampaign(midSend, maria, new CancelReason(CancelReasonCode.ContentError, "Wrong price")));
    var cancelReturned = Stopwatch.GetTimestamp();
    provider.Release();
    Check(!cancelMidSend.IsRejected && cancelMidSend.State?.Status == CampaignStatus.Cancelling,
        $"cancel mid-send accepted with batches at the provider: {cancelMidSend.State?.Status}");
    Check(await WaitFor(midSend, CampaignStatus.CancelledDuringSend) == CampaignStatus.CancelledDuringSend, "the send stopped: Cancelled During Send");
    Check(provider.Fake.CallsStartedAfter(midSend, cancelReturned).Count == 0, "no provider call started after the cancel returned");
    await using (var q = store.QuerySession(tenant))
    {
        await ReadModelsShow(await q.LastSequenceAsync(midSend));
        var r = (await q.LoadSendReportAsync(midSend))!;
        var t = r.Totals;
        var handedOver = provider.Fake.CallsFor(midSend) * (recipients / 20);
        Check(r.DeliveredBeforeCancel == 0 && r.DeliveredAfterCancel == handedOver && t.Failed == 0 && t.NotSent == recipients - handedOver && t.NotSent > 0
              && t.Recipients == r.DeliveredBeforeCancel + r.DeliveredAfterCancel + t.Failed + t.NotSent,
            $"the partial-send report adds up: {r.DeliveredBeforeCancel} before, {r.DeliveredAfterCancel} after, {t.NotSent} not sent of {t.Recipients}");
        var entries = await q.QueryCancellationAuditAsync(new CancellationAuditQuery(CampaignId: midSend));
        Check(entries.Items is [{ Outcome: CancelOutcome.CancelledDuringSend, DeliveredAfter: var after, NotSent: var notSent }] && after == handedOver && notSent == t.NotSent,
            "the cancellation audit has the mid-send cancel with its counts");
    }

    await host.StopAsync();
}
finally
{
    NpgsqlConnection.ClearAllPools();
    await Sql(server, $"drop database if exists {database} with (force)");
}

Console.WriteLine(failures == 0 ? "consumer scenario passed" : $"consumer scenario failed: {failures} check(s)");
return failures == 0 ? 0 : 1;

static async Task Sql(string connectionString, string sql)
{
    await using var connection = new NpgsqlConnection(connectionString);
    await connection.OpenAsync();
    await using var command = new NpgsqlCommand(sql, connection);
    await command.ExecuteNonQueryAsync();
}

/// <summary>Your audience source (getting-started, step 3); here the Testing package's fake stands in for it.</summary>
internal sealed class MyAudienceResolver : IAudienceResolver
{
    public const int Contacts = 2_000;
    private readonly BogusAudience _contacts = BogusAudience.AnyList(contacts: Contacts);

    public ValueTask<AudiencePage> ResolvePageAsync(string tenantId, Audience audience, string? continuation, int pageSize,
        CancellationToken cancellation = default) => _contacts.ResolvePageAsync(tenantId, audience, continuation, pageSize, cancellation);
}

/// <summary>
/// Your provider (getting-started, step 3); here the Testing package's fake stands in for it. It can hold one campaign's
/// batches at the provider until released, so that a cancel comes while they are there.
/// </summary>
internal sealed class MyEmailProvider : IMessageDispatcher
{
    private Guid _held;
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public MyEmailProvider() =>
        Fake.OnDispatch = (batch, cancellation) => batch.CampaignId == _held ? new ValueTask(_released.Task.WaitAsync(cancellation)) : ValueTask.CompletedTask;

    public FakeDispatcher Fake { get; } = new();

    public void Hold(Guid campaignId) => _held = campaignId;

    public void Release() => _released.TrySetResult();

    public ValueTask<DispatchResult> DispatchAsync(DispatchRequest batch, CancellationToken cancellation = default) => Fake.DispatchAsync(batch, cancellation);
}
