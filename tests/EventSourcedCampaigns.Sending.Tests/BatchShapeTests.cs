using Marten;

namespace EventSourcedCampaigns.Sending.Tests;

/// <summary>
/// A claim reads a prepared batch's shape (variant, size) from the batch's own columns, not from its document, whose
/// recipients PostgreSQL would have to decompress; batches stored before those columns existed fall back to the document.
/// </summary>
public sealed class BatchShapeTests
{
    [Fact]
    public async Task Prepared_batches_carry_their_variant_and_size_in_columns_and_a_batch_without_them_is_sent_as_its_document_says()
    {
        await using var host = await SendingHost.StartAsync(configure: o => o.WithBatchesInFlightPerCampaign(2));
        // Two variants and a remainder: batches of both variants, and some smaller than the batch size.
        var id = await host.ScheduledAsync(95, 10, TimeSpan.FromMinutes(1),
            new Variant("A", "Winter sale", "Everything -30%", 60), new Variant("B", "Winter sale!", "Everything -30% now", 40));
        var table = host.Store.Options.Schema.For<CampaignBatch>();
        var tenant = SendingHost.Tenant;

        Dictionary<int, (string Variant, int Recipients)> documents;
        await using (var session = host.Store.QuerySession(tenant))
        {
            documents = (await session.Query<CampaignBatch>().Where(b => b.CampaignId == id).ToListAsync(CancellationToken.None))
                .ToDictionary(b => b.BatchNumber, b => (b.Variant, b.Recipients.Length));
            var columns = await session.AdvancedSql.QueryAsync<string>(
                $"select concat_ws('|', split_part(id, '/', 2), coalesce(variant, 'null'), coalesce(recipient_count::text, 'null')) from {table} " +
                "where tenant_id = ? and id like ?", CancellationToken.None, tenant, id.ToString("N") + "/%");
            Assert.Equal(documents.OrderBy(d => d.Key).Select(d => $"{d.Key}|{d.Value.Variant}|{d.Value.Recipients}"),
                columns.OrderBy(c => int.Parse(c.Split('|')[0])));
        }
        Assert.Contains(documents.Values, d => d.Variant == "B");
        Assert.Contains(documents.Values, d => d.Recipients < 10);

        // As a batch prepared by a version before the columns has them (an upgrade while a campaign is scheduled).
        await using (var session = host.Store.LightweightSession(tenant))
        {
            session.QueueSqlCommand($"update {table} set variant = null, recipient_count = null where tenant_id = ? and id like ?", tenant,
                id.ToString("N") + "/%");
            await session.SaveChangesAsync();
        }
        host.Clock.Advance(TimeSpan.FromMinutes(1));
        await host.RunAcceptedAsync(new StartSend(id));
        var sent = await host.WaitForAsync(id, s => s.Status == CampaignStatus.Sent, "the send to complete");

        var claims = new StreamFacts(await host.EventsAsync(id)).Claims.ToDictionary(c => c.Claim.BatchNumber, c => (c.Claim.Variant, c.Claim.Recipients));
        Assert.Equal(documents.OrderBy(d => d.Key), claims.OrderBy(c => c.Key));
        Assert.Equal(95L, ((CampaignPhase.Sent)sent.Phase).Progress.Delivered);
    }
}
