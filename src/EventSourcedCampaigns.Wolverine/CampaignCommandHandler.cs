using EventSourcedCampaigns.Decisions;
using EventSourcedCampaigns.Marten;
using Marten;
using Wolverine;
using Wolverine.Attributes;
using Wolverine.Marten;

namespace EventSourcedCampaigns.Wolverine;

/// <summary>
/// Wolverine handlers (aggregate handler workflow) of the commands that only decide and append: load the write
/// model, call <see cref="Decider.Decide"/>, return the events. The <see cref="CommandResult"/> is the reply to
/// <c>InvokeAsync&lt;CommandResult&gt;</c>. The commands with follow-up work have their own handlers:
/// scheduling (<see cref="SchedulingHandler"/>), sending (<see cref="SendingHandler"/>), cancelling
/// (<see cref="CancelCampaignHandler"/>), pausing (<see cref="PausingHandler"/>) and cloning
/// (<see cref="CloneCampaignHandler"/>). The commands a person or an integration sends take the campaign's row lock
/// first (<c>ConcurrencyStyle.Exclusive</c>), as a cancel does: they queue behind each other rather than deadlock in
/// PostgreSQL (an audit of races over HTTP saw cancels wait 1-5 s for the deadlock detector and the retries).
/// </summary>
public static class CampaignCommandHandler
{
    public static (CommandResult, Events, OutgoingMessages) Handle(CreateCampaign command,
        [WriteAggregate(nameof(CreateCampaign.CampaignId), Required = false)] CampaignState? campaign, TimeProvider clock, IDocumentSession session) =>
        Handling.Run(command, campaign, clock, session);

    /// <summary>
    /// An edit may be sent on the condition of the version its caller read (<see cref="Handling.VersionMismatchAsync"/>): when
    /// the campaign moved on, nothing is appended and the result says so (the door throws <see cref="CampaignVersionMismatchException"/>).
    /// </summary>
    public static async Task<(CommandResult, Events, OutgoingMessages)> Handle(EditCampaign command,
        [WriteAggregate(nameof(EditCampaign.CampaignId), Required = false, LoadStyle = ConcurrencyStyle.Exclusive)] CampaignState? campaign, TimeProvider clock, IDocumentSession session,
        Envelope envelope, CancellationToken cancellation)
    {
        var (result, events, followUps) = Handling.Run(command, campaign, clock, session);
        return await Handling.VersionMismatchAsync(envelope, session, command.CampaignId, result, cancellation) is { } mismatch
            ? (result with { VersionMismatch = mismatch }, [], [])
            : (result, events, followUps);
    }

    public static (CommandResult, Events, OutgoingMessages) Handle(RecordSchedulingProgress command,
        [WriteAggregate(nameof(RecordSchedulingProgress.CampaignId), Required = false, LoadStyle = ConcurrencyStyle.Exclusive)] CampaignState? campaign, TimeProvider clock, IDocumentSession session) =>
        Handling.Run(command, campaign, clock, session);

    /// <summary>For callers that claim and dispatch batches themselves; the pipeline claims in <see cref="SendingHandler"/>.</summary>
    public static (CommandResult, Events, OutgoingMessages) Handle(ClaimBatch command,
        [WriteAggregate(nameof(ClaimBatch.CampaignId), Required = false)] CampaignState? campaign, TimeProvider clock, IDocumentSession session) =>
        Handling.Run(command, campaign, clock, session);

    /// <summary>For callers that dispatch batches themselves; the pipeline records in <see cref="SendingHandler"/>.</summary>
    public static Task<(CommandResult, Events, OutgoingMessages)> Handle(RecordBatchDelivery command,
        [WriteAggregate(nameof(RecordBatchDelivery.CampaignId), Required = false)] CampaignState? campaign, TimeProvider clock, IDocumentSession session,
        CancellationToken cancellation) =>
        Handling.RunChainedAsync(command, campaign, clock, session, cancellation);

    /// <summary>For callers that dispatch batches themselves; the pipeline records in <see cref="SendingHandler"/>.</summary>
    public static Task<(CommandResult, Events, OutgoingMessages)> Handle(RecordBatchFailure command,
        [WriteAggregate(nameof(RecordBatchFailure.CampaignId), Required = false)] CampaignState? campaign, TimeProvider clock, IDocumentSession session,
        CancellationToken cancellation) =>
        Handling.RunChainedAsync(command, campaign, clock, session, cancellation);
}

/// <summary>
/// Cancel: the decider's rules, every attempt kept in the audit (accepted, repeated, refused), prepared batches deleted
/// once cancelled. Takes the stream's row lock, so a cancel queues behind the batch being recorded instead of retrying
/// against the lanes, then the tenant's audit lock to chain the attempt's audit event (<see cref="AuditChain"/>), both
/// with the write model in one round trip (<see cref="AuditChain.FetchForCancelAsync"/>). It wakes the read models' daemon
/// after its commit, not inside its transaction (<see cref="DaemonWakeup"/>). The audit event of a cancel of
/// an unknown campaign goes to the tenant's audit stream: there is no campaign stream, and starting one at the caller's id
/// would take that id.
/// </summary>
public static class CancelCampaignHandler
{
    [Transactional]
    public static async Task<(CommandResult, OutgoingMessages)> Handle(CancelCampaign command, TimeProvider clock, IDocumentSession session,
        Envelope envelope, CancellationToken cancellation)
    {
        session.WakeDaemonAfterCommit();
        var (stream, audit) = await session.FetchForCancelAsync(command.CampaignId, cancellation);
        var campaign = stream.Aggregate;
        var (result, events, followUps) = Handling.Decide(command, campaign, Handling.Now(clock, campaign), session);
        followUps.AddRange(Handling.SettleAgainAfterUnseenCommit(envelope, campaign, events));
        var linked = audit.Link(events);
        if (campaign is not null) stream.AppendMany(linked.Cast<object>().ToArray());
        else KeepInTenantStream(session, linked);
        return (result, followUps);
    }

    /// <summary>The audit events of a cancel of a campaign that does not exist: chained, and kept in the tenant's audit stream.</summary>
    internal static async Task AuditInTenantStreamAsync(IDocumentSession session, IReadOnlyList<ICampaignEvent> events, CancellationToken cancellation) =>
        KeepInTenantStream(session, await AuditChain.LinkAsync(session, events, cancellation));

    private static void KeepInTenantStream(IDocumentSession session, IReadOnlyList<ICampaignEvent> linked)
    {
        if (linked.Count > 0)
            session.Events.Append(AuditChain.TenantAuditStreamId(session.TenantId), linked.Cast<object>().ToArray());
    }
}

/// <summary>Pause, resume and revert a schedule. Resuming after the send time starts the send at once.</summary>
public static class PausingHandler
{
    public static (CommandResult, Events, OutgoingMessages) Handle(PauseSchedule command,
        [WriteAggregate(nameof(PauseSchedule.CampaignId), Required = false, LoadStyle = ConcurrencyStyle.Exclusive)] CampaignState? campaign, TimeProvider clock, IDocumentSession session)
        => Handling.Run(command, campaign, clock, session);

    public static (CommandResult, Events, OutgoingMessages) Handle(RevertToDraft command,
        [WriteAggregate(nameof(RevertToDraft.CampaignId), Required = false, LoadStyle = ConcurrencyStyle.Exclusive)] CampaignState? campaign, TimeProvider clock, IDocumentSession session)
        => Handling.Run(command, campaign, clock, session);

    /// <summary>
    /// The start message scheduled at the send time did nothing while paused: schedule it again (now, if the time has
    /// passed), watched as a schedule is (the pause ended its watch).
    /// </summary>
    public static (CommandResult, Events, OutgoingMessages) Handle(ResumeSchedule command,
        [WriteAggregate(nameof(ResumeSchedule.CampaignId), Required = false, LoadStyle = ConcurrencyStyle.Exclusive)] CampaignState? campaign, TimeProvider clock, IDocumentSession session,
        CampaignSendingOptions options)
    {
        var now = Handling.Now(clock, campaign);
        var (result, events, messages) = Handling.Decide(command, campaign, now, session);
        if (events.OfType<ScheduleResumed>().Any() && result.State?.Phase is CampaignPhase.ReadyToSend ready)
        {
            messages.Add(Handling.StartSendAt(command.CampaignId, ready.Schedule.SendAt, now));
            messages.Add(ReconcilingHandler.FirstWatch(command.CampaignId, ready.Schedule.ScheduledAt, options));
        }
        return (result, events.ToEvents(), messages);
    }
}

/// <summary>
/// Clone a finished campaign into a new draft stream (and record the clone in the source). A clone id the tenant already
/// uses is refused (<see cref="RejectionCode.CampaignAlreadyExists"/>), as a create with that id is: starting the stream
/// would collide for good, and a collision reads as a lost race that a retry cannot win.
/// </summary>
public static class CloneCampaignHandler
{
    public static async Task<(CommandResult, Events, OutgoingMessages)> Handle(CloneCampaign command,
        [WriteAggregate(nameof(CloneCampaign.CampaignId), Required = false, LoadStyle = ConcurrencyStyle.Exclusive)] CampaignState? campaign, TimeProvider clock, IDocumentSession session,
        CancellationToken cancellation)
    {
        var now = Handling.Now(clock, campaign);
        var (result, events, followUps) = Handling.Decide(command, campaign, now, session);
        if (!result.IsRejected && events.Count > 0 && await session.Events.FetchStreamStateAsync(command.CloneId, cancellation) is not null)
            return (new CommandResult(Decision.Reject(RejectionCode.CampaignAlreadyExists, "A campaign with the clone's id already exists."), campaign),
                new Events(), []);
        if (!result.IsRejected && events.Count > 0)
            session.Events.StartStream<CampaignState>(command.CloneId, Cloning.DraftEvents(campaign!, command, now).Cast<object>().ToArray());
        return (result, events.ToEvents(), followUps);
    }
}
