using JasperFx.Events.Projections;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Wolverine;
using Wolverine.Marten;
using Wolverine.Runtime;
using Wolverine.Transports;
using Wolverine.Util;

namespace EventSourcedCampaigns.Sending.Tests;

public sealed class SendingTests
{
    [Fact]
    public async Task A_scheduled_campaign_is_split_into_variant_batches_and_sent_once_each()
    {
        await using var host = await SendingHost.StartAsync(configure: o => o.WithBatchesInFlightPerCampaign(3).BatchesPerPage = 2);
        var id = await host.SendingAsync(1_050, 100,
            new Variant("A", "Winter sale", "Everything -30%", 70), new Variant("B", "Winter sale!", "Everything -30%, today only", 30));

        var sent = await host.WaitForAsync(id, s => s.Status == CampaignStatus.Sent, "the send to complete");

        var phase = Assert.IsType<CampaignPhase.Sent>(sent.Phase);
        Assert.Equal(1_050, phase.Plan.Recipients);
        Assert.Equal([new VariantShare("A", 735), new VariantShare("B", 315)], phase.Plan.Variants);
        Assert.Equal(1_050, phase.Progress.Delivered);
        var facts = new StreamFacts(await host.EventsAsync(id));
        facts.AssertEveryClaimRecordedOnce();
        Assert.Equal(phase.Plan.Batches, facts.Claims.Count());
        Assert.Equal(735, facts.Deliveries.Where(d => d.Delivery.Variant == "A").Sum(d => d.Delivery.Delivered));
        Assert.Equal(1, facts.Count<SendCompleted>());
        // A page is 2 batches of 100: one progress event per page.
        Assert.Equal(6, facts.Count<SchedulingProgressed>());
        Assert.All(Enumerable.Range(1, phase.Plan.Batches), n => Assert.Equal(1, host.Dispatcher.CallsFor(id, n)));
        Assert.Equal(phase.Plan.Batches, host.Dispatcher.CallsFor(id));
        await host.WaitUntilIdleAsync(); // the settle that follows the send deletes them
        Assert.Equal(0, await host.BatchDocumentsAsync(id)); // recipients' addresses are not kept after the send
    }

    [Fact]
    public async Task Batches_are_claimed_in_order_so_a_send_cancelled_part_way_reached_a_slower_variant_alike()
    {
        // 50/50 in batches A, B, A, B...: lanes that each kept to every 4th batch sent only A or only B, and the A lanes
        // ran ahead of B's slower provider calls (a cancel then left B far behind). Claimed in order, no lane runs ahead.
        await using var host = await SendingHost.StartAsync(configure: o => o.WithBatchesInFlightPerCampaign(4));
        var id = await host.ScheduledAsync(4_000, 100, TimeSpan.FromMinutes(1),
            new Variant("A", "Winter sale", "Everything -30%", 50), new Variant("B", "Winter sale!", "Everything -30%, today only", 50));
        host.Dispatcher.OnDispatch = async (batch, cancellation) =>
        {
            if (batch.CampaignId == id && batch.Variant.Key == "B") await Task.Delay(60, cancellation);
        };
        host.Clock.Advance(TimeSpan.FromMinutes(1));
        await host.RunAcceptedAsync(new StartSend(id));
        await host.WaitForAsync(id, s => s.Phase is CampaignPhase.Sending { Progress.Delivered: >= 1_000 }, "a quarter to be delivered");

        await host.RunAcceptedAsync(new CancelCampaign(id, SendingHost.Marketer, new CancelReason(CancelReasonCode.WrongAudience)));
        await host.WaitForAsync(id, s => s.Status == CampaignStatus.CancelledDuringSend, "the batches in flight to finish");

        var facts = new StreamFacts(await host.EventsAsync(id));
        facts.AssertEveryClaimRecordedOnce();
        Assert.Equal(Enumerable.Range(1, facts.Claims.Count()), facts.Claims.OrderBy(c => c.Version).Select(c => c.Claim.BatchNumber));
        long Delivered(string variant) => facts.Deliveries.Where(d => d.Delivery.Variant == variant).Sum(d => (long)d.Delivery.Delivered);
        // At most the 4 batches in flight apart.
        Assert.True(Math.Abs(Delivered("A") - Delivered("B")) <= 400, $"A {Delivered("A")}, B {Delivered("B")}");
        Assert.True(Delivered("B") >= 400, $"B {Delivered("B")}");
    }

    [Fact]
    public async Task An_audience_that_resolves_to_nobody_returns_the_campaign_to_draft_with_the_reason_and_sends_nothing()
    {
        await using var host = await SendingHost.StartAsync();
        var id = await host.CreateAsync();
        var empty = host.Audiences.Everyone("empty-" + id.ToString("N"), contacts: 0);
        await host.RunAcceptedAsync(new ScheduleCampaign(id, host.Clock.Now.AddHours(1), empty, 100, SendingHost.Marketer));

        var draft = await host.WaitForAsync(id, s => s.Status != CampaignStatus.Scheduling, "scheduling to finish");
        await host.WaitUntilIdleAsync(includingScheduled: true);

        Assert.Equal(CampaignStatus.Draft, draft.Status);
        var facts = new StreamFacts(await host.EventsAsync(id));
        Assert.Equal("Nobody is left to send to: the audience is empty once its exclusions apply.",
            facts.Events.Select(e => e.Data).OfType<SchedulingFailed>().Single().Reason);
        Assert.Equal(0, facts.Count<SchedulingCompleted>());
        Assert.Equal(0, host.Dispatcher.Calls);
        Assert.Equal(0, await host.DeadLettersAsync());
    }
}

public sealed class a_node_without_its_ports
{
    [Fact]
    public async Task does_not_start_and_names_what_is_missing()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<IAudienceResolver>(new AudienceDirectory()); // a provider is missing
        builder.Services.AddMarten(o => TestDatabase.Configure(o, TestDatabase.UniqueSchema("ports"), ProjectionLifecycle.Inline)).IntegrateWithWolverine();
        builder.Services.AddWolverine(opts => opts.AddCampaignSending());
        using var host = builder.Build();

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync());

        Assert.Contains("needs IMessageDispatcher", refused.Message);
        Assert.DoesNotContain("IAudienceResolver", refused.Message);
    }
}

public sealed class a_node_that_does_not_run_the_pipeline
{
    [Fact]
    public async Task hands_a_batch_found_in_its_inbox_to_the_senders_instead_of_calling_its_provider()
    {
        // After a sender dies, Wolverine's durability agent may recover the sender's inbox onto any node, an API node too.
        var dispatcher = new FakeDispatcher();
        var (host, schema) = await StartAsync("apinode", dispatcher);
        using var _ = host;

        await host.Services.GetRequiredService<IMessageBus>().InvokeAsync(new SendBatch(Guid.NewGuid(), 1, 1));

        Assert.Equal(0, dispatcher.Calls);
        await HandedOverOnceAsync(schema);
        await host.StopAsync();
    }

    [Fact]
    public async Task hands_a_send_start_that_comes_due_on_it_to_the_senders_instead_of_claiming_batches_there()
    {
        // Found by an audit: a scheduled start came due on a projection node while no sender ran, which claimed the batches
        // there; they went out when a sender came back, 25 times later than MaxStartLateness allowed, without being held.
        var (host, schema) = await StartAsync("apistart", new FakeDispatcher());
        using var _ = host;
        var bus = host.Services.GetRequiredService<IMessageBus>();
        var id = Guid.NewGuid();

        // As a durability agent delivers a due scheduled message: into the node's own command queue.
        await bus.EndpointFor(new Uri("local://campaigns")).SendAsync(new StartSend(id), new DeliveryOptions { TenantId = SendingHost.Tenant });

        await HandedOverOnceAsync(schema);
        await using var session = host.Services.GetRequiredService<IDocumentStore>().QuerySession(SendingHost.Tenant);
        Assert.Empty(await session.Events.FetchStreamAsync(id));
        await host.StopAsync();
    }

    [Fact]
    public async Task recovers_a_hand_over_a_dead_sender_had_taken_and_hands_it_to_the_senders_again()
    {
        // Found by an operator's audit: Wolverine's durability agent ran on the API node, which did not listen to the
        // hand-off queue, and it recovers a dead node's inbox only into a listener of the same address. The batches a killed
        // sender had taken from the queue stayed in the inbox for good, and their campaign stayed Sending.
        var dispatcher = new FakeDispatcher();
        var (host, schema) = await StartAsync("apirecover", dispatcher);
        using var _ = host;
        var runtime = host.Services.GetRequiredService<IWolverineRuntime>();

        // What a sender that died leaves, once Wolverine gave its inbox back to any node: the batch it took, not yet sent.
        var taken = new Envelope(new SendBatch(Guid.NewGuid(), 1, 1))
        {
            TenantId = SendingHost.Tenant, Destination = new Uri("postgresql://campaign_handoff/"), Status = EnvelopeStatus.Incoming, OwnerId = TransportConstants.AnyNode,
        };
        taken.Serializer = runtime.Options.DefaultSerializer;
        taken.ContentType = taken.Serializer.ContentType;
        taken.MessageType = typeof(SendBatch).ToMessageTypeName();
        taken.Data = taken.Serializer.Write(taken);
        await runtime.Storage.Inbox.StoreIncomingAsync(taken);

        await HandedOverOnceAsync(schema, TimeSpan.FromSeconds(60));
        Assert.Equal(0, dispatcher.Calls);
        await host.StopAsync();
    }

    private static async Task<(IHost Host, string Schema)> StartAsync(string name, FakeDispatcher dispatcher)
    {
        var schema = TestDatabase.UniqueSchema(name);
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<IAudienceResolver>(new AudienceDirectory());
        builder.Services.AddSingleton<IMessageDispatcher>(dispatcher);
        builder.Services.AddMarten(o => TestDatabase.Configure(o, schema, ProjectionLifecycle.Inline))
            .IntegrateWithWolverine(w => { w.MessageStorageSchemaName = schema; w.TransportSchemaName = schema; });
        builder.Services.AddWolverine(opts =>
        {
            opts.Durability.Mode = DurabilityMode.Solo;
            opts.Policies.AutoApplyTransactions();
            opts.AddCampaignSending(o => { o.RunPipeline = false; o.HandOffQueue = "campaign_handoff"; });
        });
        var host = builder.Build();
        await host.StartAsync();
        return (host, schema);
    }

    private static async Task HandedOverOnceAsync(string schema, TimeSpan? patience = null)
    {
        await using var connection = new Npgsql.NpgsqlConnection(TestDatabase.ConnectionString);
        await connection.OpenAsync();
        for (var deadline = DateTime.UtcNow + (patience ?? TimeSpan.FromSeconds(20)); ; await Task.Delay(50))
        {
            await using var count = new Npgsql.NpgsqlCommand($"select count(*) from {schema}.wolverine_queue_campaign_handoff", connection);
            if ((long)(await count.ExecuteScalarAsync())! == 1) break; // handed over, once
            Assert.True(DateTime.UtcNow < deadline, "The message never reached the hand-off queue.");
        }
    }
}

public sealed class the_command_door
{
    [Fact]
    public async Task Returns_the_sequence_of_the_last_event_each_command_committed_or_of_the_campaign_when_it_appended_nothing()
    {
        await using var host = await SendingHost.StartAsync();
        var id = Guid.NewGuid();

        var created = await host.RunAsync(new CreateCampaign(id, "Winter sale", Channel.Email, [new Variant("A", "Hi", "-30%", 100)], SendingHost.Marketer));
        Assert.Equal((await host.EventsAsync(id))[^1].Sequence, created.Sequence);

        var cancelled = await host.RunAsync(new CancelCampaign(id, SendingHost.Marketer, new CancelReason(CancelReasonCode.Other, "Draft")));
        Assert.True(cancelled.IsRejected); // a draft cannot be cancelled; the refusal is audited in its stream
        Assert.Equal((await host.EventsAsync(id))[^1].Sequence, cancelled.Sequence);
        Assert.True(cancelled.Sequence > created.Sequence);

        var paused = await host.RunAsync(new PauseSchedule(id, SendingHost.Marketer));
        Assert.True(paused.IsRejected); // appends nothing: the campaign's last event
        Assert.Equal(cancelled.Sequence, paused.Sequence);
    }
}
