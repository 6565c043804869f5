global using EventSourcedCampaigns.Decisions;
global using EventSourcedCampaigns.Marten;
global using EventSourcedCampaigns.Ports;
global using EventSourcedCampaigns.Testing;
global using EventSourcedCampaigns.Wolverine;
global using EventSourcedCampaigns.IntegrationTests.Infrastructure;
using EventSourcedCampaigns.Sending.Tests.Infrastructure;

// Usage: EventSourcedCampaigns.Sending.Worker <schema> <provider latency ms> <batches in flight per campaign>
// Runs one sending node on the schema until it is killed; prints "ready" once it processes messages.
if (args.Length != 3 || !int.TryParse(args[1], out var latencyMs) || !int.TryParse(args[2], out var lanes))
{
    Console.Error.WriteLine("usage: EventSourcedCampaigns.Sending.Worker <schema> <latency-ms> <lanes>");
    return 2;
}
var dispatcher = new FakeDispatcher(new FakeDispatcherOptions(Latency: TimeSpan.FromMilliseconds(latencyMs)));
await using var node = await SendingHost.StartAsync(dispatcher, o => o.WithBatchesInFlightPerCampaign(lanes), schema: args[0]);
Console.WriteLine("ready");
await Task.Delay(Timeout.Infinite);
return 0;
