using Marten;
using Marten.Services;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourcedCampaigns.Sending.Tests;

/// <summary>
/// A commit that goes through while its connection drops (a database restart during COMMIT): the step's attempt fails, so
/// Wolverine does not queue the messages the commit stored, and tries the step again on a campaign it already changed.
/// </summary>
public sealed class UnseenCommitTests
{
    [Theory]
    [InlineData(0L)] // the schedule: the step for the first page was lost
    [InlineData(10L)] // the first of three pages: the step for the second was lost
    [InlineData(30L)] // the last page, with the send time passed: the send's start was lost
    public async Task A_scheduling_step_whose_commit_went_through_unseen_does_not_leave_the_campaign_scheduling(long preparedByTheStep)
    {
        // Found by a database-restart test: a restart during a page's COMMIT left the campaign Scheduling for good (three
        // pages prepared, no step for the fourth), since the page tried again found itself prepared and did nothing.
        var unseen = new CommitUnseenOnce(e => e is SchedulingProgressed p ? p.RecipientsPrepared == preparedByTheStep : e is Scheduled && preparedByTheStep == 0);
        await using var host = await SendingHost.StartAsync(configure: o => o.BatchesPerPage = 2,
            services: s => s.ConfigureMarten(o => o.Listeners.Add(unseen)));
        var id = await host.CreateAsync();
        var audience = host.Audiences.Everyone("list-" + id.ToString("N"), 30);
        // Past the send time once the first page is prepared: the last page starts the send at once, in memory.
        var advanced = 0;
        host.Audiences.BeforeResolve = (_, continuation) =>
        {
            if (continuation is not null && Interlocked.Exchange(ref advanced, 1) == 0) host.Clock.Advance(TimeSpan.FromMinutes(2));
            return ValueTask.CompletedTask;
        };
        await host.RunAcceptedAsync(new ScheduleCampaign(id, host.Clock.Now + TimeSpan.FromMinutes(1), audience, 5, SendingHost.Marketer));

        var sent = await host.WaitForAsync(id, s => s.Status == CampaignStatus.Sent, "the send to finish", TimeSpan.FromSeconds(60));

        Assert.True(unseen.Thrown, "no commit of that page was made to look failed");
        var facts = new StreamFacts(await host.EventsAsync(id));
        facts.AssertEveryClaimRecordedOnce();
        var progress = (await host.EventsAsync(id)).Select(e => e.Data).OfType<SchedulingProgressed>().Select(p => p.RecipientsPrepared).ToArray();
        Assert.Equal([10L, 20L, 30L], progress); // no page prepared twice
        Assert.Equal(30L, (await host.OutcomesAsync(id, RecipientOutcome.Delivered)).Total);
        Assert.Equal(0, await host.DeadLettersAsync());
        Assert.Equal(CampaignStatus.Sent, sent.Status);
    }

    [Fact]
    public async Task A_cancel_whose_commit_went_through_unseen_still_settles_the_campaign()
    {
        // The settling the cancel's commit stored was never queued: its never-sent recipients went unrecorded and its
        // prepared batches (recipients' addresses) stayed for good.
        var unseen = new CommitUnseenOnce(e => e is Cancelled);
        await using var host = await SendingHost.StartAsync(services: s => s.ConfigureMarten(o => o.Listeners.Add(unseen)));
        var id = await host.ScheduledAsync(30, 5, TimeSpan.FromMinutes(5));

        await host.RunAcceptedAsync(new CancelCampaign(id, SendingHost.Marketer, new CancelReason(CancelReasonCode.ContentError)));

        Assert.True(unseen.Thrown, "the cancel's commit was not made to look failed");
        await WaitForSettledAsync(host, id);
        Assert.Equal(30L, (await host.OutcomesAsync(id, RecipientOutcome.NotSent)).Total);
    }

    [Fact]
    public async Task A_last_record_whose_commit_went_through_unseen_still_settles_the_send()
    {
        var unseen = new CommitUnseenOnce(e => e is SendCompleted);
        await using var host = await SendingHost.StartAsync(services: s => s.ConfigureMarten(o => o.Listeners.Add(unseen)));

        var id = await host.SendingAsync(30, 5);
        await host.WaitForAsync(id, s => s.Status == CampaignStatus.Sent, "the send to finish");

        Assert.True(unseen.Thrown, "the last record's commit was not made to look failed");
        await WaitForSettledAsync(host, id);
        Assert.Equal(30L, (await host.OutcomesAsync(id, RecipientOutcome.Delivered)).Total);
        Assert.Equal(0, await host.DeadLettersAsync());
    }

    [Fact]
    public async Task A_record_whose_commit_went_through_unseen_still_sends_the_batch_it_claimed()
    {
        // A record continues its lane: its commit claimed batch 5 (the start claimed 1-4) and stored its hand-over, which
        // Wolverine never queued. The reconciler recorded batch 5 as failed after the claim timeout (5 minutes here),
        // though nobody in it was sent anything.
        var unseen = new CommitUnseenOnce(e => e is BatchClaimed { BatchNumber: 5 });
        await using var host = await SendingHost.StartAsync(services: s => s.ConfigureMarten(o => o.Listeners.Add(unseen)));

        var id = await host.SendingAsync(30, 5);
        await host.WaitForAsync(id, s => s.Status == CampaignStatus.Sent, "the send to finish", TimeSpan.FromSeconds(60));

        Assert.True(unseen.Thrown, "no record's commit was made to look failed");
        var facts = new StreamFacts(await host.EventsAsync(id));
        facts.AssertEveryClaimRecordedOnce();
        Assert.Empty(facts.Failures);
        Assert.Equal(30L, (await host.OutcomesAsync(id, RecipientOutcome.Delivered)).Total);
        Assert.Equal(6, host.Dispatcher.CallsFor(id)); // each batch handed over once
        Assert.Equal(0, await host.DeadLettersAsync());
    }

    [Fact]
    public async Task A_reconcile_that_finished_the_send_and_whose_commit_went_through_unseen_still_settles_it()
    {
        // The reconciler records a batch whose provider call never returns as failed after the claim timeout: that record
        // finishes the send here, in the reconciler's commit.
        var unseen = new CommitUnseenOnce(e => e is SendCompleted);
        var dispatcher = new FakeDispatcher();
        var never = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await SendingHost.StartAsync(dispatcher, o =>
        {
            o.WithBatchesInFlightPerCampaign(2);
            o.ClaimTimeout = TimeSpan.FromSeconds(2);
            o.ReconcileInterval = TimeSpan.FromMilliseconds(500);
        }, services: s => s.ConfigureMarten(o => o.Listeners.Add(unseen)));
        var id = await host.CreateAsync();
        dispatcher.OnDispatch = async (batch, cancellation) =>
        {
            if (batch.CampaignId == id && batch.BatchNumber == 10) await never.Task.WaitAsync(cancellation);
        };
        var audience = host.Audiences.Everyone("list-" + id.ToString("N"), 100);
        await host.RunAcceptedAsync(new ScheduleCampaign(id, host.Clock.Now.AddSeconds(3), audience, 10, SendingHost.Marketer));

        await host.WaitForAsync(id, s => s.Status == CampaignStatus.Sent, "the reconciler to record batch 10 and finish the send", TimeSpan.FromSeconds(30));

        Assert.True(unseen.Thrown, "the reconciler's commit was not made to look failed");
        Assert.Contains("No result from the provider", Assert.Single(new StreamFacts(await host.EventsAsync(id)).Failures).Failure.Error);
        await WaitForSettledAsync(host, id);
    }

    private static async Task WaitForSettledAsync(SendingHost host, Guid id)
    {
        for (var deadline = DateTime.UtcNow.AddSeconds(30); await host.BatchDocumentsAsync(id) > 0; await Task.Delay(50))
            Assert.True(DateTime.UtcNow < deadline, $"The prepared batches of campaign {id} were never deleted: the finished campaign was not settled.");
    }

    /// <summary>Fails, once, after its commit, the first SaveChanges that appends an event <c>unseen</c> picks.</summary>
    private sealed class CommitUnseenOnce(Func<object, bool> unseen) : DocumentSessionListenerBase
    {
        private int _thrown;
        public bool Thrown => _thrown == 1;

        public override Task AfterCommitAsync(IDocumentSession session, IChangeSet commit, CancellationToken token) =>
            commit.GetEvents().Any(e => unseen(e.Data)) && Interlocked.Exchange(ref _thrown, 1) == 0
                ? throw new IOException("The connection dropped during COMMIT (made up by the test: the commit went through).")
                : Task.CompletedTask;
    }
}
