using EventSourcedCampaigns.Decisions;
using Wolverine;

namespace EventSourcedCampaigns.Wolverine;

/// <summary>
/// Wolverine middleware of the pipeline's background steps on a node that does not run the pipeline (an API or projection
/// node, <see cref="CampaignSendingOptions.RunPipeline"/> false): a step that reaches it from a queue is handed to the
/// nodes that do (<see cref="CampaignSendingOptions.HandOffQueue"/>) instead of running there. Such a node gets one when
/// a scheduled message comes due (a send's start, a reconciler's watch, a retry: any node's durability agent may fire
/// it), or when Wolverine recovers a dead sender's inbox onto it. A start run there claimed batches with no sender
/// running, and so escaped <see cref="CampaignSendingOptions.MaxStartLateness"/> when the senders came back late.
/// Steps invoked in the caller's process (<c>InvokeAsync</c>, no destination) run where they are invoked.
/// </summary>
public static class HandOffMiddleware
{
    /// <summary>The steps handed over (<see cref="SendBatch"/> hands itself over, in its handler).</summary>
    internal static readonly Type[] Steps =
        [typeof(StartSend), typeof(BatchSent), typeof(PrepareAudiencePage), typeof(SettleFinishedSend), typeof(ReconcileSend), typeof(WatchScheduling)];

    public static async Task<HandlerContinuation> BeforeAsync(Envelope envelope, IMessageBus bus, CampaignSendingOptions options)
    {
        if (options.RunPipeline || envelope.Destination is null || envelope.Message is not { } step) return HandlerContinuation.Continue;
        // Routed to the hand-off queue on this node, whose listeners are the pipeline nodes.
        await bus.PublishAsync(step, new DeliveryOptions { TenantId = envelope.TenantId });
        return HandlerContinuation.Stop;
    }
}
