// A consumer of the packed EventSourcedCampaigns packages: the cancel scenario against a real PostgreSQL
// (CAMPAIGNS_POSTGRES), through the packages' public API only. Prints one line per check and exits 0 when
// every check holds, 1 when one fails, 2 when it cannot run.
using EventSourcedCampaigns;
using EventSourcedCampaigns.Decisions;
using EventSourcedCampaigns.Marten;
using EventSourcedCampaigns.Marten.ReadModels;
using EventSourcedCampaigns.Testing;
using EventSourcedCampaigns.Wolverine;
using JasperFx;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Wolverine;

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
             typeof(CampaignSendingExtensions).Assembly, typeof(BogusAudience).Assembly })
    Console.WriteLine($"assembly {assembly.GetName().Name} mvid {assembly.ManifestModule.ModuleVersionId}");

var schema = $"consumer_{Guid.NewGuid():N}"[..30];
await using var store = DocumentStore.For(opts =>
{
    opts.Connection(connection);
    opts.DatabaseSchemaName = schema;
    opts.AutoCreateSchemaObjects = AutoCreate.All;
    opts.AddCampaigns(c => c.ReadModelsInline());
});
await store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();

const string tenant = "consumer";
var marketer = new Actor("marketer@shop.example", RequestChannel.User);
var now = new DateTimeOffset(2026, 3, 2, 9, 0, 0, TimeSpan.Zero);
var sendAt = now.AddHours(2);
var audience = new Audience(["everyone"], []);
// The Testing package's fake audience sizes the campaigns.
var recipients = BogusAudience.Everyone(contacts: 2_000, seed: 7).Count(audience);
Check(recipients == 2_000, $"the Bogus audience counts {recipients} recipients");

async Task<CommandResult> Run(CampaignCommand command)
{
    now = now.AddSeconds(1);
    await using var session = store.LightweightSession(tenant);
    return await session.HandleAsync(command, now);
}

async Task Accepted(CampaignCommand command)
{
    var result = await Run(command);
    if (result.Decision.Rejection is { } r) throw new CampaignRejectedException(r);
}

async Task<Guid> ScheduledCampaign(string name, int batches)
{
    var id = Guid.NewGuid();
    await Accepted(new CreateCampaign(id, name, Channel.Email, [new Variant("A", "Spring is here", "<p>Hello</p>", 100)], marketer));
    await Accepted(new ScheduleCampaign(id, sendAt, audience, BatchSize: (int)(recipients / batches), marketer));
    await Accepted(new CompleteScheduling(id, recipients, batches, [new VariantShare("A", recipients)]));
    return id;
}

// 1. A scheduled campaign is cancelled before its send time.
var scheduled = await ScheduledCampaign("Spring launch", batches: 2);
await using (var query = store.QuerySession(tenant))
    Check((await query.LoadCampaignStateAsync(scheduled))?.Status == CampaignStatus.Scheduled, "the campaign is Scheduled");
var cancel = await Run(new CancelCampaign(scheduled, marketer, new CancelReason(CancelReasonCode.WrongAudience, "Wrong segment")));
Check(!cancel.IsRejected && cancel.State?.Status == CampaignStatus.Cancelled, $"cancel accepted, status {cancel.State?.Status}");
await using (var query = store.QuerySession(tenant))
{
    Check((await query.LoadCampaignStateAsync(scheduled))?.Status == CampaignStatus.Cancelled, "the stored campaign is Cancelled");
    var list = await query.QueryCampaignsAsync(new CampaignListQuery(Status: CampaignStatus.Cancelled));
    Check(list.Items.Any(c => c.Id == scheduled), "the Campaigns list shows it as Cancelled");
}

// 2. A fully sent campaign cannot be cancelled; the refusal is audited.
var sent = await ScheduledCampaign("Summer sale", batches: 1);
now = sendAt;
await Accepted(new StartSend(sent));
await Accepted(new ClaimBatch(sent, 1, "A", (int)recipients));
await Accepted(new RecordBatchDelivery(sent, 1, (int)recipients, 0));
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

// 3. The Wolverine package registers its send pipeline (handlers run in a host with a code generator).
var wolverine = new WolverineOptions();
wolverine.AddCampaignSending(s => s.WithBatchesInFlightPerCampaign(2));
Check(wolverine.Services.Any(d => d.ServiceType == typeof(CampaignSendingOptions)), "AddCampaignSending registers the send pipeline");

await using (var conn = new Npgsql.NpgsqlConnection(connection))
{
    await conn.OpenAsync();
    await using var drop = new Npgsql.NpgsqlCommand($"drop schema if exists {schema} cascade", conn);
    await drop.ExecuteNonQueryAsync();
}

Console.WriteLine(failures == 0 ? "consumer scenario passed" : $"consumer scenario failed: {failures} check(s)");
return failures == 0 ? 0 : 1;
