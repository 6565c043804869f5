using System.Diagnostics;
using System.Net;
using System.Text.Json;
using EventSourcedCampaigns.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Xunit.Abstractions;
using static EventSourcedCampaigns.Service.Tests.CampaignApi;

namespace EventSourcedCampaigns.Service.Tests;

/// <summary>
/// Two nodes on one schema: the API and the read models in process (Roles=Api,Projections), the send pipeline in a
/// separate service process (Roles=Sender) whose clock runs 2 s ahead. A cancel over HTTP lands while the other node
/// sends.
/// </summary>
[Collection("in-process host")] // the campaign meter is process-wide (see the_campaign_metrics)
public sealed class cancelling_while_another_node_sends(ITestOutputHelper output)
{
    private const int Contacts = 30_000, BatchSize = 100;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task the_cancel_is_accepted_and_the_counts_add_up_in_the_report_and_the_events()
    {
        var schema = TestDatabase.UniqueSchema("cancel2n");
        await using var factory = new ServiceFactory().WithWebHostBuilder(web =>
        {
            web.UseSetting("Campaigns:ConnectionString", TestDatabase.ConnectionString);
            web.UseSetting("Campaigns:Schema", schema);
            web.TrustTestTokens();
            web.UseSetting("Campaigns:Roles", "Api,Projections");
            web.UseSetting("Campaigns:DaemonMode", "Solo");
        });
        var client = factory.CreateClient(); // starts the API node, which creates the schema (events, documents, Wolverine's tables)
        client.SignedIn("shop-a");
        var api = new CampaignApi(client);

        await using var sender = await WorkerProcess.StartAsync(schema, new Dictionary<string, string>
        {
            ["Campaigns:Roles"] = "Sender",
            ["Campaigns:ClockOffset"] = "00:00:02",
            ["Campaigns:Sending:BatchesInFlightPerCampaign"] = "8",
            ["Campaigns:Local:Contacts"] = Contacts.ToString(),
            // The sender is another process: its provider cannot be held from here. 200-300 ms a call keeps the 300 batches
            // (8 in flight) Sending for at least 7.5 s whatever the machine's speed, while the cancel follows the third
            // delivered batch within a poll (50 ms) and an HTTP call; the test cancels early, so this costs it only ~0.5 s.
            ["Campaigns:Local:Latency"] = "00:00:00.200",
        });
        try
        {
            var watch = Stopwatch.StartNew();
            var id = (await api.CreateAsync("Flash sale")).CampaignId;
            var sendAt = DateTimeOffset.UtcNow.AddSeconds(4);
            var scheduled = await api.ScheduleAsync(id, sendAt, "everyone", BatchSize);
            Assert.Equal("Scheduling", scheduled.Status);

            // Sending: the sender node has recorded some batches (the events are written synchronously; the read
            // models follow).
            IReadOnlyList<JsonElement> events;
            while (CountOf(events = await api.EventsAsync(id), "campaign_batch_delivered") < 3)
            {
                Assert.True(watch.Elapsed < Patience, $"Not sending after {Patience.TotalSeconds} s: {Summary(events)}. Sender output:\n{sender.RecentOutput}");
                Assert.False(events.Any(e => Type(e) == "campaign_send_completed"), "the campaign was fully sent before it could be cancelled");
                await Task.Delay(50);
            }
            output.WriteLine($"sending after {watch.Elapsed.TotalSeconds:N1} s: {Summary(events)}");

            var cancel = await api.CancelRawAsync(id, "ContentError", "typo in the subject");
            var accepted = await AcceptedAsync(cancel, HttpStatusCode.OK, "cancel mid-send"); // never 400 TimeWentBackwards, never 409
            Assert.Contains(accepted.Status, new[] { "Cancelling", "CancelledDuringSend" });
            Assert.True(accepted.Events >= 1);
            var atCancel = await api.ReportAsync(id, accepted.Sequence);
            Assert.Contains(Status(atCancel), new[] { "Cancelling", "CancelledDuringSend" });

            var report = await api.WaitForReportAsync(id, r => Status(r) == "CancelledDuringSend", Patience, "Cancelled During Send",
                seen: AssertTotalsAddUp);
            events = await api.EventsAsync(id);
            output.WriteLine($"cancelled during send after {watch.Elapsed.TotalSeconds:N1} s: {Summary(events)}");
            var lastSequence = events[^1].GetProperty("sequence").GetInt64();
            report = await api.ReportAsync(id, lastSequence);

            // The report adds up...
            AssertTotalsAddUp(report);
            var before = report.GetProperty("deliveredBeforeCancel").GetInt64();
            var after = report.GetProperty("deliveredAfterCancel").GetInt64();
            Assert.Equal(Contacts, Count(report, "recipients"));
            Assert.Equal(0, Count(report, "inFlight"));
            Assert.Equal(Count(report, "delivered"), before + after);
            Assert.Equal(Contacts, before + after + Count(report, "failed") + Count(report, "notSent"));
            Assert.True(Count(report, "notSent") > 0, "nothing was left unsent: the cancel came too late to mean anything");

            // ... and says what the events say.
            var (delivered, failed, released, deliveredAfter) = AssertBatchesRecordedOnce(events);
            var claimedRecipients = events.Where(e => Type(e) == "campaign_batch_claimed").Sum(e => (long)e.GetProperty("data").GetProperty("recipients").GetInt32());
            Assert.Equal((delivered, failed, after), (Count(report, "delivered"), Count(report, "failed"), deliveredAfter));
            Assert.Equal(Contacts - claimedRecipients + released, Count(report, "notSent"));
            var stopped = events.Single(e => Type(e) == "campaign_cancelled_during_send").GetProperty("data");
            Assert.Equal((before, after, Count(report, "failed"), Count(report, "notSent")),
                (stopped.GetProperty("deliveredBeforeRequest").GetInt64(), stopped.GetProperty("deliveredAfterRequest").GetInt64(),
                 stopped.GetProperty("failed").GetInt64(), stopped.GetProperty("notSent").GetInt64()));
            Assert.Equal("campaign_cancelled_during_send", Type(events[^1]));
            var requested = events.Single(e => Type(e) == "campaign_cancel_requested");
            Assert.DoesNotContain(events.SkipWhile(e => e.GetProperty("sequence").GetInt64() <= requested.GetProperty("sequence").GetInt64()),
                e => Type(e) == "campaign_batch_claimed"); // no claim after the cancel committed
            Assert.Equal(0, CountOf(events, "campaign_cancel_rejected"));

            var audit = await api.GetAsync($"/api/audit/cancellations?campaignId={id}&afterSequence={lastSequence}");
            var entry = audit.GetProperty("items").EnumerateArray().Single();
            Assert.Equal("CancelledDuringSend", entry.GetProperty("outcome").GetString());
            Assert.Equal(Count(report, "notSent"), entry.GetProperty("notSent").GetInt64());
            output.WriteLine($"{before:N0} delivered before the cancel, {after:N0} after, {Count(report, "failed"):N0} failed, " +
                             $"{Count(report, "notSent"):N0} not sent ({released:N0} of them released after their claim)");
        }
        catch (Exception) when (WriteSenderOutput(sender))
        {
            throw;
        }
    }

    private bool WriteSenderOutput(WorkerProcess sender)
    {
        output.WriteLine($"sender output:\n{sender.RecentOutput}");
        return false;
    }

    private static string Summary(IReadOnlyList<JsonElement> events) =>
        string.Join(", ", events.GroupBy(Type).Select(g => $"{g.Key.Replace("campaign_", "")} ×{g.Count()}"));
}
