using System.Globalization;
using EventSourcedCampaigns.Decisions;
using EventSourcedCampaigns.Marten;
using EventSourcedCampaigns.Ports;
using JasperFx;
using JasperFx.CodeGeneration;
using JasperFx.Events;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Wolverine;
using Wolverine.Configuration;
using Wolverine.ErrorHandling;
using Wolverine.Postgresql;
using Wolverine.Runtime;
using Wolverine.Runtime.Handlers;

namespace EventSourcedCampaigns.Wolverine;

/// <summary>Registration of the campaign handlers and send pipeline.</summary>
public static class CampaignSendingExtensions
{
    /// <summary>
    /// Adds the campaign command handlers and the send pipeline to Wolverine: durable local queues for commands
    /// (<see cref="CampaignSendingOptions.CommandQueue"/>) and for provider calls
    /// (<see cref="CampaignSendingOptions.DispatchQueue"/>), retries of lost concurrency races, provider retries
    /// with backoff. Prepared batches are <see cref="CampaignBatch"/> documents (registered by AddCampaigns). Needs Marten with
    /// <c>AddCampaigns()</c> and <c>IntegrateWithWolverine()</c>, and an <see cref="IAudienceResolver"/> and
    /// <see cref="IMessageDispatcher"/> in the container. Uses <see cref="TimeProvider.System"/> unless a
    /// <see cref="TimeProvider"/> is registered.
    /// </summary>
    public static WolverineOptions AddCampaignSending(this WolverineOptions opts, Action<CampaignSendingOptions>? configure = null)
    {
        var options = new CampaignSendingOptions();
        configure?.Invoke(options);
        options.Validate();

        opts.Services.AddSingleton(options);
        opts.Services.AddSingleton<CampaignThrottles>();
        opts.Services.AddSingleton<CancelPrecedence>();
        opts.Services.AddSingleton<HeldAnswers>();
        opts.Policies.AddMiddleware(typeof(CancelPrecedenceMiddleware),
            chain => chain is HandlerChain handler && CancelPrecedenceMiddleware.Steps.Contains(handler.MessageType));
        opts.Policies.AddMiddleware(typeof(HandOffMiddleware),
            chain => chain is HandlerChain handler && HandOffMiddleware.Steps.Contains(handler.MessageType));
        opts.Services.AddHostedService<CampaignPortsCheck>();
        opts.Services.AddSingleton<SendingNodeStart>();
        opts.Services.AddHostedService(services => services.GetRequiredService<SendingNodeStart>());
        opts.Services.AddHostedService<CancelHandlerWarmUp>();
        // A send starts at its time: scheduled messages are found by polling, 5 s apart by default.
        opts.Durability.ScheduledJobPollingTime = options.ScheduledStartPrecision;
        opts.Durability.ScheduledJobFirstExecution = TimeSpan.Zero;
        opts.Services.TryAddSingleton(TimeProvider.System);

        opts.Discovery.IncludeAssembly(typeof(CampaignSendingExtensions).Assembly);

        opts.LocalQueue(options.CommandQueue).UseDurableInbox().MaximumParallelMessages(options.MaxParallelCommands);
        opts.LocalQueue(options.DispatchQueue).UseDurableInbox().MaximumParallelMessages(options.MaxParallelDispatches);
        if (options.HandOffQueue is { } handOff)
        {
            var handOver = opts.ListenToPostgresqlQueue(handOff);
            // A node that does not run the pipeline listens too: Wolverine's durability agent, which may run on it, recovers
            // a dead node's inbox only into a listener of the same address, and left the hand-overs a dead sender had taken
            // in its inbox for good (the campaign stayed Sending). Recovered here, they are handed to the senders again
            // (HandOffMiddleware). It takes hardly any of the queue's own: one message an hour, handed straight back.
            if (!options.RunPipeline) handOver.MaximumMessagesToReceive(1).PollingInterval(TimeSpan.FromHours(1));
            handOver.MaximumParallelMessages(options.MaxParallelCommands);
        }
        opts.Publish(rule =>
        {
            rule.MessagesImplementing<CampaignCommand>();
            rule.Message<PrepareAudiencePage>();
            rule.Message<BatchSent>();
            rule.Message<ReconcileSend>();
            rule.Message<WatchScheduling>();
            rule.Message<SettleFinishedSend>();
            if (options.RunPipeline) rule.ToLocalQueue(options.CommandQueue);
            else rule.ToPostgresqlQueue(options.HandOffQueue!);
        });
        if (options.RunPipeline) opts.PublishMessage<SendBatch>().ToLocalQueue(options.DispatchQueue);
        else opts.PublishMessage<SendBatch>().ToPostgresqlQueue(options.HandOffQueue!);

        opts.Policies.Add(new CampaignErrorPolicy());
        opts.Policies.Add(new DispatchStepTimeout(options));
        return opts;
    }

    /// <summary>The envelope header that carries a command's expected stream version to its handler (<see cref="Handling.VersionMismatchAsync"/>).</summary>
    public const string ExpectedVersionHeader = "campaigns-expected-version";

    /// <summary>
    /// Run a campaign command now, for <paramref name="tenantId"/>, and return its result: events appended, or a
    /// typed rejection (<see cref="CommandResult.Decision"/>), with the <see cref="CommandResult.Sequence"/> that the
    /// read models must reach to show it. A lost race with another command on the same campaign is retried by
    /// policy; when the retries are used up it surfaces as <see cref="CampaignConcurrencyException"/> (HTTP callers:
    /// 409 Conflict), with nothing applied.
    /// </summary>
    public static Task<CommandResult> ExecuteCampaignCommandAsync(this IMessageBus bus, string tenantId, CampaignCommand command,
        CancellationToken cancellation = default) =>
        bus.ExecuteCampaignCommandAsync(tenantId, command, null, cancellation);

    /// <summary>
    /// <see cref="ExecuteCampaignCommandAsync(IMessageBus, string, CampaignCommand, CancellationToken)"/> on a condition: with
    /// <paramref name="expectedVersion"/>, the command is applied only if the campaign's stream is still at that version (the
    /// one its caller read: any event since, an audit-only one included, fails it), checked under the campaign's row lock;
    /// otherwise <see cref="CampaignVersionMismatchException"/>, nothing applied. A command the rules refuse (a campaign
    /// that does not exist included) or one already in effect (no events) is answered as without the condition. Honoured by <see cref="EditCampaign"/>; another command with a version is refused
    /// (<see cref="ArgumentException"/>) rather than run without its condition.
    /// </summary>
    public static async Task<CommandResult> ExecuteCampaignCommandAsync(this IMessageBus bus, string tenantId, CampaignCommand command,
        long? expectedVersion, CancellationToken cancellation = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(tenantId);
        ArgumentNullException.ThrowIfNull(command);
        if (expectedVersion is not null && command is not EditCampaign)
            throw new ArgumentException($"{command.GetType().Name} does not check an expected version.", nameof(expectedVersion));
        // The empty id names no campaign, and Marten loads no stream by it (it throws): decided here, as the handlers decide a
        // campaign that does not exist (InvalidCampaignId for a create, CampaignNotFound otherwise; a cancel is audited).
        if (command.CampaignId == Guid.Empty && bus is MessageBus { Runtime.Services: var container } && container.GetService<IDocumentStore>() is { } documents)
            return await DecideWithoutCampaignAsync(documents, container.GetService<TimeProvider>() ?? TimeProvider.System, tenantId, command, cancellation);

        CommandResult result;
        // A cancel goes before the send on this node (CancelPrecedence).
        using var precedence = command is CancelCampaign && bus is MessageBus { Runtime.Services: var node } ? node.GetService<CancelPrecedence>()?.Enter() : null;
        try
        {
            result = expectedVersion is { } version
                ? await bus.InvokeAsync<CommandResult>(command, new DeliveryOptions { TenantId = tenantId }
                    .WithHeader(ExpectedVersionHeader, version.ToString(CultureInfo.InvariantCulture)), cancellation)
                : await bus.InvokeForTenantAsync<CommandResult>(tenantId, command, cancellation);
        }
        catch (Exception ex) when (CampaignErrorPolicy.IsLostRace(ex))
        {
            throw new CampaignConcurrencyException(command.CampaignId, ex);
        }
        if (result.VersionMismatch is var (expected, actual)) throw new CampaignVersionMismatchException(command.CampaignId, expected, actual);

        // Most handlers take the sequence from their commit. Otherwise (a refusal appends nothing, some handlers do not
        // take it) it is read now the command has committed: the last event of every stream the command can write (a
        // clone's new stream, the tenant's audit stream for an unknown campaign).
        if (result.Sequence > 0) return result;
        if (bus is not MessageBus { Runtime.Services: var services } || services.GetService<IDocumentStore>() is not { } store) return result;
        Guid[] streams = command switch
        {
            CloneCampaign clone => [clone.CampaignId, clone.CloneId],
            CancelCampaign cancel => [cancel.CampaignId, AuditChain.TenantAuditStreamId(tenantId)],
            _ => [command.CampaignId],
        };
        await using var session = store.QuerySession(tenantId);
        return result with { Sequence = await session.LastSequenceAsync(streams, cancellation) };
    }

    private static async Task<CommandResult> DecideWithoutCampaignAsync(IDocumentStore store, TimeProvider clock, string tenantId,
        CampaignCommand command, CancellationToken cancellation)
    {
        await using var session = store.LightweightSession(tenantId);
        var (result, events, _) = Handling.Decide(command, null, Handling.Now(clock, null), session);
        await CancelCampaignHandler.AuditInTenantStreamAsync(session, events, cancellation);
        await session.SaveChangesAsync(cancellation);
        return result;
    }
}

/// <summary>Error handling of the campaign handlers.</summary>
/// <summary>
/// The dispatch step bounds itself: a provider call by <see cref="CampaignSendingOptions.ClaimTimeout"/> (the reconciler
/// records it failed then), the provider's "slow down" by <see cref="CampaignSendingOptions.MaxThrottleWait"/>, its retries
/// by <see cref="CampaignSendingOptions.DispatchRetryDelays"/>. Wolverine's own limit (60 s by default) cut a longer call and
/// handed the batch over again while the first call could still be taken; it is set past all of those.
/// </summary>
internal sealed class DispatchStepTimeout(CampaignSendingOptions options) : IHandlerPolicy
{
    public void Apply(IReadOnlyList<HandlerChain> chains, GenerationRules rules, IServiceContainer container)
    {
        var longest = options.ClaimTimeout + options.MaxThrottleWait + options.DispatchRetryDelays.Aggregate(TimeSpan.Zero, (sum, delay) => sum + delay)
                      + TimeSpan.FromMinutes(1);
        foreach (var chain in chains.Where(c => c.MessageType == typeof(SendBatch)))
            chain.ExecutionTimeoutInSeconds = (int)Math.Min(int.MaxValue, Math.Ceiling(longest.TotalSeconds));
    }
}

internal sealed class CampaignErrorPolicy : IHandlerPolicy
{
    public void Apply(IReadOnlyList<HandlerChain> chains, GenerationRules rules, IServiceContainer container)
    {
        foreach (var chain in chains.Where(c => c.MessageType.Assembly == typeof(CampaignCommand).Assembly
                                                || c.MessageType.Assembly == typeof(CampaignSendingExtensions).Assembly))
        {
            // Two commands raced on one campaign and this one lost: decide again on the new state. Jittered, so
            // the lanes of a campaign spread out instead of colliding again; then durable retries, never dropped.
            chain.OnException(IsLostRace)
                .RetryWithCooldown(Delays(5, 10, 20, 40, 80, 160, 320)).WithFullJitter()
                .Then.ScheduleRetryIndefinitely(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5));

            // Anything else (the database restarting, a node losing its connection): the step has not happened, so
            // it is tried again, durably, until it can run. Provider and audience failures never get here: their
            // handlers retry and then record them. A refusal by the rules is a bug worth a dead letter, not a loop.
            // The first minute of retries is in memory: a durable retry is itself written to the database, which fails
            // while it is down, and a fault audit saw lanes resume only 30-60 s after a 54 s outage had ended.
            // A command somebody waits for gives up after about 3 s (invoked, it then throws: the service answers 503): an
            // outage drill's create and cancel answered after a minute, past the clients' own timeouts.
            chain.OnException(e => e is not CampaignRejectedException && !IsLostRace(e))
                .RetryWithCooldown(Interactive.Contains(chain.MessageType) ? Delays(100, 1_000, 2_000)
                    : Delays(100, 1_000, 2_000, 5_000, 10_000, 10_000, 10_000, 10_000, 10_000))
                .Then.ScheduleRetryIndefinitely(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30));
        }
    }

    /// <summary>The commands people and applications wait for (the service's HTTP door invokes them), not the pipeline's steps.</summary>
    private static readonly HashSet<Type> Interactive =
    [
        typeof(CreateCampaign), typeof(EditCampaign), typeof(ScheduleCampaign), typeof(CancelCampaign), typeof(PauseSchedule),
        typeof(ResumeSchedule), typeof(RevertToDraft), typeof(CloneCampaign),
    ];

    /// <summary>
    /// Another command on the same campaign committed between this one's load and append, or the two waited for each
    /// other and PostgreSQL undid this one (a deadlock: every writer of a campaign takes its row lock before it writes, so
    /// none is expected; an application's own handler may not).
    /// </summary>
    public static bool IsLostRace(Exception ex) => ex is ConcurrencyException or ExistingStreamIdCollisionException or StreamLockedException
        or global::Marten.Exceptions.ExistingStreamIdCollisionException or global::Marten.Exceptions.StreamLockedException || IsDeadlock(ex);

    private static bool IsDeadlock(Exception? ex)
    {
        for (; ex is not null; ex = ex.InnerException)
            if (ex is Npgsql.PostgresException { SqlState: Npgsql.PostgresErrorCodes.DeadlockDetected }) return true;
        return false;
    }

    private static TimeSpan[] Delays(params int[] milliseconds) => milliseconds.Select(ms => TimeSpan.FromMilliseconds(ms)).ToArray();
}
