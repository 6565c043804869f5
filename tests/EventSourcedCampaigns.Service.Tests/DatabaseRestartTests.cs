using System.Diagnostics;
using System.Net;
using System.Text.Json;
using EventSourcedCampaigns.IntegrationTests.Infrastructure;
using EventSourcedCampaigns.Marten;
using Marten;
using Xunit.Abstractions;
using static EventSourcedCampaigns.Service.Tests.CampaignApi;

namespace EventSourcedCampaigns.Service.Tests;

/// <summary>
/// PostgreSQL crash-restarted (pg_ctl restart -m immediate) under a real service process, once while a campaign's
/// audience is being prepared and once while another campaign sends: both finish, every batch counted once, and
/// the read models equal a rebuild from the events. Runs on a private cluster of its own.
/// </summary>
[Collection("workers")] // one multi-process test at a time: they share two cores
public sealed class postgres_restarting(ITestOutputHelper output)
{
    private const int Contacts = 200_000;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task mid_scheduling_and_mid_send_every_campaign_still_finishes_with_exact_counts()
    {
        var watch = Stopwatch.StartNew();
        await using var cluster = await PrivateCluster.StartAsync();
        var schema = TestDatabase.UniqueSchema("pgrestart");
        var service = await WorkerProcess.StartAsync(schema, new Dictionary<string, string>
        {
            ["Campaigns:ApplySchemaOnStartup"] = "true",
            ["Campaigns:Local:Contacts"] = Contacts.ToString(),
            ["Campaigns:Local:Latency"] = "00:00:00.020",
            ["Campaigns:Sending:ReconcileInterval"] = "00:00:05",
            // A step whose message Wolverine could not reschedule while the database was down is left to the
            // reconciler: a claim with no result after this long is recorded as failed, and its lane goes on.
            ["Campaigns:Sending:ClaimTimeout"] = "00:00:30",
        }, cluster.ConnectionString);
        try
        {
            using var http = service.Client("shop-a");
            var api = new CampaignApi(http);
            output.WriteLine($"cluster and service up after {watch.Elapsed.TotalSeconds:N1} s");

            // (a) A large audience (200,000 contacts, batches of 500: 40 pages) is being prepared: restart.
            var a = (await api.CreateAsync("Big audience")).CampaignId;
            await api.ScheduleAsync(a, DateTimeOffset.UtcNow.AddSeconds(5), "everyone", batchSize: 500);
            var seen = await WaitForEventsAsync(api, a, e => CountOf(e, "campaign_scheduling_progressed") >= 2 || Has(e, "campaign_scheduling_completed"),
                "scheduling progress", service);
            Assert.False(Has(seen, "campaign_scheduling_completed"), "scheduling finished before the restart: the audience is too small to restart mid-scheduling");
            await cluster.RestartAsync();
            output.WriteLine($"restarted PostgreSQL mid-scheduling after {CountOf(seen, "campaign_scheduling_progressed")} pages ({watch.Elapsed.TotalSeconds:N1} s)");

            // (b) Another campaign sends (batches of 2,000: 100 batches): restart.
            var b = (await RetryAsync(() => api.CreateAsync("Newsletter"), "create after the restart")).CampaignId;
            await RetryAsync(() => api.ScheduleAsync(b, DateTimeOffset.UtcNow.AddSeconds(3), "everyone", batchSize: 2_000), "schedule after the restart");
            seen = await WaitForEventsAsync(api, b, e => CountOf(e, "campaign_batch_delivered") >= 3 || Has(e, "campaign_send_completed"), "sending", service);
            Assert.False(Has(seen, "campaign_send_completed"), "the send finished before the restart: it is too short to restart mid-send");
            await cluster.RestartAsync();
            output.WriteLine($"restarted PostgreSQL mid-send after {CountOf(seen, "campaign_batch_delivered")} batches ({watch.Elapsed.TotalSeconds:N1} s)");

            // Both finish, with exact counts.
            var reports = new Dictionary<Guid, JsonElement>();
            foreach (var (id, batchSize) in new[] { (a, 500), (b, 2_000) })
            {
                var events = await WaitForEventsAsync(api, id, e => Has(e, "campaign_send_completed"), "Sent", service);
                var completed = events.Single(e => Type(e) == "campaign_scheduling_completed").GetProperty("data");
                Assert.Equal(Contacts, completed.GetProperty("recipients").GetInt64());
                Assert.Equal(Contacts / batchSize, completed.GetProperty("batches").GetInt32());
                var prepared = events.Where(e => Type(e) == "campaign_scheduling_progressed")
                    .Select(e => e.GetProperty("data").GetProperty("recipientsPrepared").GetInt64()).ToArray();
                Assert.Equal(prepared.Order().Distinct(), prepared); // no page prepared twice
                Assert.Equal(Contacts, prepared[^1]);

                var (delivered, failed, released, _) = AssertBatchesRecordedOnce(events);
                Assert.Equal(Contacts / batchSize, Batches(events, "campaign_batch_claimed").Length);
                Assert.Equal(0, released);
                Assert.Equal(Contacts, delivered + failed);
                var sent = events.Single(e => Type(e) == "campaign_send_completed").GetProperty("data");
                Assert.Equal((delivered, failed), (sent.GetProperty("delivered").GetInt64(), sent.GetProperty("failed").GetInt64()));

                // The read models (once caught up with the last event) say what the events say.
                var report = await RetryAsync(() => api.ReportAsync(id, events[^1].GetProperty("sequence").GetInt64()), "the report after Sent");
                Assert.Equal("Sent", Status(report));
                AssertTotalsAddUp(report);
                Assert.Equal((Contacts, delivered, failed, 0L, 0L),
                    (Count(report, "recipients"), Count(report, "delivered"), Count(report, "failed"), Count(report, "inFlight"), Count(report, "notSent")));
                reports[id] = report;
                output.WriteLine($"campaign {id}: {delivered:N0} delivered, {failed:N0} failed in {Contacts / batchSize} batches");
            }
            await service.StopAsync();

            // The live read models equal a rebuild from the events alone.
            await using var store = DocumentStore.For(opts =>
            {
                opts.Connection(cluster.ConnectionString);
                opts.DatabaseSchemaName = schema;
                opts.AddCampaigns();
            });
            var live = await ReadModelSnapshot.TakeAsync(store);
            Assert.Equal(2, ReadModelSnapshot.CampaignCount(live));
            await ReadModelSnapshot.RebuildAllAsync(store, TimeSpan.FromMinutes(1));
            Assert.Equal(live, await ReadModelSnapshot.TakeAsync(store));
            output.WriteLine($"done in {watch.Elapsed.TotalSeconds:N1} s");
        }
        catch (Exception) when (WriteServiceOutput(service))
        {
            throw;
        }
        finally
        {
            await service.DisposeAsync();
        }
    }

    private static bool Has(IReadOnlyList<JsonElement> events, string type) => events.Any(e => Type(e) == type);

    private bool WriteServiceOutput(WorkerProcess service)
    {
        output.WriteLine($"service output:\n{service.RecentOutput}");
        return false;
    }

    /// <summary>Polls the event history (the database may be restarting: failures are retried) until <paramref name="done"/>.</summary>
    private static async Task<IReadOnlyList<JsonElement>> WaitForEventsAsync(CampaignApi api, Guid id, Func<IReadOnlyList<JsonElement>, bool> done,
        string what, WorkerProcess service)
    {
        var watch = Stopwatch.StartNew();
        IReadOnlyList<JsonElement> events = [];
        string? lastError = null;
        while (watch.Elapsed < Patience)
        {
            Assert.False(service.HasExited, $"the service exited: {service.RecentOutput}");
            try
            {
                var response = await api.Http.GetAsync($"/api/campaigns/{id}/events");
                if (response.IsSuccessStatusCode)
                {
                    events = [.. JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone().EnumerateArray()];
                    if (done(events)) return events;
                }
                else lastError = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException) { lastError = ex.Message; }
            await Task.Delay(100);
        }
        throw new TimeoutException($"Waited {Patience.TotalSeconds:0} s for {what} of campaign {id}; events so far: " +
                                   $"{string.Join(", ", events.GroupBy(Type).Select(g => $"{g.Key} ×{g.Count()}"))}; last error: {lastError}");
    }

    /// <summary>A call right after a restart may find the pool's connections broken (503 database_unavailable): retry it, bounded.</summary>
    private static async Task<T> RetryAsync<T>(Func<Task<T>> call, string what)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            try { return await call(); }
            catch (Exception ex) when (watch.Elapsed < TimeSpan.FromSeconds(30) && ex is not TimeoutException)
            {
                await Task.Delay(250);
            }
        }
    }
}
