// The C# samples of the docs that Program.cs does not run, verbatim: the package READMEs (src/*/README.md, shown on
// nuget.org), the repository's README and the pre-generated code of docs/getting-started.md. Compiled against the packed
// packages, so a sample whose API was renamed or changed fails the consumer's build; the packaging test checks that every
// C# block of README.md, docs/*.md and src/*/README.md is in this project. Each sample's free variables are its method's
// parameters.
using System.Text.Json;
using EventSourcedCampaigns;
using EventSourcedCampaigns.Decisions;
using EventSourcedCampaigns.Marten;
using EventSourcedCampaigns.Ports;
using EventSourcedCampaigns.Smtp;
using EventSourcedCampaigns.Testing;
using EventSourcedCampaigns.Webhooks;
using EventSourcedCampaigns.Wolverine;
using JasperFx;
using JasperFx.Events.Daemon;
using Marten;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Wolverine;
using Wolverine.Marten;

internal static class Samples
{
    /// <summary>README.md, "Using it".</summary>
    public static async Task UsingIt(HostApplicationBuilder builder, string connectionString, IMessageBus bus, string tenantId, Guid campaignId)
    {
        builder.Services.AddSingleton<IAudienceResolver, MyAudienceResolver>();   // lists/segments -> recipients
        builder.Services.AddSingleton<IMessageDispatcher, MyEmailProvider>();     // a batch -> your provider

        builder.Services.AddMarten(opts =>
        {
            opts.Connection(connectionString);
            opts.AddCampaigns();                 // events, tenancy, write model, read models
        })
        .AddAsyncDaemon(DaemonMode.HotCold)      // builds the read models (not needed with c => c.ReadModelsInline())
        .IntegrateWithWolverine();

        builder.Services.AddWolverine(opts => opts.AddCampaignSending());   // the command door and send pipeline

        var result = await bus.ExecuteCampaignCommandAsync(tenantId,
            new CancelCampaign(campaignId, new Actor("ana@shop.example", RequestChannel.User),
                               new CancelReason(CancelReasonCode.WrongAudience, "Sent to the wrong segment")));

        if (result.Decision.Rejection is { Code: RejectionCode.NotCancellableSent } refused)
            Console.WriteLine(refused.Message);  // "This campaign has already been fully sent. ..."
    }

    /// <summary>docs/getting-started.md, step 2: the handler code pre-generated instead of compiled at run time.</summary>
    public static async Task<int> PreGenerated(HostApplicationBuilder builder, string[] args)
    {
        using var host = builder.Build();
        return await host.RunJasperFxCommands(args);   // using JasperFx;
    }

    /// <summary>src/EventSourcedCampaigns/README.md.</summary>
    public static void Domain(Guid id, CampaignState? state)
    {
        var decision = Decider.Decide(new CancelCampaign(id, new Actor("ana@shop.example", RequestChannel.User),
            new CancelReason(CancelReasonCode.WrongAudience)), state, DateTimeOffset.UtcNow);
        if (decision.Rejection is { } refused) Console.WriteLine($"{refused.Code}: {refused.Message}");
    }

    /// <summary>src/EventSourcedCampaigns.Marten/README.md.</summary>
    public static async Task MartenPackage(IServiceCollection services, string connectionString, IDocumentStore store, string tenantId, Guid campaignId)
    {
        services.AddMarten(opts =>
        {
            opts.Connection(connectionString);
            opts.AddCampaigns();          // or opts.AddCampaigns(c => c.ReadModelsInline())
        });

        await using var query = store.QuerySession(tenantId);
        var sending = await query.QueryCampaignsAsync(new CampaignListQuery(Status: CampaignStatus.Sending));
        // Read your own write: wait until the read models have applied the campaign's last event.
        await store.WaitForReadModelsAsync(await query.LastSequenceAsync(campaignId), TimeSpan.FromSeconds(10));
        var report = await query.LoadSendReportAsync(campaignId);
    }

    /// <summary>src/EventSourcedCampaigns.Wolverine/README.md.</summary>
    public static async Task WolverinePackage(IServiceCollection services, string connectionString, IMessageBus bus, string tenantId,
        Guid id, Actor actor, CancelReason reason)
    {
        services.AddMarten(opts => { opts.Connection(connectionString); opts.AddCampaigns(); })
            .IntegrateWithWolverine()
            .AddAsyncDaemon(DaemonMode.HotCold);   // builds the read models (not needed with AddCampaigns(c => c.ReadModelsInline()))
        services.AddSingleton<IAudienceResolver, MyAudienceResolver>();
        services.AddSingleton<IMessageDispatcher, MyEmailProvider>();
        services.AddWolverine(opts => opts.AddCampaignSending());

        var result = await bus.ExecuteCampaignCommandAsync(tenantId, new CancelCampaign(id, actor, reason));
    }

    /// <summary>src/EventSourcedCampaigns.Testing/README.md.</summary>
    public static void TestingPackage()
    {
        var audience = BogusAudience.Everyone(contacts: 1_000_000, seed: 7);
        var provider = new FakeDispatcher(new FakeDispatcherOptions(Latency: TimeSpan.FromMilliseconds(5)));
    }

    /// <summary>src/EventSourcedCampaigns.Smtp/README.md.</summary>
    public static void SmtpPackage(IServiceCollection services, IConfiguration configuration)
    {
        services.AddSmtpDispatcher(configuration.GetSection("Campaigns:Smtp"));
        // or
        services.AddSmtpDispatcher(o => { o.Host = "smtp.example.com"; o.Port = 587; o.FromAddress = "news@shop.example"; });
    }

    /// <summary>src/EventSourcedCampaigns.Webhooks/README.md: the sender's registration and a receiver.</summary>
    public static void WebhooksPackage(IServiceCollection services, IConfiguration configuration, WebApplication app, string secret)
    {
        services.AddWebhookDispatcher(configuration.GetSection("Campaigns:Webhook")); // Url, Secret, AttemptTimeout, Retries

        // The receiver (ASP.NET Core): verify the raw bytes, then parse them.
        app.MapPost("/campaigns", async (HttpRequest request) =>
        {
            using var buffer = new MemoryStream();
            await request.Body.CopyToAsync(buffer);
            byte[] body = buffer.ToArray();
            if (!WebhookSignature.Verify(secret, request.Headers[WebhookSignature.Header], body, DateTimeOffset.UtcNow))
                return Results.Unauthorized();
            var batch = JsonSerializer.Deserialize<WebhookBatch>(body, WebhookJson.Options)!;
            // ... skip a batch whose Idempotency-Key was already processed, send the rest
            return Results.Ok();
        });
    }
}
