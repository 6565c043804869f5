using Npgsql;

namespace EventSourcedCampaigns.Soak;

/// <summary>One row of the time series.</summary>
public sealed record Sample(
    double Minute, long RecipientsRecorded, double RecipientsPerSecond, long Events, double LagMs, long LagEvents,
    double? RssAMiB, double? RssBMiB, string Leader, int Sending, int Finished, long ClaimsAfterCancel);

/// <summary>Throughput, projection lag and memory, read from the event store and /proc.</summary>
public sealed class Sampler(NpgsqlDataSource data, string schema, IReadOnlyList<ServiceNode> nodes)
{
    private long _lastSeq, _recorded, _recordedAtLast;
    private DateTimeOffset? _lastAt;

    public static string Header =>
        $"{"min",6} {"recipients",11} {"rcpt/s",8} {"events",9} {"lag ms",8} {"lag ev",7} {"RSS A",7} {"RSS B",7} {"leader",6} {"sending",7} {"done",5}";

    public static string Row(Sample s) =>
        $"{s.Minute,6:N1} {s.RecipientsRecorded,11:N0} {s.RecipientsPerSecond,8:N0} {s.Events,9:N0} {s.LagMs,8:N0} {s.LagEvents,7:N0} " +
        $"{Mib(s.RssAMiB),7} {Mib(s.RssBMiB),7} {s.Leader,6} {s.Sending,7} {s.Finished,5}";

    /// <summary>
    /// SQL for the read models' progress: the slowest projection shard ("Name:All"; not the metrics subscription, not
    /// Marten's HighWaterMark, HighWaterAllocationFence and HighWaterStuckGap rows).
    /// </summary>
    public static string ReadModelFloor(string schema) =>
        $"(select coalesce(min(last_seq_id), 0) from {schema}.mt_event_progression where name like '%:%' and name not like 'CampaignMetrics%')";

    private static string Mib(double? value) => value is { } v ? $"{v:N0}" : "down";

    /// <summary>
    /// Recipients recorded (delivered + failed, from the batch events appended since the last sample), the age of the
    /// oldest event a read model has not applied (as the benchmark harness measures the lag), the events behind, RSS.
    /// </summary>
    public async Task<Sample> TakeAsync(DateTimeOffset runStart, IReadOnlyList<CampaignScript> campaigns, long claimsAfterCancel)
    {
        var now = DateTimeOffset.UtcNow;
        var s = schema;
        await using var connection = await data.OpenConnectionAsync();
        long lastSeq;
        await using (var command = new NpgsqlCommand($"""
            select coalesce(max(seq_id), 0),
                   coalesce(sum(case when type = 'campaign_batch_delivered' then (data->>'Delivered')::bigint + (data->>'Failed')::bigint
                                     when type = 'campaign_batch_failed' then (data->>'Recipients')::bigint end), 0)
            from {s}.mt_events where seq_id > $1
            """, connection))
        {
            command.Parameters.AddWithValue(_lastSeq);
            await using var reader = await command.ExecuteReaderAsync();
            await reader.ReadAsync();
            lastSeq = Math.Max(_lastSeq, reader.GetInt64(0));
            _recorded += reader.GetInt64(1);
        }
        var seconds = _lastAt is { } last ? (now - last).TotalSeconds : (now - runStart).TotalSeconds;
        var rate = seconds > 0 ? (_recorded - _recordedAtLast) / seconds : 0;
        _recordedAtLast = _recorded;
        _lastSeq = lastSeq;
        _lastAt = now;

        var progress = ReadModelFloor(s);
        double lagMs;
        await using (var command = new NpgsqlCommand($"""
            select extract(epoch from clock_timestamp() - e.timestamp) * 1000 from {s}.mt_events e
            where e.seq_id > {progress} order by e.seq_id limit 1
            """, connection))
            lagMs = await command.ExecuteScalarAsync() is { } v and not DBNull ? Convert.ToDouble(v) : 0;
        long lagEvents;
        await using (var command = new NpgsqlCommand($"select coalesce(max(seq_id), 0) - {progress} from {s}.mt_events", connection))
            lagEvents = Convert.ToInt64(await command.ExecuteScalarAsync());

        var leader = "-";
        foreach (var node in nodes)
            if (node.Up && await node.RunsProjectionsAsync() == true) leader = node.Name;

        return new Sample((now - runStart).TotalMinutes, _recorded, rate, lastSeq, lagMs, lagEvents,
            nodes[0].RssMiB(), nodes[1].RssMiB(), leader,
            campaigns.Count(c => c.LastStatus is "Sending" or "Cancelling"), campaigns.Count(c => c.Finished), claimsAfterCancel);
    }
}
