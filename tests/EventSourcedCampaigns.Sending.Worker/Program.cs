global using EventSourcedCampaigns.Decisions;
global using EventSourcedCampaigns.Marten;
global using EventSourcedCampaigns.Ports;
global using EventSourcedCampaigns.Testing;
global using EventSourcedCampaigns.Wolverine;
global using EventSourcedCampaigns.IntegrationTests.Infrastructure;
using EventSourcedCampaigns.Sending.Tests.Infrastructure;

// Usage: EventSourcedCampaigns.Sending.Worker <schema> <provider latency ms> <batches in flight per campaign> <provider calls answered>
// Runs one sending node on the schema until it is killed; prints "ready" once it processes messages. The provider answers
// only the first calls and then hangs, so the node is always killed mid-send however fast the machine is.
if (args.Length != 4 || !int.TryParse(args[1], out var latencyMs) || !int.TryParse(args[2], out var lanes)
    || !int.TryParse(args[3], out var answered))
{
    Console.Error.WriteLine("usage: EventSourcedCampaigns.Sending.Worker <schema> <latency-ms> <lanes> <calls-answered>");
    return 2;
}
var dispatcher = new FakeDispatcher(new FakeDispatcherOptions(Latency: TimeSpan.FromMilliseconds(latencyMs)));
dispatcher.OnDispatch = async (_, cancellation) =>
{
    if (dispatcher.Calls > answered) await Task.Delay(Timeout.Infinite, cancellation);
};
await using var node = await SendingHost.StartAsync(dispatcher, o => o.WithBatchesInFlightPerCampaign(lanes), schema: args[0]);
Console.WriteLine("ready");
await Task.Delay(Timeout.Infinite);
return 0;
