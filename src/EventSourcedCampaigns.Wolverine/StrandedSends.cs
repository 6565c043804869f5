using EventSourcedCampaigns.Marten;
using Marten;
using Microsoft.Extensions.Logging;
using Npgsql;
using Wolverine;
using Wolverine.RDBMS;
using Wolverine.Runtime;
using Wolverine.Runtime.Serialization;
using Wolverine.Transports;
using Wolverine.Util;

namespace EventSourcedCampaigns.Wolverine;

/// <summary>
/// The hand-overs a batch's record stored and Wolverine never queued. When the record's commit goes through while its
/// connection drops (a database restart during COMMIT), the attempt fails after the fact, so the <see cref="SendBatch"/>
/// of the batch it claimed for its lane sits in the inbox, owned by this node, which never runs it: the reconciler then
/// recorded that batch as failed after the claim timeout, though none of its recipients was sent anything.
/// </summary>
internal static class StrandedSends
{
    /// <summary>
    /// Give the hand-overs of the batches claimed by the commit that recorded <paramref name="sent"/>, still in flight, back
    /// to any node, as Wolverine does with envelopes it could not queue: its recovery queues each once, so a batch is
    /// never handed to the provider twice. For a record tried again (an attempt failed) that finds its batch recorded.
    /// </summary>
    public static async Task ReleaseAsync(BatchSent sent, CampaignState campaign, IDocumentSession session, IWolverineRuntime runtime,
        ILogger logger, CancellationToken cancellation)
    {
        try
        {
            var released = await ReleaseClaimedWithRecordAsync(sent, campaign, session, runtime, cancellation);
            if (released > 0)
                logger.LogWarning("The record of batch {Batch} of campaign {Campaign} (tenant {Tenant}) committed unseen; the hand-over of the batch it claimed, never queued, is given back for recovery",
                    sent.BatchNumber, sent.CampaignId, session.TenantId);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The record is committed and must not fail for this: the reconciler still records the batch after the claim timeout.
            logger.LogWarning(e, "Could not look for the hand-over the record of batch {Batch} of campaign {Campaign} (tenant {Tenant}) stored",
                sent.BatchNumber, sent.CampaignId, session.TenantId);
        }
    }

    private static async Task<int> ReleaseClaimedWithRecordAsync(BatchSent sent, CampaignState campaign, IDocumentSession session, IWolverineRuntime runtime,
        CancellationToken cancellation)
    {
        var claimed = (await session.BatchesClaimedWithRecordOfAsync(sent.CampaignId, sent.BatchNumber, cancellation))
            .Where(number => SendingHandler.IsInFlight(campaign, number)).ToHashSet();
        if (claimed.Count == 0 || runtime.Storage is not IMessageDatabase inbox) return 0;

        var stranded = new List<Envelope>();
        await using var command = inbox.DataSource.CreateCommand(
            $"select body from {inbox.TableNameFor(DatabaseConstants.IncomingTable)} where status = '{EnvelopeStatus.Incoming}' and owner_id = $1 and message_type = $2");
        command.Parameters.Add(new NpgsqlParameter { Value = runtime.DurabilitySettings.AssignedNodeNumber });
        command.Parameters.Add(new NpgsqlParameter { Value = typeof(SendBatch).ToMessageTypeName() });
        await using (var reader = await command.ExecuteReaderAsync(cancellation))
            while (await reader.ReadAsync(cancellation))
            {
                var envelope = EnvelopeSerializer.Deserialize((byte[])reader.GetValue(0));
                if (envelope.TenantId == session.TenantId && runtime.Options.DefaultSerializer.ReadFromData(typeof(SendBatch), envelope) is SendBatch send
                    && send.CampaignId == sent.CampaignId && claimed.Contains(send.BatchNumber))
                    stranded.Add(envelope);
            }
        if (stranded.Count > 0) await inbox.ReassignIncomingAsync(TransportConstants.AnyNode, stranded);
        return stranded.Count;
    }
}
