using System.Diagnostics;
using Npgsql;
using NpgsqlTypes;

namespace EventSourcedCampaigns.Benchmarks;

/// <summary>
/// Scheduling a large audience through the pipeline (resolve pages, store batches, progress events) against a raw
/// binary COPY of the same prepared batch documents into a copy of their table.
/// </summary>
public static class Scheduling
{
    public static async Task<Result[]> RunAsync(string connection, bool quick)
    {
        var recipients = quick ? 100_000L : 1_000_000L;
        await using var pipeline = await Pipeline.StartAsync(connection, "bench_schedule");
        await pipeline.ScheduledAsync(10_000); // warm-up

        var started = Stopwatch.GetTimestamp();
        var id = await pipeline.ScheduledAsync(recipients, poll: TimeSpan.FromMilliseconds(10));
        var elapsed = Stopwatch.GetElapsedTime(started);

        // The same prepared rows, read back into memory (not timed), then written with one binary COPY.
        var s = pipeline.Schema;
        var rows = new List<(string Tenant, string Id, string Data, Guid Version, string Type, string Variant, int Recipients)>();
        await using (var conn = new NpgsqlConnection(connection))
        {
            await conn.OpenAsync();
            await using var read = new NpgsqlCommand(
                $"select tenant_id, id, data::text, mt_version, mt_dotnet_type, variant, recipient_count from {s}.mt_doc_campaignbatch " +
                "where CAST(data ->> 'CampaignId' as uuid) = @id", conn);
            read.Parameters.AddWithValue("id", id);
            await using var reader = await read.ExecuteReaderAsync();
            while (await reader.ReadAsync())
                rows.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetGuid(3), reader.GetString(4), reader.GetString(5), reader.GetInt32(6)));
        }
        await Sql.ExecuteAsync(connection, $"drop table if exists {s}.base_batch; create table {s}.base_batch (like {s}.mt_doc_campaignbatch including all)");
        TimeSpan copyElapsed;
        await using (var conn = new NpgsqlConnection(connection))
        {
            await conn.OpenAsync();
            started = Stopwatch.GetTimestamp();
            await using (var copy = await conn.BeginBinaryImportAsync(
                             $"copy {s}.base_batch (tenant_id, id, data, mt_version, mt_dotnet_type, variant, recipient_count) from stdin (format binary)"))
            {
                foreach (var row in rows)
                {
                    await copy.StartRowAsync();
                    await copy.WriteAsync(row.Tenant);
                    await copy.WriteAsync(row.Id);
                    await copy.WriteAsync(row.Data, NpgsqlDbType.Jsonb);
                    await copy.WriteAsync(row.Version);
                    await copy.WriteAsync(row.Type);
                    await copy.WriteAsync(row.Variant);
                    await copy.WriteAsync(row.Recipients);
                }
                await copy.CompleteAsync();
            }
            copyElapsed = Stopwatch.GetElapsedTime(started);
        }
        Console.WriteLine($"scheduling: {recipients:N0} recipients ({rows.Count:N0} batches) in {elapsed.TotalSeconds:N1} s; binary COPY of the same rows {copyElapsed.TotalSeconds:N2} s");
        return [new Result($"scheduling {recipients:N0} recipients: recipients prepared/s", recipients / elapsed.TotalSeconds,
            recipients / copyElapsed.TotalSeconds, "recipients/s vs binary COPY")];
    }
}
