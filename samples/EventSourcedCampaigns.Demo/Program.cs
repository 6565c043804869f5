using EventSourcedCampaigns;
using EventSourcedCampaigns.Demo;
using EventSourcedCampaigns.Marten;
using EventSourcedCampaigns.Ports;
using EventSourcedCampaigns.Smtp;
using EventSourcedCampaigns.Testing;
using EventSourcedCampaigns.Wolverine;
using JasperFx.Events.Daemon;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Spectre.Console;
using Wolverine;
using Wolverine.Marten;

DemoOptions options;
try { options = DemoOptions.Parse(args); }
catch (ArgumentException ex)
{
    AnsiConsole.MarkupLine($"[red]{Markup.Escape(ex.Message)}[/]");
    Console.WriteLine(DemoOptions.Usage);
    return 2;
}
var connection = Environment.GetEnvironmentVariable("CAMPAIGNS_POSTGRES")
    ?? throw new InvalidOperationException("Set CAMPAIGNS_POSTGRES (bash eng/demo.sh does).");

// A made-up contact base sized so the large audience (three lists, minus the unsubscribed) is about --audience.
var contacts = (long)Math.Ceiling(options.Audience / ((1 - 0.4 * 0.7 * 0.6) * 0.95));
var audiences = new BogusAudience(seed: 2026, contacts, new Dictionary<string, double>
{
    ["newsletter"] = 0.6, ["vip"] = 0.3, ["recent-buyers"] = 0.4, ["unsubscribed"] = 0.05,
    ["weekly-digest"] = Math.Min(1.0, options.SendAudience / (double)contacts),
    ["order-updates"] = Math.Min(1.0, 5_000.0 / contacts),
});
var fake = new FakeDispatcher(new FakeDispatcherOptions(
    Latency: TimeSpan.FromMilliseconds(options.LatencyMs), Jitter: TimeSpan.FromMilliseconds(options.LatencyMs / 2.0),
    RecipientFailureRate: 0.002, Seed: 7));

// The capturing SMTP server that eng/demo.sh started (eng/smtp.sh): its folder holds its port and what it received.
var smtpFolder = Environment.GetEnvironmentVariable("CAMPAIGNS_SMTP_DIR")
    ?? throw new InvalidOperationException("Set CAMPAIGNS_SMTP_DIR to the folder of a server started by eng/smtp.sh (bash eng/demo.sh does).");
var smtpPort = int.Parse(File.ReadAllText(Path.Combine(smtpFolder, "port")).Trim(), System.Globalization.CultureInfo.InvariantCulture);
CapturedMail.Clear(smtpFolder);
await using var smtp = new SmtpDispatcher(new SmtpDispatcherOptions
{
    Host = "127.0.0.1", Port = smtpPort, Security = SmtpSecurity.None, // the local capturing server: no TLS, no AUTH
    FromAddress = "news@acme.example", FromName = "Acme Shop", MaxConnections = 4, LocalDomain = "demo.acme.example",
});
var dispatcher = new DemoDispatcher(smtp, fake);

await using (var conn = new NpgsqlConnection(connection))
{
    await conn.OpenAsync();
    await new NpgsqlCommand($"drop schema if exists {options.Schema} cascade", conn).ExecuteNonQueryAsync();
}

var builder = Host.CreateApplicationBuilder();
// Commands racing on one campaign (claims against the cancel) lose optimistic-concurrency checks by design and
// Wolverine retries them; their error logs would bury the demo's own output, which checks every outcome.
builder.Logging.SetMinimumLevel(LogLevel.Critical);
builder.Services.AddSingleton<IAudienceResolver>(audiences);
builder.Services.AddSingleton<IMessageDispatcher>(dispatcher);
builder.Services.AddMarten((StoreOptions o) =>
    {
        o.Connection(CampaignConnectionStrings.WithAutoPrepare(connection)); // prepared statements, as the service connects
        o.DatabaseSchemaName = options.Schema;
        o.AddCampaigns();
    })
    .AddAsyncDaemon(DaemonMode.Solo)
    .ApplyAllDatabaseChangesOnStartup()
    .IntegrateWithWolverine(w => w.MessageStorageSchemaName = options.Schema);
builder.Services.AddWolverine(opts =>
{
    opts.Durability.Mode = DurabilityMode.Solo;
    opts.Durability.ScheduledJobPollingTime = TimeSpan.FromMilliseconds(250);
    opts.Policies.AutoApplyTransactions();
    opts.AddCampaignSending(s => s.WithBatchesInFlightPerCampaign(options.Parallelism));
});

using var host = builder.Build();
await host.StartAsync();
var demo = new Demo(host.Services.GetRequiredService<IMessageBus>(), host.Services.GetRequiredService<IDocumentStore>(), audiences, options,
    dispatcher, new SmtpTarget(smtpFolder, smtpPort, smtp));
var failures = await demo.RunAsync();
await host.StopAsync();
return failures == 0 ? 0 : 1;
