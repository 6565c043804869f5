using System.Diagnostics;
using EventSourcedCampaigns.Decisions;
using EventSourcedCampaigns.Marten;
using EventSourcedCampaigns.Marten.ReadModels;
using Marten;
using Npgsql;

namespace EventSourcedCampaigns.Benchmarks;

/// <summary>Rebuild every read model from the events, against one SQL statement per read model computing the same columns.</summary>
public static class Rebuild
{
    public static async Task<Result[]> RunAsync(string connection, bool quick)
    {
        const string schema = "bench_rebuild";
        await using var store = await BenchStore.CreateAsync(connection, schema);

        var campaigns = quick ? 200 : 10_000; // ~104 events each: ~20k / ~1M events
        var events = await SeedAsync(store, campaigns);
        await Sql.ExecuteAsync(connection, $"analyze {schema}.mt_events; analyze {schema}.mt_streams;");

        Memory.ResetPeak();
        var started = Stopwatch.GetTimestamp();
        await store.RebuildReadModelsAsync(TimeSpan.FromMinutes(20));
        var rebuild = Stopwatch.GetElapsedTime(started);
        var rebuildRss = Memory.PeakMiB();

        Memory.ResetPeak();
        started = Stopwatch.GetTimestamp();
        await Sql.ExecuteAsync(connection, BaselineSql(schema));
        var baseline = Stopwatch.GetElapsedTime(started);
        var baselineRss = Memory.PeakMiB();

        Console.WriteLine($"rebuild: {events:N0} events, all three read models in {rebuild.TotalSeconds:N1} s; SQL baseline {baseline.TotalSeconds:N2} s");
        return
        [
            new Result($"rebuild all read models, {events:N0} events: events/s", events / rebuild.TotalSeconds, events / baseline.TotalSeconds, "events/s vs SQL"),
            new Result("memory: worker peak RSS, rebuild", rebuildRss, baselineRss, "MiB vs SQL baseline's client"),
        ];
    }

    private static async Task<int> SeedAsync(IDocumentStore store, int campaigns)
    {
        var total = 0;
        // 25 campaigns per transaction, each chunk in one of four tenants.
        foreach (var chunk in Enumerable.Range(0, campaigns).Chunk(25))
        {
            await using var session = store.LightweightSession($"tenant-{chunk[0] / 25 % 4}");
            foreach (var i in chunk)
            {
                var id = Guid.NewGuid();
                var (events, now) = History.Sending(id, batches: 50, plannedBatches: 60, batchSize: 100);
                if (i % 3 == 0) // a third are cancelled mid-send, so the audit has work too
                    events.AddRange(Decider.Decide(new CancelCampaign(id, History.Marketer, new CancelReason(CancelReasonCode.MarketerRequest)),
                        CampaignState.From(events), now).EventsOrThrow());
                session.Events.StartStream<CampaignState>(id, events.Cast<object>().ToArray());
                total += events.Count;
            }
            await session.SaveChangesAsync();
        }
        return total;
    }


    // The same columns the three projections compute, straight from mt_events: the physical limit.
    private static string BaselineSql(string s) => $"""
        drop table if exists {s}.baseline_list, {s}.baseline_report, {s}.baseline_audit;
        create table {s}.baseline_list as
          select tenant_id, stream_id as id,
                 max(data->>'Name') filter (where type in ('campaign_created', 'campaign_edited')) as name,
                 (array_agg(type order by seq_id desc))[1] as last_event,
                 coalesce(sum((data->>'Delivered')::bigint) filter (where type = 'campaign_batch_delivered'), 0) as delivered,
                 max((data->>'Recipients')::bigint) filter (where type = 'campaign_scheduling_completed') as recipients,
                 min(timestamp) as created_at, max(timestamp) as updated_at
          from {s}.mt_events group by tenant_id, stream_id;
        create table {s}.baseline_report as
          select tenant_id, stream_id as id,
                 coalesce(sum((data->>'Delivered')::bigint) filter (where type = 'campaign_batch_delivered'), 0) as delivered,
                 coalesce(sum((data->>'Failed')::bigint) filter (where type = 'campaign_batch_delivered'), 0)
                   + coalesce(sum((data->>'Recipients')::bigint) filter (where type = 'campaign_batch_failed'), 0) as failed,
                 coalesce(sum((data->>'Recipients')::bigint) filter (where type = 'campaign_batch_claimed'), 0) as claimed,
                 coalesce(sum((data->>'Delivered')::bigint) filter (where type = 'campaign_batch_delivered' and (data->>'AfterCancelRequest')::boolean), 0) as delivered_after,
                 max((data->>'ScheduledAt')::timestamptz) as scheduled_at,
                 max((data->>'StartedAt')::timestamptz) as send_started_at,
                 max((data->>'RequestedAt')::timestamptz) filter (where type = 'campaign_cancel_requested') as cancel_requested_at,
                 max((data->>'CancelledAt')::timestamptz) as cancelled_at
          from {s}.mt_events group by tenant_id, stream_id;
        create table {s}.baseline_audit as
          select r.tenant_id, r.stream_id as campaign_id, r.data->'RequestedBy'->>'Id' as actor,
                 r.data->>'StatusAtRequest' as status_at_request, (r.data->>'RequestedAt')::timestamptz as requested_at,
                 (e.data->>'CancelledAt')::timestamptz as effective_at, (e.data->>'NotSent')::bigint as not_sent
          from {s}.mt_events r
          left join {s}.mt_events e on e.stream_id = r.stream_id and e.tenant_id = r.tenant_id
               and e.type in ('campaign_cancelled', 'campaign_cancelled_during_send')
          where r.type in ('campaign_cancel_requested', 'campaign_cancel_rejected');
        """;
}
