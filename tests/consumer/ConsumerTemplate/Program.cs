// A consumer of the packed EventSourcedCampaigns packages: the cancel scenario against a real PostgreSQL
// (CAMPAIGNS_POSTGRES), through the packages' public API only, in a Marten + Wolverine host as an application runs it. Prints one line per check and exits 0 when
// every check holds, 1 when one fails, 2 when it cannot run.
using EventSourcedCampaigns;
using EventSourcedCampaigns.Decisions;
using EventSourcedCampaigns.Marten;
using EventSourcedCampaigns.Marten.ReadModels;
using EventSourcedCampaigns.Ports;
using EventSourcedCampaigns.Testing;
using EventSourcedCampaigns.Wolverine;
using JasperFx;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Wolverine;
using Wolverine.Marten;

var connection = Environment.GetEnvironmentVariable("CAMPAIGNS_POSTGRES");
if (string.IsNullOrWhiteSpace(connection))
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

var schema = $"consumer_{Guid.NewGuid():N}"[..30];
const string tenant = "consumer";
var marketer = new Actor("marketer@shop.example", RequestChannel.User);
var audience = new Audience(["everyone"], []);
// The Testing package's fake audience and provider stand in for real ones.
var contacts = BogusAudience.Everyone(contacts: 2_000, seed: 7);
var recipients = contacts.Count(audience);
Check(recipients == 2_000, $"the Bogus audience counts {recipients} recipients");
var dispatcher = new FakeDispatcher();

// The host every application builds: Marten with AddCampaigns, Wolverine with AddCampaignSending; commands go
// through the bus (the one command door), the read models are built inline here (no daemon in this process).
var builder = Host.CreateApplicationBuilder();
builder.Logging.ClearProviders();
builder.Services.AddSingleton<IAudienceResolver>(contacts);
builder.Services.AddSingleton<IMessageDispatcher>(dispatcher);
builder.Services.AddMarten(opts =>
    {
        opts.Connection(CampaignConnectionStrings.WithAutoPrepare(connection));
        opts.DatabaseSchemaName = schema;
        opts.AutoCreateSchemaObjects = AutoCreate.All;
        opts.AddCampaigns(c => c.ReadModelsInline());
    })
    .ApplyAllDatabaseChangesOnStartup()
    .IntegrateWithWolverine(w => w.MessageStorageSchemaName = schema);
builder.Services.AddWolverine(opts =>
{
    opts.Durability.Mode = DurabilityMode.Solo;
    opts.Policies.AutoApplyTransactions();
    opts.AddCampaignSending(s => s.WithBatchesInFlightPerCampaign(2));
});
using var host = builder.Build();
await host.StartAsync();
var bus = host.Services.GetRequiredService<IMessageBus>();
var store = host.Services.GetRequiredService<IDocumentStore>();

Task<CommandResult> Run(CampaignCommand command) => bus.ExecuteCampaignCommandAsync(tenant, command);

async Task Accepted(CampaignCommand command)
{
    var result = await Run(command);
    if (result.Decision.Rejection is { } r) throw new CampaignRejectedException(r);
}

async Task<CampaignStatus?> WaitFor(Guid id, Func<CampaignStatus?, bool> done)
{
    for (var deadline = DateTime.UtcNow.AddSeconds(60); ; await Task.Delay(50))
    {
        await using var query = store.QuerySession(tenant);
        var status = (await query.LoadCampaignStateAsync(id))?.Status;
        if (done(status) || DateTime.UtcNow > deadline) return status;
    }
}

async Task<Guid> ScheduledCampaign(string name, DateTimeOffset sendAt, int batches)
{
    var id = Guid.NewGuid();
    await Accepted(new CreateCampaign(id, name, Channel.Email, [new Variant("A", "Spring is here", "<p>Hello</p>", 100)], marketer));
    await Accepted(new ScheduleCampaign(id, sendAt, audience, BatchSize: (int)(recipients / batches), marketer));
    return id;
}

// 1. A scheduled campaign is cancelled before its send time.
var scheduled = await ScheduledCampaign("Spring launch", DateTimeOffset.UtcNow.AddHours(2), batches: 2);
Check(await WaitFor(scheduled, s => s == CampaignStatus.Scheduled) == CampaignStatus.Scheduled, "the pipeline prepared the audience: Scheduled");
var cancel = await Run(new CancelCampaign(scheduled, marketer, new CancelReason(CancelReasonCode.WrongAudience, "Wrong segment")));
Check(!cancel.IsRejected && cancel.State?.Status == CampaignStatus.Cancelled, $"cancel accepted, status {cancel.State?.Status}");
await using (var query = store.QuerySession(tenant))
{
    Check((await query.LoadCampaignStateAsync(scheduled))?.Status == CampaignStatus.Cancelled, "the stored campaign is Cancelled");
    var list = await query.QueryCampaignsAsync(new CampaignListQuery(Status: CampaignStatus.Cancelled));
    Check(list.Items.Any(c => c.Id == scheduled), "the Campaigns list shows it as Cancelled");
}

// 2. A fully sent campaign cannot be cancelled; the refusal is audited.
var sent = await ScheduledCampaign("Summer sale", DateTimeOffset.UtcNow.AddSeconds(3), batches: 4);
Check(await WaitFor(sent, s => s == CampaignStatus.Sent) == CampaignStatus.Sent, "the pipeline started the send at its time and sent it: Sent");
Check(dispatcher.AcceptedBatches == 4, $"the provider got each of the 4 batches once ({dispatcher.AcceptedBatches})");
var refused = await Run(new CancelCampaign(sent, marketer, new CancelReason(CancelReasonCode.ContentError, "Typo")));
Check(refused.Decision.Rejection?.Code == RejectionCode.NotCancellableSent,
    $"cancel of a sent campaign refused: {refused.Decision.Rejection?.Code} \"{refused.Decision.Rejection?.Message}\"");
await using (var query = store.QuerySession(tenant))
{
    Check((await query.LoadCampaignStateAsync(sent))?.Status == CampaignStatus.Sent, "the sent campaign is still Sent");
    var audit = await query.QueryCancellationAuditAsync(new CancellationAuditQuery(CampaignId: sent));
    Check(audit.Items is [{ Outcome: CancelOutcome.Rejected, RejectionCode: RejectionCode.NotCancellableSent }],
        "the refused cancel is in the cancellation audit");
}

await host.StopAsync();

await using (var conn = new Npgsql.NpgsqlConnection(connection))
{
    await conn.OpenAsync();
    await using var drop = new Npgsql.NpgsqlCommand($"drop schema if exists {schema} cascade", conn);
    await drop.ExecuteNonQueryAsync();
}

Console.WriteLine(failures == 0 ? "consumer scenario passed" : $"consumer scenario failed: {failures} check(s)");
return failures == 0 ? 0 : 1;
