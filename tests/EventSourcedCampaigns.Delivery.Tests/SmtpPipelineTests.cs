using EventSourcedCampaigns.Decisions;
using EventSourcedCampaigns.Marten;
using EventSourcedCampaigns.Sending.Tests.Infrastructure;
using EventSourcedCampaigns.Smtp;
using EventSourcedCampaigns.Testing;
using EventSourcedCampaigns.Wolverine;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Wolverine;
using Wolverine.Marten;

namespace EventSourcedCampaigns.Delivery.Tests;

/// <summary>End to end: a campaign scheduled and sent by the real pipeline (Wolverine + Marten on PostgreSQL) through
/// the SMTP provider into the real SMTP server.</summary>
public sealed class SmtpPipelineTests
{
    private const string Tenant = "acme";
    private static readonly Actor Marketer = new("marketer@shop.example", RequestChannel.User);

    [Fact]
    public async Task A_two_variant_campaign_reaches_every_recipient_exactly_once_with_its_variant()
    {
        await using var server = await SmtpServer.StartAsync();
        const int contacts = 300;
        var audience = BogusAudience.Everyone(contacts, seed: 11);
        var expected = (await audience.ResolvePageAsync(Tenant, Audience.Of("everyone"), null, contacts + 1)).Recipients;
        Assert.Equal(contacts, expected.Count);
        // Faults the pipeline must absorb: two batches get a 421 (retried by the pipeline) and one recipient is refused.
        var refused = expected[42];
        server.Inject(new { transient_first = 2, refuse = new Dictionary<string, string> { [refused.Address] = "550 5.1.1 User unknown" } });

        var clock = new AdjustableClock();
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<TimeProvider>(clock);
        builder.Services.AddSingleton<IAudienceResolver>(audience);
        builder.Services.AddSmtpDispatcher(o =>
        {
            o.Host = "127.0.0.1"; o.Port = server.Port; o.Security = SmtpSecurity.None; o.FromAddress = "news@shop.example"; o.MaxConnections = 4;
        });
        builder.Services.AddMarten(o => TestDatabase.Configure(o, TestDatabase.UniqueSchema("smtp"))).IntegrateWithWolverine();
        builder.Services.AddWolverine(opts =>
        {
            opts.Durability.Mode = DurabilityMode.Solo;
            opts.Policies.AutoApplyTransactions();
            opts.AddCampaignSending(o => o.DispatchRetryDelays = [TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(40)]);
        });
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            var bus = host.Services.GetRequiredService<IMessageBus>();
            var store = host.Services.GetRequiredService<IDocumentStore>();
            var id = Guid.NewGuid();
            Variant[] variants = [new("A", "Winter sale: -30%", "Everything -30% until Sunday.", 50), new("B", "Last days of the winter sale", "Only three days left: -30%.", 50)];
            await Accepted(bus, new CreateCampaign(id, "Winter sale", Channel.Email, variants, Marketer));
            await Accepted(bus, new ScheduleCampaign(id, clock.Now + TimeSpan.FromMinutes(1), Audience.Of("everyone"), 25, Marketer));
            await WaitForAsync(store, id, s => s.Status == CampaignStatus.Scheduled, "scheduling to complete");
            clock.Advance(TimeSpan.FromMinutes(1));
            await Accepted(bus, new StartSend(id));
            var sent = await WaitForAsync(store, id, s => s.Status is CampaignStatus.Sent, "the send to complete", TimeSpan.FromMinutes(3));

            var phase = (CampaignPhase.Sent)sent.Phase;
            Assert.Equal((contacts - 1L, 1L), (phase.Progress.Delivered, phase.Progress.Failed));
            var messages = server.Messages();
            var perRecipient = messages.GroupBy(m => m.IdempotencyKey!.Split('/').Last()).ToDictionary(g => g.Key, g => g.ToList());
            var duplicates = perRecipient.Where(g => g.Value.Count > 1).Select(g => g.Key).ToList();
            Assert.True(duplicates.Count == 0, $"Recipients with more than one message: {string.Join(", ", duplicates.Take(10))}.");
            Assert.Equal(expected.Where(r => r != refused).Select(r => r.Id).Order(), perRecipient.Keys.Order());
            foreach (var message in messages)
            {
                var variant = variants.Single(v => v.Key == message.Message.Headers[SmtpDispatcher.VariantHeader]);
                Assert.Equal(variant.Subject, message.Message.Subject);
                Assert.Equal(variant.Content, message.Body.Trim());
            }
            var shares = phase.Plan.Variants.ToDictionary(v => v.Variant, v => v.Recipients);
            foreach (var variant in variants)
            {
                // Every recipient of the variant's batches got it, except the one refused recipient, in one of them.
                var count = messages.Count(m => m.Message.Headers[SmtpDispatcher.VariantHeader] == variant.Key);
                Assert.True(count == shares[variant.Key] || count == shares[variant.Key] - 1,
                    $"Variant {variant.Key}: {count} messages for {shares[variant.Key]} recipients.");
            }
            Assert.True(shares["A"] > 0 && shares["B"] > 0, "Both variants were sent.");
        }
        finally
        {
            await host.StopAsync();
        }
    }

    private static async Task Accepted(IMessageBus bus, CampaignCommand command)
    {
        var result = await bus.ExecuteCampaignCommandAsync(Tenant, command);
        Assert.True(result.Decision.Rejection is null, $"{command.GetType().Name} was refused: {result.Decision.Rejection}");
    }

    private static async Task<CampaignState> WaitForAsync(IDocumentStore store, Guid id, Func<CampaignState, bool> until, string what, TimeSpan? limit = null)
    {
        var deadline = DateTime.UtcNow + (limit ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            await using (var session = store.QuerySession(Tenant))
            {
                var state = await session.LoadCampaignStateAsync(id);
                if (state is not null && until(state)) return state;
                if (DateTime.UtcNow > deadline)
                    throw new TimeoutException($"Gave up waiting for {what}: campaign {id} is {state?.Status.ToString() ?? "missing"}.");
            }
            await Task.Delay(50);
        }
    }
}
