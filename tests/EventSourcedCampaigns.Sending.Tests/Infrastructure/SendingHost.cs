using JasperFx.Events;
using JasperFx.Events.Projections;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Wolverine;
using Wolverine.Marten;
using Wolverine.Runtime;

namespace EventSourcedCampaigns.Sending.Tests.Infrastructure;

/// <summary>A real Wolverine + Marten host on its own PostgreSQL schema, with fake ports.</summary>
public sealed class SendingHost : IAsyncDisposable
{
    public static readonly Actor Marketer = new("marketer@shop.example", RequestChannel.User);
    public const string Tenant = "acme";

    private readonly IHost _host;

    /// <summary>The host's services (Wolverine's handler graph, the store...).</summary>
    public IServiceProvider Services => _host.Services;

    private SendingHost(IHost host, string schema, AudienceDirectory audiences, FakeDispatcher dispatcher, AdjustableClock clock)
    {
        _host = host;
        Schema = schema;
        Audiences = audiences;
        Dispatcher = dispatcher;
        Clock = clock;
    }

    public string Schema { get; }
    public AudienceDirectory Audiences { get; }
    public FakeDispatcher Dispatcher { get; }
    public AdjustableClock Clock { get; }
    public IDocumentStore Store => _host.Services.GetRequiredService<IDocumentStore>();
    public IMessageBus Bus => _host.Services.GetRequiredService<IMessageBus>();
    public SendingNodeStart NodeStart => _host.Services.GetRequiredService<SendingNodeStart>();
    public WolverineRuntime Runtime => (WolverineRuntime)_host.Services.GetRequiredService<IWolverineRuntime>();

    /// <param name="services">Runs after the host's own registrations: a real provider registered here
    /// (<c>AddSmtpDispatcher</c>) replaces <paramref name="dispatcher"/>.</param>
    /// <param name="autoApplyTransactions">Wolverine's <c>AutoApplyTransactions()</c> policy; false wires Wolverine as the
    /// package README does, with <c>AddCampaignSending()</c> alone.</param>
    public static Task<SendingHost> StartAsync(FakeDispatcher? dispatcher = null, Action<CampaignSendingOptions>? configure = null,
        ProjectionLifecycle readModels = ProjectionLifecycle.Async, string? schema = null, AudienceDirectory? audiences = null, AdjustableClock? clock = null,
        Action<IServiceCollection>? services = null, bool autoApplyTransactions = true) =>
        StartAsync(schema ?? TestDatabase.UniqueSchema("send"), audiences ?? new AudienceDirectory(), dispatcher ?? new FakeDispatcher(),
            clock ?? new AdjustableClock(), configure, readModels, services, autoApplyTransactions);

    private static async Task<SendingHost> StartAsync(string schema, AudienceDirectory audiences, FakeDispatcher dispatcher, AdjustableClock clock,
        Action<CampaignSendingOptions>? configure, ProjectionLifecycle readModels, Action<IServiceCollection>? services, bool autoApplyTransactions)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<TimeProvider>(clock);
        builder.Services.AddSingleton<IAudienceResolver>(audiences);
        builder.Services.AddSingleton<IMessageDispatcher>(dispatcher);
        builder.Services.AddMarten(o => TestDatabase.Configure(o, schema, readModels)).IntegrateWithWolverine();
        builder.Services.AddWolverine(opts =>
        {
            // One node: on start it owns whatever a previous (crashed) node left in the durable inbox.
            opts.Durability.Mode = DurabilityMode.Solo;
            if (autoApplyTransactions) opts.Policies.AutoApplyTransactions();
            opts.AddCampaignSending(o =>
            {
                o.DispatchRetryDelays = [TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(40)];
                configure?.Invoke(o);
            });
        });
        services?.Invoke(builder.Services);
        var host = builder.Build();
        await host.StartAsync();
        return new SendingHost(host, schema, audiences, dispatcher, clock);
    }

    public Task<CommandResult> RunAsync(CampaignCommand command) => Bus.ExecuteCampaignCommandAsync(Tenant, command);

    public async Task<CommandResult> RunAcceptedAsync(CampaignCommand command)
    {
        var result = await RunAsync(command);
        return result.Decision.Rejection is { } r ? throw new CampaignRejectedException(r) : result;
    }

    public async Task<Guid> CreateAsync(params Variant[] variants)
    {
        var id = Guid.NewGuid();
        await RunAcceptedAsync(new CreateCampaign(id, "Winter sale " + id.ToString("N")[..6], Channel.Email,
            variants.Length > 0 ? variants : [new Variant("A", "Winter sale", "Everything -30%", 100)], Marketer));
        return id;
    }

    /// <summary>Create and schedule a campaign to <paramref name="recipients"/> contacts; returns once scheduling completed.</summary>
    public async Task<Guid> ScheduledAsync(long recipients, int batchSize, TimeSpan sendIn, params Variant[] variants)
    {
        var id = await CreateAsync(variants);
        var audience = Audiences.Everyone("list-" + id.ToString("N"), recipients);
        await RunAcceptedAsync(new ScheduleCampaign(id, Clock.Now + sendIn, audience, batchSize, Marketer));
        await WaitForAsync(id, s => s.Status == CampaignStatus.Scheduled, "scheduling to complete");
        return id;
    }

    /// <summary>Scheduled for a minute from now, then the clock jumps to the send time and the send starts.</summary>
    public async Task<Guid> SendingAsync(long recipients, int batchSize, params Variant[] variants)
    {
        var id = await ScheduledAsync(recipients, batchSize, TimeSpan.FromMinutes(1), variants);
        Clock.Advance(TimeSpan.FromMinutes(1));
        await RunAcceptedAsync(new StartSend(id));
        return id;
    }

    public async Task<CampaignState> StateAsync(Guid id)
    {
        await using var session = Store.QuerySession(Tenant);
        return await session.LoadCampaignStateAsync(id) ?? throw new InvalidOperationException($"No campaign {id}.");
    }

    public async Task<IReadOnlyList<IEvent>> EventsAsync(Guid id)
    {
        await using var session = Store.QuerySession(Tenant);
        return await session.Events.FetchStreamAsync(id);
    }

    /// <summary>The first page (up to 500) of a campaign's recipients with <paramref name="outcome"/>, and their total.</summary>
    public async Task<Page<RecipientResult>> OutcomesAsync(Guid id, RecipientOutcome outcome)
    {
        await using var session = Store.QuerySession(Tenant);
        return await session.QueryRecipientOutcomesAsync(new RecipientOutcomeQuery(id, outcome, PageSize: 500));
    }

    public async Task<int> BatchDocumentsAsync(Guid id)
    {
        await using var session = Store.QuerySession(Tenant);
        return await session.Query<CampaignBatch>().CountAsync(b => b.CampaignId == id);
    }

    /// <summary>Poll the write model until <paramref name="until"/> holds; fail (not hang) if it never does.</summary>
    public async Task<CampaignState> WaitForAsync(Guid id, Func<CampaignState, bool> until, string what, TimeSpan? limit = null)
    {
        var deadline = DateTime.UtcNow + (limit ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            var state = await StateAsync(id);
            if (until(state)) return state;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"Gave up waiting for {what}: campaign {id} is {state.Status}.");
            await Task.Delay(20);
        }
    }

    /// <summary>Wait until the durable inbox holds nothing left to run now (and, if asked, nothing scheduled for later).</summary>
    public async Task WaitUntilIdleAsync(bool includingScheduled = false, TimeSpan? limit = null)
    {
        var storage = _host.Services.GetRequiredService<IWolverineRuntime>().Storage;
        var deadline = DateTime.UtcNow + (limit ?? TimeSpan.FromSeconds(60));
        var quiet = 0;
        while (true)
        {
            var counts = await storage.Admin.FetchCountsAsync();
            quiet = counts.Incoming == 0 && (!includingScheduled || counts.Scheduled == 0) ? quiet + 1 : 0;
            if (quiet >= 3) return;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"The inbox never went idle: {counts.Incoming} incoming, {counts.Scheduled} scheduled.");
            await Task.Delay(50);
        }
    }

    public async Task<long> DeadLettersAsync() =>
        (await _host.Services.GetRequiredService<IWolverineRuntime>().Storage.Admin.FetchCountsAsync()).DeadLetter;

    /// <summary>Stop as a crash would: no waiting for in-flight work to finish.</summary>
    public async Task CrashAsync()
    {
        Runtime.Options.Durability.DrainTimeout = TimeSpan.Zero; // a handler that never returns held the stop for 30 s
        using var now = new CancellationTokenSource();
        await now.CancelAsync();
        try { await _host.StopAsync(now.Token); }
        catch (OperationCanceledException) { }
        _host.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }
}
