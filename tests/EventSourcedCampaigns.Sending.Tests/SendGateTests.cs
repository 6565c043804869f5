using Npgsql;

namespace EventSourcedCampaigns.Sending.Tests;

/// <summary>
/// A dispatch step's first pass of the send gate (<see cref="SendGate.PassWithBatchAsync"/>): the batch, its campaign and
/// the next batch's shape in one round trip, read while the campaign's stream row is share-locked, and the lock still held
/// while the provider call starts.
/// </summary>
public sealed class SendGateTests
{
    [Fact]
    public async Task The_first_pass_reads_the_batch_and_the_next_shape_and_holds_the_share_lock_while_the_call_starts()
    {
        await using var host = await SendingHost.StartAsync();
        var id = await host.ScheduledAsync(25, 10, TimeSpan.FromMinutes(1), new Variant("A", "Winter sale", "Everything -30%", 100));
        var tenant = SendingHost.Tenant;

        var (read, recorded, lockedMeanwhile) = await host.Store.PassWithBatchAsync(tenant, id, 1, 3,
            (dispatch, isRecorded) => (dispatch, isRecorded, LockedForWriters(host.Schema, id)), CancellationToken.None);

        Assert.Equal((id, 1, 10), (read.Batch!.CampaignId, read.Batch.BatchNumber, read.Batch.Recipients.Length));
        Assert.Equal(id, read.Campaign!.Id);
        Assert.Equal(new BatchShape(3, "A", 5), read.Next);
        Assert.False(recorded);
        Assert.True(lockedMeanwhile, "a writer could lock the campaign's stream row while the pass's start ran");
        Assert.False(LockedForWriters(host.Schema, id), "the share lock outlived the pass");

        // The batches a record may claim next: those that exist of the numbers asked for, in batch order.
        var upcoming = await host.Store.PassWithBatchAsync(tenant, id, 1, [4, 3, 2], (dispatch, _) => dispatch, CancellationToken.None);
        Assert.Equal([new BatchShape(2, "A", 10), new BatchShape(3, "A", 5)], upcoming.Upcoming!);
        Assert.Null(upcoming.Next); // batch 4, the first asked for, does not exist

        // Past the last batch there is no next one; a campaign the tenant does not have reads as nothing.
        var last = await host.Store.PassWithBatchAsync(tenant, id, 3, 5, (dispatch, _) => dispatch, CancellationToken.None);
        Assert.Equal((3, 5, (BatchShape?)null), (last.Batch!.BatchNumber, last.Batch.Recipients.Length, last.Next));
        var unknown = await host.Store.PassWithBatchAsync(tenant, Guid.NewGuid(), 1, 2, (dispatch, isRecorded) => (dispatch, isRecorded),
            CancellationToken.None);
        Assert.Equal((new BatchToDispatch(null, null, null), false), unknown);
        var otherTenant = await host.Store.PassWithBatchAsync("another-tenant", id, 1, 2, (dispatch, _) => dispatch, CancellationToken.None);
        Assert.Equal(new BatchToDispatch(null, null, null), otherTenant);
    }

    /// <summary>Whether an append (which takes the stream row <c>FOR UPDATE</c>) would have to wait now. Synchronous: it runs inside the pass.</summary>
    private static bool LockedForWriters(string schema, Guid campaignId)
    {
        using var connection = new NpgsqlConnection(TestDatabase.ConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand($"select 1 from {schema}.mt_streams where id = $1 for update nowait", connection)
            { Parameters = { new() { Value = campaignId } } };
        try
        {
            command.ExecuteScalar();
            return false;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.LockNotAvailable)
        {
            return true;
        }
    }
}
