using System.Diagnostics;
using EventSourcedCampaigns.Marten;
using EventSourcedCampaigns.Marten.ReadModels;
using Marten;
using Npgsql;

namespace EventSourcedCampaigns.Benchmarks;

/// <summary>
/// The Campaigns tab of a tenant with 100,000 campaigns (<see cref="CampaignQueries.QueryCampaignsAsync"/>: a page of
/// 50 and the total) against a plain SQL query over the same table returning the same page and total.
/// </summary>
public static class ListQuery
{
    private const string Tenant = "tenant-big";

    // The Campaigns tab's usual requests: the first page, a status filter, a name search, a page deep in the list, and
    // one deep in the list sorted by name (alphabetical whatever the case: by lower(name), which has an index).
    private static readonly CampaignListQuery[] Shapes =
    [
        new(),
        new(Status: CampaignStatus.Sending),
        new(NameContains: "spring"),
        new(PageNumber: 100),
        new(SortBy: CampaignSort.Name, Descending: false, PageNumber: 100),
    ];

    public static async Task<Result[]> RunAsync(string connection, bool quick)
    {
        const string schema = "bench_list";
        await using var store = await BenchStore.CreateAsync(connection, schema);
        var (campaigns, rounds) = quick ? (5_000, 10) : (100_000, 25); // 5 shapes a round: 125 queries a side
        await SeedAsync(store, campaigns);
        await Sql.ExecuteAsync(connection, $"analyze {schema}.mt_doc_campaignlistitem");

        await using var data = NpgsqlDataSource.Create(connection);
        var library = new List<double>();
        var plain = new List<double>();
        for (var round = -1; round < rounds; round++) // round -1 warms both sides up
            foreach (var shape in Shapes)
            {
                var started = Stopwatch.GetTimestamp();
                Page<CampaignListItem> page;
                await using (var session = store.QuerySession(Tenant))
                    page = await session.QueryCampaignsAsync(shape);
                var libraryMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;

                started = Stopwatch.GetTimestamp();
                var (items, total) = await PlainAsync(data, schema, shape);
                var plainMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;

                if (items != page.Items.Count || total != page.Total)
                    throw new InvalidOperationException($"The plain query disagrees with the library for {shape}: {items}/{total} vs {page.Items.Count}/{page.Total}.");
                if (round < 0) continue;
                library.Add(libraryMs);
                plain.Add(plainMs);
            }

        Console.WriteLine($"list: {campaigns:N0} campaigns, {library.Count} queries: library p50 {Percentile(library, 50):N1} / p99 {Percentile(library, 99):N1} ms; " +
                          $"plain SQL p50 {Percentile(plain, 50):N1} / p99 {Percentile(plain, 99):N1} ms");
        return
        [
            new Result($"list: Campaigns query, {campaigns:N0} campaigns in a tenant (p50)", Percentile(library, 50), Percentile(plain, 50), "ms vs plain SQL"),
            new Result($"list: Campaigns query, {campaigns:N0} campaigns in a tenant (p99)", Percentile(library, 99), Percentile(plain, 99), "ms vs plain SQL"),
        ];
    }

    /// <summary>The same page and total in plain SQL: one statement for the page (by the indexed expression), one for the count.</summary>
    private static async Task<(int Items, long Total)> PlainAsync(NpgsqlDataSource data, string schema, CampaignListQuery shape)
    {
        var where = "tenant_id = @tenant";
        if (shape.Status is not null) where += " and data ->> 'Status' = @status";
        if (shape.NameContains is not null) where += " and data ->> 'Name' ilike @name";
        var table = $"{schema}.mt_doc_campaignlistitem";
        var order = shape.SortBy == CampaignSort.Name ? "lower(data ->> 'Name'), id" : $"{schema}.mt_immutable_timestamptz(data ->> 'UpdatedAt') desc, id";
        await using var batch = data.CreateBatch();
        batch.BatchCommands.Add(new NpgsqlBatchCommand(
            $"select data from {table} where {where} order by {order} limit @size offset @skip"));
        batch.BatchCommands.Add(new NpgsqlBatchCommand($"select count(*) from {table} where {where}"));
        foreach (NpgsqlBatchCommand command in batch.BatchCommands)
        {
            command.Parameters.AddWithValue("tenant", Tenant);
            if (shape.Status is { } status) command.Parameters.AddWithValue("status", status.ToString());
            if (shape.NameContains is { } name) command.Parameters.AddWithValue("name", $"%{name}%");
            command.Parameters.AddWithValue("size", shape.PageSize);
            command.Parameters.AddWithValue("skip", (shape.PageNumber - 1) * shape.PageSize);
        }
        await using var reader = await batch.ExecuteReaderAsync();
        var items = 0;
        while (await reader.ReadAsync()) { reader.GetString(0); items++; }
        await reader.NextResultAsync();
        await reader.ReadAsync();
        return (items, reader.GetInt64(0));
    }

    /// <summary>List rows as the projection writes them: the big tenant and three smaller ones, every status, seeded names.</summary>
    private static async Task SeedAsync(IDocumentStore store, int campaigns)
    {
        var random = new Random(14);
        var statuses = Enum.GetValues<CampaignStatus>();
        var words = new[] { "spring", "summer", "autumn", "winter", "launch", "sale", "newsletter", "welcome", "reminder", "digest" };
        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        CampaignListItem Row(int i)
        {
            var status = statuses[random.Next(statuses.Length)];
            var created = start.AddMinutes(random.Next(0, 500_000));
            return new CampaignListItem
            {
                Id = Guid.NewGuid(), Name = $"{words[random.Next(words.Length)]} {words[random.Next(words.Length)]} {i}", Channel = Channel.Email,
                Status = status, Actions = AvailableActions.For(status), CreatedAt = created, UpdatedAt = created.AddMinutes(random.Next(0, 10_000)),
                SendAt = created.AddDays(1), ScheduledAt = created.AddHours(1), Recipients = 10_000, RecipientsPrepared = 10_000,
            };
        }
        foreach (var chunk in Enumerable.Range(0, campaigns).Chunk(10_000))
            await store.BulkInsertAsync(Tenant, chunk.Select(Row).ToList());
        foreach (var other in new[] { "tenant-a", "tenant-b", "tenant-c" })
            await store.BulkInsertAsync(other, Enumerable.Range(0, campaigns / 10).Select(Row).ToList());
    }

    private static double Percentile(List<double> values, int percentile)
    {
        var sorted = values.Order().ToArray();
        return sorted[Math.Clamp((int)Math.Ceiling(percentile / 100.0 * sorted.Length) - 1, 0, sorted.Length - 1)];
    }
}
