using System.Collections.Concurrent;
using System.Diagnostics;
using EventSourcedCampaigns;
using EventSourcedCampaigns.Decisions;
using EventSourcedCampaigns.Marten;
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

// Throughput and cancel-to-stop latency of the send pipeline, with the zero-latency fake provider.
var connection = Environment.GetEnvironmentVariable("CAMPAIGNS_POSTGRES")
                 ?? throw new InvalidOperationException("Set CAMPAIGNS_POSTGRES (bash eng/postgres.sh start).");
const string tenant = "bench";
var schema = $"bench_{Guid.NewGuid():N}"[..20];
var clock = new ShiftedClock();
var audiences = new ConcurrentDictionary<string, BogusAudience>();
var dispatcher = new FakeDispatcher();
var actor = new Actor("bench", RequestChannel.System);

var builder = Host.CreateApplicationBuilder();
builder.Logging.ClearProviders().AddConsole().SetMinimumLevel(LogLevel.Warning);
builder.Services.AddSingleton<TimeProvider>(clock);
builder.Services.AddSingleton<IAudienceResolver>(new Directory(audiences));
builder.Services.AddSingleton<IMessageDispatcher>(dispatcher);
builder.Services.AddMarten(o =>
{
    o.Connection(connection);
    o.DatabaseSchemaName = schema;
    o.AutoCreateSchemaObjects = AutoCreate.All;
    o.AddCampaigns();
}).IntegrateWithWolverine();
builder.Services.AddWolverine(opts =>
{
    opts.Durability.Mode = DurabilityMode.Solo;
    opts.Policies.AutoApplyTransactions();
    opts.AddCampaignSending();
});
using var host = builder.Build();
await host.StartAsync();
var bus = host.Services.GetRequiredService<IMessageBus>();
var store = host.Services.GetRequiredService<IDocumentStore>();

async Task<CampaignState> StateAsync(Guid id)
{
    await using var session = store.QuerySession(tenant);
    return (await session.LoadCampaignStateAsync(id))!;
}

async Task<CampaignState> WaitAsync(Guid id, Func<CampaignState, bool> until)
{
    while (true)
    {
        var state = await StateAsync(id);
        if (until(state)) return state;
        await Task.Delay(10);
    }
}

async Task<Guid> ScheduledAsync(int batches, int batchSize = 1_000)
{
    var id = Guid.NewGuid();
    var list = "list-" + id.ToString("N");
    audiences[list] = new BogusAudience(1, (long)batches * batchSize, new Dictionary<string, double> { [list] = 1.0 });
    await bus.ExecuteCampaignCommandAsync(tenant, new CreateCampaign(id, "Bench", Channel.Email, [new Variant("A", "s", "c", 100)], actor));
    await bus.ExecuteCampaignCommandAsync(tenant, new ScheduleCampaign(id, clock.GetUtcNow().AddDays(1), Audience.Of(list), batchSize, actor));
    await WaitAsync(id, s => s.Status == CampaignStatus.Scheduled);
    return id;
}

async Task<Guid[]> ReadyAsync(int campaigns, int batches)
{
    var ids = new List<Guid>();
    foreach (var chunk in Enumerable.Range(0, campaigns).Chunk(4)) ids.AddRange(await Task.WhenAll(chunk.Select(_ => ScheduledAsync(batches))));
    clock.Advance(TimeSpan.FromDays(1));
    return ids.ToArray();
}

async Task SendAsync(string label, int campaigns, int batches)
{
    var ids = await ReadyAsync(campaigns, batches);
    var watch = Stopwatch.StartNew();
    await Task.WhenAll(ids.Select(id => bus.ExecuteCampaignCommandAsync(tenant, new StartSend(id))));
    await Task.WhenAll(ids.Select(id => WaitAsync(id, s => s.Status == CampaignStatus.Sent)));
    var seconds = watch.Elapsed.TotalSeconds;
    var total = campaigns * batches;
    Console.WriteLine($"{label}: {total:N0} batches of 1,000 in {seconds:0.00} s = {total / seconds:N0} batches/s, {total * 1_000 / seconds:N0} recipients/s");
}

// Warm-up (code generation, connection pool).
await SendAsync("warm-up", 2, 10);

var scheduleWatch = Stopwatch.StartNew();
var big = await ScheduledAsync(200);
Console.WriteLine($"scheduling 200,000 recipients into 200 batches: {scheduleWatch.Elapsed.TotalSeconds:0.00} s");
clock.Advance(TimeSpan.FromDays(1));
var one = Stopwatch.StartNew();
await bus.ExecuteCampaignCommandAsync(tenant, new StartSend(big));
await WaitAsync(big, s => s.Status == CampaignStatus.Sent);
Console.WriteLine($"1 campaign (4 batches in flight): 200 batches of 1,000 in {one.Elapsed.TotalSeconds:0.00} s = {200 / one.Elapsed.TotalSeconds:N0} batches/s, {200_000 / one.Elapsed.TotalSeconds:N0} recipients/s");

await SendAsync("16 concurrent campaigns", 16, 50);

// Cancel-to-stop under load: 16 campaigns sending, each cancelled at a random moment of its send.
var random = new Random(1);
var stops = new List<TimeSpan>();
var commits = new List<TimeSpan>();
for (var round = 0; round < 4; round++)
{
    var ids = await ReadyAsync(16, 60);
    await Task.WhenAll(ids.Select(id => bus.ExecuteCampaignCommandAsync(tenant, new StartSend(id))));
    var results = await Task.WhenAll(ids.Select(async id =>
    {
        await Task.Delay(random.Next(50, 1_500));
        var watch = Stopwatch.StartNew();
        var result = await bus.ExecuteCampaignCommandAsync(tenant, new CancelCampaign(id, actor, new CancelReason(CancelReasonCode.Other)));
        var committed = watch.Elapsed;
        var final = await WaitAsync(id, s => s.IsFinished);
        return (result, committed, final);
    }));
    foreach (var (result, committed, final) in results)
        if (final.Phase is CampaignPhase.CancelledDuringSend)
        {
            commits.Add(committed);
            await using var session = store.QuerySession(tenant);
            var events = await session.Events.FetchStreamAsync(final.Id);
            stops.Add(events.Select(e => e.Data).OfType<CancelledDuringSend>().Single().TimeToStop);
        }
}
stops.Sort();
commits.Sort();
TimeSpan P(List<TimeSpan> xs, double p) => xs[Math.Min(xs.Count - 1, (int)Math.Ceiling(p * xs.Count) - 1)];
Console.WriteLine($"cancel under load (16 campaigns sending, {stops.Count} mid-send cancels): request committed in p50 {P(commits, 0.5).TotalMilliseconds:0} ms / p99 {P(commits, 0.99).TotalMilliseconds:0} ms; " +
                  $"cancel-to-stop (commit -> CancelledDuringSend) p50 {P(stops, 0.5).TotalMilliseconds:0} ms / p99 {P(stops, 0.99).TotalMilliseconds:0} ms");
await host.StopAsync();

sealed class ShiftedClock : TimeProvider
{
    private long _offset;
    public override DateTimeOffset GetUtcNow() => System.GetUtcNow().AddTicks(Interlocked.Read(ref _offset));
    public void Advance(TimeSpan by) => Interlocked.Add(ref _offset, by.Ticks);
}

sealed class Directory(ConcurrentDictionary<string, BogusAudience> audiences) : IAudienceResolver
{
    public ValueTask<AudiencePage> ResolvePageAsync(Audience audience, string? continuation, int pageSize, CancellationToken cancellation = default) =>
        audiences[audience.Included[0]].ResolvePageAsync(audience, continuation, pageSize, cancellation);
}
