using System.Collections.Concurrent;
using System.Text.Json;
using Npgsql;

namespace EventSourcedCampaigns.Soak;

/// <summary>
/// The guarantees the soak checks, from the API (every report the driver reads) and from the event store (every
/// sample): no batch claimed after a cancel request in any stream, no batch claimed or recorded twice, every report's
/// totals add up. Failures are collected, printed as they happen and make the run exit non-zero.
/// </summary>
public sealed class Invariants(NpgsqlDataSource data, string schema)
{
    private readonly ConcurrentQueue<string> _failures = new();
    private long _reportsChecked;

    public IReadOnlyCollection<string> Failures => _failures;
    public long ReportsChecked => Interlocked.Read(ref _reportsChecked);

    public void Fail(string failure)
    {
        if (_failures.Count < 1000) _failures.Enqueue($"{DateTimeOffset.UtcNow:HH:mm:ss} {failure}");
        Console.WriteLine($"INVARIANT FAILED: {failure}");
    }

    /// <summary>recipients = delivered + failed + in flight + not sent, none negative.</summary>
    public void CheckReport(int index, Guid id, JsonElement report)
    {
        Interlocked.Increment(ref _reportsChecked);
        var totals = report.GetProperty("totals");
        long Get(string name) => totals.GetProperty(name).GetInt64();
        if (Get("delivered") + Get("failed") + Get("inFlight") + Get("notSent") != Get("recipients")
            || Get("delivered") < 0 || Get("failed") < 0 || Get("inFlight") < 0 || Get("notSent") < 0)
            Fail($"campaign {index} ({id}): the report's totals do not add up: {totals.GetRawText()} (status {report.GetProperty("status").GetString()})");
    }

    /// <summary>The event-store checks, over every stream: returns (claims after a cancel, batches claimed twice, batches recorded twice).</summary>
    public async Task<(long ClaimsAfterCancel, long ClaimedTwice, long RecordedTwice)> CheckEventsAsync()
    {
        var s = schema;
        var claimsAfterCancel = await ScalarAsync($"""
            select count(*) from {s}.mt_events c
            join (select stream_id, min(version) as version from {s}.mt_events where type = 'campaign_cancel_requested' group by stream_id) r
              on r.stream_id = c.stream_id and c.version > r.version
            where c.type = 'campaign_batch_claimed'
            """);
        var claimedTwice = await ScalarAsync($"""
            select count(*) from (select 1 from {s}.mt_events where type = 'campaign_batch_claimed'
                                  group by stream_id, data->>'BatchNumber' having count(*) > 1) x
            """);
        var recordedTwice = await ScalarAsync($"""
            select count(*) from (select 1 from {s}.mt_events
                                  where type in ('campaign_batch_delivered', 'campaign_batch_failed', 'campaign_batch_released')
                                  group by stream_id, data->>'BatchNumber' having count(*) > 1) x
            """);
        if (claimsAfterCancel > 0) Fail($"{claimsAfterCancel} batch claim(s) after a cancel request");
        if (claimedTwice > 0) Fail($"{claimedTwice} batch(es) claimed twice");
        if (recordedTwice > 0) Fail($"{recordedTwice} batch(es) recorded twice");
        return (claimsAfterCancel, claimedTwice, recordedTwice);
    }

    /// <summary>
    /// A finished campaign against its events: status as expected, nothing in flight, delivered + failed + not sent =
    /// recipients (the audience prepared), delivered and failed equal to the batches recorded, every claimed batch
    /// recorded, no audience page prepared twice.
    /// </summary>
    public async Task CheckFinishedAsync(CampaignScript campaign, JsonElement report)
    {
        var status = report.GetProperty("status").GetString();
        var totals = report.GetProperty("totals");
        long Get(string name) => totals.GetProperty(name).GetInt64();
        var what = $"campaign {campaign.Index} ({campaign.Id}, {campaign.Fate}, steps: {string.Join("; ", campaign.Steps)})";
        if (status != campaign.Expected) Fail($"{what}: ended {status}, expected {campaign.Expected}");
        if (Get("inFlight") != 0) Fail($"{what}: {Get("inFlight")} in flight after it ended ({status})");
        if (Get("delivered") + Get("failed") + Get("notSent") != Get("recipients"))
            Fail($"{what}: sent + failed + not sent != recipients: {totals.GetRawText()}");

        await using var command = data.CreateCommand($"""
            select coalesce(sum(case when type = 'campaign_scheduling_completed' then (data->>'Recipients')::bigint end), 0),
                   coalesce(sum(case when type = 'campaign_batch_delivered' then (data->>'Delivered')::bigint end), 0),
                   coalesce(sum(case when type = 'campaign_batch_delivered' then (data->>'Failed')::bigint
                                     when type = 'campaign_batch_failed' then (data->>'Recipients')::bigint end), 0),
                   count(*) filter (where type = 'campaign_batch_claimed'),
                   count(*) filter (where type in ('campaign_batch_delivered', 'campaign_batch_failed', 'campaign_batch_released'))
            from {schema}.mt_events where stream_id = $1
            """);
        command.Parameters.AddWithValue(campaign.Id);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        var (recipients, delivered, failed, claimed, recorded) = (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4));
        if (status is "Sent" or "CancelledDuringSend" && recipients != Get("recipients"))
            Fail($"{what}: the report says {Get("recipients")} recipients, the prepared audience {recipients}");
        if ((delivered, failed) != (Get("delivered"), Get("failed")))
            Fail($"{what}: the events record {delivered} delivered and {failed} failed, the report {Get("delivered")} and {Get("failed")}");
        if (claimed != recorded) Fail($"{what}: {claimed} batches claimed, {recorded} recorded");
        await reader.DisposeAsync();

        // No audience page prepared twice: the preparation's progress only rises (a campaign is scheduled once here).
        await using var pages = data.CreateCommand($"""
            select count(*) from (
              select (data->>'RecipientsPrepared')::bigint as prepared,
                     lag((data->>'RecipientsPrepared')::bigint) over (order by version) as before
              from {schema}.mt_events where stream_id = $1 and type = 'campaign_scheduling_progressed') x
            where prepared <= before
            """);
        pages.Parameters.AddWithValue(campaign.Id);
        var twice = Convert.ToInt64(await pages.ExecuteScalarAsync());
        if (twice > 0) Fail($"{what}: {twice} audience page(s) prepared twice (SchedulingProgressed did not rise)");
    }

    private async Task<long> ScalarAsync(string sql)
    {
        await using var command = data.CreateCommand(sql);
        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }
}
