using EventSourcedCampaigns.Marten.ReadModels;
using JasperFx.Events.Projections;
using Marten;

namespace EventSourcedCampaigns.Sending.Tests;

/// <summary>
/// Every cancel attempt through the Wolverine door is an audit event, chained per tenant: cancels of every kind in two
/// tenants, concurrent cancels in one, each tenant's audit holding exactly its own, and an edit in PostgreSQL named.
/// </summary>
public class AuditChainTests
{
    private const string Acme = SendingHost.Tenant;
    private const string Globex = "globex";
    private const int Concurrent = 12;

    private static CancelCampaign Cancel(Guid id, string text = "Wrong audience") =>
        new(id, SendingHost.Marketer, new CancelReason(CancelReasonCode.WrongAudience, text));

    [Fact]
    public async Task Every_cancel_attempt_is_chained_per_tenant_and_an_edited_event_is_named()
    {
        await using var host = await SendingHost.StartAsync(readModels: ProjectionLifecycle.Inline);
        var accepted = new Dictionary<string, Guid>();
        foreach (var tenant in new[] { Acme, Globex })
            accepted[tenant] = await CancelEveryWayAsync(host, tenant);

        // Concurrent cancels of different campaigns of one tenant: one chain, no fork.
        var many = new List<Guid>();
        for (var i = 0; i < Concurrent; i++) many.Add(await ScheduledAsync(host, Acme));
        var results = await Task.WhenAll(many.Select(id => Task.Run(() => host.Bus.ExecuteCampaignCommandAsync(Acme, Cancel(id)))));
        Assert.All(results, r => Assert.False(r.IsRejected));

        var acme = await host.Store.VerifyAuditChainAsync(Acme);
        var globex = await host.Store.VerifyAuditChainAsync(Globex);
        Assert.True(acme.Intact, acme.FirstBreak?.Reason);
        Assert.True(globex.Intact, globex.FirstBreak?.Reason);
        // 7 attempts and the accepted one's outcome (Cancelled) per tenant, and each concurrent cancel with its outcome.
        Assert.Equal((8L + 2 * Concurrent, 8L + 2 * Concurrent, 0L), (acme.Entries, acme.HeadPosition, acme.Unchained));
        Assert.Equal((8L, 8L), (globex.Entries, globex.HeadPosition));
        Assert.Equal([Acme, Globex], (await host.Store.AuditTenantsAsync()).Order());

        // Each tenant's audit holds exactly its own attempts, which with their outcomes take positions 1..N.
        foreach (var (tenant, expected) in new[] { (Acme, 7 + Concurrent), (Globex, 7) })
        {
            await using var session = host.Store.QuerySession(tenant);
            var entries = (await session.QueryCancellationAuditAsync(new CancellationAuditQuery(PageSize: 500))).Items;
            Assert.Equal(expected, entries.Count);
            Assert.All(entries, e => Assert.Equal(tenant, e.TenantId));
            var outcomesChained = entries.Where(e => e.OutcomeChainPosition is not null).ToList();
            Assert.Equal(entries.Where(e => e.Outcome is CancelOutcome.Cancelled), outcomesChained);
            Assert.All(outcomesChained, e => Assert.True(e.OutcomeChainPosition > e.ChainPosition));
            Assert.Equal(Enumerable.Range(1, expected + outcomesChained.Count).Select(p => (long?)p),
                entries.Select(e => e.ChainPosition).Concat(outcomesChained.Select(e => e.OutcomeChainPosition)).Order());
            var outcomes = entries.GroupBy(e => e.Outcome).ToDictionary(g => g.Key, g => g.Count());
            Assert.Equal(tenant == Acme ? 1 + Concurrent : 1, outcomes[CancelOutcome.Cancelled]);
            Assert.Equal(1, outcomes[CancelOutcome.Repeated]);
            Assert.Equal(2, outcomes[CancelOutcome.Rejected]);
            Assert.Equal(2, outcomes[CancelOutcome.RefusedBadInput]);
            Assert.Equal(1, outcomes[CancelOutcome.RefusedUnknownCampaign]);
            var huge = entries.Single(e => e.RejectionCode == RejectionCode.InvalidReason);
            Assert.True(huge.ReasonText!.Length < CancellingRules.MaxReasonLength + 40, "The huge reason was stored whole.");
            Assert.All(entries.Where(e => e.Outcome is CancelOutcome.Cancelled), e => Assert.NotEqual(Guid.Empty, e.CampaignId));
        }

        // Someone with database access edits the reason of one accepted cancel.
        var victim = accepted[Acme];
        var sequence = await TamperWithCancelRequestedAsync(host, victim, "data = jsonb_set(data, '{Reason,Text}', '\"changed afterwards\"')");
        await using (var session = host.Store.QuerySession(Acme))
        {
            var stored = (await session.Events.FetchStreamAsync(victim)).Select(e => e.Data).OfType<CancelRequested>().Single();
            Assert.Equal("changed afterwards", stored.Reason.Text);
        }

        var broken = await host.Store.VerifyAuditChainAsync(Acme);
        Assert.False(broken.Intact);
        var at = broken.FirstBreak!;
        Assert.Equal((sequence, victim), (at.Sequence, at.CampaignId));
        Assert.Contains("edited", at.Reason);
        Assert.True((await host.Store.VerifyAuditChainAsync(Globex)).Intact);
    }

    [Fact]
    public async Task An_audit_event_whose_data_was_replaced_by_null_is_a_named_break_not_a_crash()
    {
        await using var host = await SendingHost.StartAsync(readModels: ProjectionLifecycle.Inline);
        var first = await ScheduledAsync(host, Acme);
        var victim = await ScheduledAsync(host, Acme);
        await Accepted(host, Acme, Cancel(first));
        await Accepted(host, Acme, Cancel(victim));

        var sequence = await TamperWithCancelRequestedAsync(host, victim, "data = 'null'::jsonb");

        // The first cancel and its outcome (Cancelled) are 1 and 2.
        var (at, entries) = await FirstBreakAsync(host, sequence, victim, "no longer reads");
        Assert.Equal((3L, 2L), (at.Position, entries));
    }

    [Fact]
    public async Task An_audit_event_moved_to_another_campaigns_stream_is_a_named_break()
    {
        // Found by an audit: the audit reads an entry's campaign from its stream, which the hash does not cover; an
        // accepted cancel moved to a draft's stream made the draft "Cancelled" in the audit, and the chain said intact.
        await using var host = await SendingHost.StartAsync(readModels: ProjectionLifecycle.Inline);
        var victim = await ScheduledAsync(host, Acme);
        var draft = await CreateAsync(host, Acme);
        await Accepted(host, Acme, Cancel(victim));

        var sequence = await TamperWithCancelRequestedAsync(host, victim, $"stream_id = '{draft}', version = version + 1000");

        await FirstBreakAsync(host, sequence, victim, "was moved");
    }

    [Fact]
    public async Task The_outcome_of_a_cancel_mid_send_is_chained_so_an_edited_count_is_named()
    {
        // Before, the chain ended at the request: the counts after it (delivered after, failed, not sent) could be
        // edited in PostgreSQL and the chain still verified as intact.
        await using var host = await SendingHost.StartAsync(readModels: ProjectionLifecycle.Inline);
        var id = await host.ScheduledAsync(2_000, 100, TimeSpan.FromMinutes(1));
        host.Dispatcher.OnDispatch = async (_, cancellation) => await Task.Delay(30, cancellation);
        host.Clock.Advance(TimeSpan.FromMinutes(1));
        await host.RunAcceptedAsync(new StartSend(id));
        await host.WaitForAsync(id, s => s.Phase is CampaignPhase.Sending { Progress.Delivered: >= 300 }, "part of the send to be delivered");
        await Accepted(host, Acme, Cancel(id));
        await host.WaitForAsync(id, s => s.Status == CampaignStatus.CancelledDuringSend, "the batches in flight to finish");

        var stopped = (await host.EventsAsync(id)).Select(e => e.Data).OfType<CancelledDuringSend>().Single();
        Assert.Equal(2L, stopped.Audit?.Position); // after its request
        var intact = await host.Store.VerifyAuditChainAsync(Acme);
        Assert.True(intact.Intact, intact.FirstBreak?.Reason);
        Assert.Equal((2L, 2L), (intact.Entries, intact.HeadPosition));
        await using (var session = host.Store.QuerySession(Acme))
            Assert.Equal((1L, 2L), Assert.Single((await session.QueryCancellationAuditAsync(new CancellationAuditQuery())).Items) is var entry
                ? (entry.ChainPosition, entry.OutcomeChainPosition) : default);

        var sequence = await TamperAsync(host, id, "campaign_cancelled_during_send",
            $"data = jsonb_set(data, '{{DeliveredAfterRequest}}', '{stopped.DeliveredAfterRequest + 100}')");
        var (at, entries) = await FirstBreakAsync(host, sequence, id, "edited");
        Assert.Equal((2L, 1L), (at.Position, entries));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task An_outcome_archived_or_removed_is_a_break_named_at_its_own_position_and_campaign(bool archived)
    {
        // Found by an audit: an archived outcome vanished from the history and a rebuilt audit while the chain said intact;
        // a removed one was named at the next event's position and campaign, so the dashboard marked another cancel.
        await using var host = await SendingHost.StartAsync(readModels: ProjectionLifecycle.Inline);
        var (victim, next) = (await ScheduledAsync(host, Acme), await ScheduledAsync(host, Acme));
        await Accepted(host, Acme, Cancel(victim));
        await Accepted(host, Acme, Cancel(next));

        var tampered = archived
            ? await TamperAsync(host, victim, "campaign_cancelled", "is_archived = true")
            : await TamperAsync(host, victim, "campaign_cancelled", set: null);
        // A removed event is noticed at the next one (the next cancel's request, position 3), and named at its own place.
        var noticed = archived ? tampered : await TamperAsync(host, next, "campaign_cancel_requested", "version = version");
        var (at, entries) = await FirstBreakAsync(host, noticed, victim, archived ? "is archived" : "Expected position 2, the event says 3");
        Assert.Equal((2L, 1L), (at.Position, entries)); // the victim's outcome, after its request
    }

    [Fact]
    public async Task A_chain_restored_from_before_its_anchored_head_and_grown_again_is_a_break_at_the_anchor()
    {
        // Found by an audit: after a restore from an older backup and one more cancel, the chain verified intact past the
        // anchored position with another hash there, and nothing could check a head anchored earlier.
        await using var host = await SendingHost.StartAsync(readModels: ProjectionLifecycle.Inline);
        var (first, second, later) = (await ScheduledAsync(host, Acme), await ScheduledAsync(host, Acme), await ScheduledAsync(host, Acme));
        await Accepted(host, Acme, Cancel(first));
        await Accepted(host, Acme, Cancel(second));
        var anchored = await host.Store.VerifyAuditChainAsync(Acme);
        var anchor = new AuditChainAnchor(anchored.HeadPosition, anchored.HeadHash);
        Assert.Equal(4L, anchor.Position);
        Assert.True((await host.Store.VerifyAuditChainAsync(Acme, anchor)).Intact);
        Assert.True((await host.Store.VerifyAuditChainAsync(Acme, new AuditChainAnchor(2, (await ChainHashAtAsync(host, first, 2))))).Intact);

        // The database as a backup taken before the second cancel left it, then a cancel made after the restore.
        await TamperAsync(host, second, "campaign_cancel_requested", set: null);
        await TamperAsync(host, second, "campaign_cancelled", set: null);
        await using (var connection = new Npgsql.NpgsqlConnection(TestDatabase.ConnectionString))
        {
            await connection.OpenAsync();
            await using var rollBack = new Npgsql.NpgsqlCommand(
                $"update {host.Schema}.mt_doc_auditchainhead set data = jsonb_set(jsonb_set(data, '{{Position}}', '2'), '{{Hash}}', to_jsonb(@hash::text)) where id = @tenant", connection);
            rollBack.Parameters.AddWithValue("hash", await ChainHashAtAsync(host, first, 2));
            rollBack.Parameters.AddWithValue("tenant", Acme);
            Assert.Equal(1, await rollBack.ExecuteNonQueryAsync());
        }
        Assert.True((await host.Store.VerifyAuditChainAsync(Acme)).Intact);
        Assert.False((await host.Store.VerifyAuditChainAsync(Acme, anchor)).Intact); // shorter than the anchor
        Assert.Contains("before the anchored position 4", (await host.Store.VerifyAuditChainAsync(Acme, anchor)).FirstBreak!.Reason);
        await Accepted(host, Acme, Cancel(later));

        var grown = await host.Store.VerifyAuditChainAsync(Acme);
        Assert.True(grown.Intact, grown.FirstBreak?.Reason); // on its own, the restored chain is consistent
        Assert.Equal(4L, grown.HeadPosition);
        var checkedAgainstAnchor = await host.Store.VerifyAuditChainAsync(Acme, anchor);
        Assert.False(checkedAgainstAnchor.Intact);
        var at = checkedAgainstAnchor.FirstBreak!;
        Assert.Equal((4L, later, 3L), (at.Position, at.CampaignId, checkedAgainstAnchor.Entries));
        Assert.Contains($"not the anchored {anchor.Hash}", at.Reason);
        Assert.Throws<ArgumentException>(() => host.Store.VerifyAuditChainAsync(Acme, new AuditChainAnchor(0, anchor.Hash)).GetAwaiter().GetResult());
        Assert.Throws<ArgumentException>(() => host.Store.VerifyAuditChainAsync(Acme, new AuditChainAnchor(4, anchor.Hash.ToUpperInvariant())).GetAwaiter().GetResult());
    }

    /// <summary>The chain hash stored on <paramref name="campaign"/>'s audit event at <paramref name="position"/>.</summary>
    private static async Task<string> ChainHashAtAsync(SendingHost host, Guid campaign, long position)
    {
        await using var session = host.Store.QuerySession(Acme);
        return (await session.Events.FetchStreamAsync(campaign)).Select(e => e.Data).OfType<IAuditChainedEvent>()
            .Single(e => e.Audit?.Position == position).Audit!.Hash;
    }

    [Fact]
    public async Task Outcomes_stored_before_outcomes_were_chained_are_counted_unchained_and_one_without_a_link_after_them_is_a_break()
    {
        await using var host = await SendingHost.StartAsync(readModels: ProjectionLifecycle.Inline);
        var older = await ScheduledAsync(host, Acme);
        await Accepted(host, Acme, Cancel(older));
        // As an older version stored it: the outcome without a link, the request chained at position 1.
        await TamperAsync(host, older, "campaign_cancelled", "data = data - 'Audit'");
        await using (var connection = new Npgsql.NpgsqlConnection(TestDatabase.ConnectionString))
        {
            // An older version's head ended at the request.
            await connection.OpenAsync();
            await using var head = new Npgsql.NpgsqlCommand(
                $"update {host.Store.Options.Schema.For<AuditChainHead>()} set data = jsonb_set(jsonb_set(data, '{{Position}}', '1'), '{{Hash}}', " +
                $"(select data->'Audit'->'Hash' from {host.Schema}.mt_events where stream_id = @stream and type = 'campaign_cancel_requested')) " +
                "where tenant_id = @tenant and id = @tenant",
                connection);
            head.Parameters.AddWithValue("stream", older);
            head.Parameters.AddWithValue("tenant", Acme);
            Assert.Equal(1, await head.ExecuteNonQueryAsync());
        }
        var before = await host.Store.VerifyAuditChainAsync(Acme);
        Assert.True(before.Intact, before.FirstBreak?.Reason);
        Assert.Equal((1L, 1L), (before.Entries, before.Unchained));

        // After the upgrade: the next cancel and its outcome are chained, at 2 and 3.
        var newer = await ScheduledAsync(host, Acme);
        await Accepted(host, Acme, Cancel(newer));
        var after = await host.Store.VerifyAuditChainAsync(Acme);
        Assert.True(after.Intact, after.FirstBreak?.Reason);
        Assert.Equal((3L, 1L, 3L), (after.Entries, after.Unchained, after.HeadPosition));

        // From then on, an outcome without a link (written around the chain, or its link removed) is a break.
        var third = await ScheduledAsync(host, Acme);
        await Accepted(host, Acme, Cancel(third));
        var sequence = await TamperAsync(host, third, "campaign_cancelled", "data = data - 'Audit'");
        await FirstBreakAsync(host, sequence, third, "carries no chain link");
    }

    /// <summary>
    /// What someone with database access could do: change the <c>campaign_cancel_requested</c> event of campaign
    /// <paramref name="stream"/> (tenant Acme) with <paramref name="set"/>, an SQL <c>set</c> list; returns its sequence.
    /// </summary>
    private static Task<long> TamperWithCancelRequestedAsync(SendingHost host, Guid stream, string set) =>
        TamperAsync(host, stream, "campaign_cancel_requested", set);

    /// <summary>
    /// Change the event of stored type <paramref name="type"/> of campaign <paramref name="stream"/> (tenant Acme) with
    /// <paramref name="set"/>, or delete it when null; returns its sequence.
    /// </summary>
    private static async Task<long> TamperAsync(SendingHost host, Guid stream, string type, string? set)
    {
        await using var connection = new Npgsql.NpgsqlConnection(TestDatabase.ConnectionString);
        await connection.OpenAsync();
        await using var tamper = new Npgsql.NpgsqlCommand(
            (set is null ? $"delete from {host.Schema}.mt_events " : $"update {host.Schema}.mt_events set {set} ") +
            "where tenant_id = @tenant and stream_id = @stream and type = @type returning seq_id", connection);
        tamper.Parameters.AddWithValue("type", type);
        tamper.Parameters.AddWithValue("tenant", Acme);
        tamper.Parameters.AddWithValue("stream", stream);
        return (long)(await tamper.ExecuteScalarAsync())!;
    }

    /// <summary>Verify Acme's chain, which must break at event <paramref name="sequence"/> of <paramref name="campaign"/> for <paramref name="reason"/>: where, and how many entries verified before it.</summary>
    private static async Task<(AuditChainBreak At, long Entries)> FirstBreakAsync(SendingHost host, long sequence, Guid campaign, string reason)
    {
        var verification = await host.Store.VerifyAuditChainAsync(Acme);
        Assert.False(verification.Intact);
        var at = verification.FirstBreak!;
        Assert.Equal((sequence, campaign), (at.Sequence, at.CampaignId));
        Assert.Contains(reason, at.Reason);
        return (at, verification.Entries);
    }

    /// <summary>Accepted, repeated, refused (draft, sent), bad input (no actor, a huge reason), unknown campaign: 7 attempts.</summary>
    private static async Task<Guid> CancelEveryWayAsync(SendingHost host, string tenant)
    {
        var draft = await CreateAsync(host, tenant);
        var sent = await SentAsync(host, tenant);
        var scheduled = await ScheduledAsync(host, tenant);

        Task<CommandResult> Run(CampaignCommand c) => host.Bus.ExecuteCampaignCommandAsync(tenant, c);
        Assert.Equal(RejectionCode.NotCancellableDraft, (await Run(Cancel(draft))).Decision.Rejection?.Code);
        Assert.Equal(RejectionCode.NotCancellableSent, (await Run(Cancel(sent))).Decision.Rejection?.Code);
        Assert.False((await Run(Cancel(scheduled))).IsRejected);
        var again = await Run(Cancel(scheduled, "again"));
        Assert.False(again.IsRejected);
        Assert.Equal(RejectionCode.InvalidActor, (await Run(Cancel(scheduled) with { RequestedBy = null! })).Decision.Rejection?.Code);
        Assert.Equal(RejectionCode.InvalidReason, (await Run(Cancel(scheduled, new string('x', 100_000)))).Decision.Rejection?.Code);
        var unknown = Guid.NewGuid();
        Assert.Equal(RejectionCode.CampaignNotFound, (await Run(Cancel(unknown))).Decision.Rejection?.Code);

        await using var session = host.Store.QuerySession(tenant);
        Assert.Empty(await session.Events.FetchStreamAsync(unknown)); // no stream squats the unknown id
        Assert.Null(await session.LoadCampaignStateAsync(unknown));
        Assert.Equal(CampaignStatus.Cancelled, (await session.LoadCampaignStateAsync(scheduled))!.Status);
        return scheduled;
    }

    private static async Task<Guid> CreateAsync(SendingHost host, string tenant)
    {
        var id = Guid.NewGuid();
        await Accepted(host, tenant, new CreateCampaign(id, "Audit " + id.ToString("N")[..6], Channel.Email,
            [new Variant("A", "Winter sale", "Everything -30%", 100)], SendingHost.Marketer));
        return id;
    }

    private static async Task<Guid> ScheduledAsync(SendingHost host, string tenant, TimeSpan? sendIn = null)
    {
        var id = await CreateAsync(host, tenant);
        var audience = host.Audiences.Everyone("list-" + id.ToString("N"), 20);
        await Accepted(host, tenant, new ScheduleCampaign(id, host.Clock.Now + (sendIn ?? TimeSpan.FromDays(1)), audience, 10, SendingHost.Marketer));
        await WaitForAsync(host, tenant, id, CampaignStatus.Scheduled);
        return id;
    }

    private static async Task<Guid> SentAsync(SendingHost host, string tenant)
    {
        var id = await ScheduledAsync(host, tenant, TimeSpan.FromMinutes(1));
        host.Clock.Advance(TimeSpan.FromMinutes(1));
        await Accepted(host, tenant, new StartSend(id));
        await WaitForAsync(host, tenant, id, CampaignStatus.Sent);
        return id;
    }

    private static async Task Accepted(SendingHost host, string tenant, CampaignCommand command)
    {
        var result = await host.Bus.ExecuteCampaignCommandAsync(tenant, command);
        if (result.Decision.Rejection is { } r) throw new CampaignRejectedException(r);
    }

    private static async Task WaitForAsync(SendingHost host, string tenant, Guid id, CampaignStatus status)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            await using (var session = host.Store.QuerySession(tenant))
                if ((await session.LoadCampaignStateAsync(id))?.Status == status) return;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Campaign {id} of {tenant} never reached {status}.");
            await Task.Delay(20);
        }
    }
}
