using Xunit.Abstractions;

namespace EventSourcedCampaigns.Sending.Tests;

public sealed class ProviderErrorTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_provider_call_may_run_until_the_claim_times_out_before_wolverine_cuts_the_step()
    {
        // Found by an audit: Wolverine's 60 s limit per message cut a 2-minute webhook call and handed the batch to the
        // gateway again every minute, until the reconciler failed it as "the node sending it was lost".
        await using var host = await SendingHost.StartAsync(configure: o => { o.ClaimTimeout = TimeSpan.FromMinutes(3); o.MaxThrottleWait = TimeSpan.FromMinutes(2); });
        var chain = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<global::Wolverine.Runtime.Handlers.HandlerGraph>(host.Services).Chains.Single(c => c.MessageType == typeof(SendBatch));

        Assert.True(chain.ExecutionTimeoutInSeconds >= (3 + 2) * 60 + 6, $"{chain.ExecutionTimeoutInSeconds} s");
    }

    [Fact]
    public async Task A_provider_error_with_a_NUL_character_is_recorded_without_it_and_the_batch_is_not_sent_again()
    {
        // PostgreSQL text cannot hold NUL: an answer stored as is would fail the dispatch step's commit, and its retry would
        // hand the batch to the provider again.
        var (host, dispatcher, id) = await SentWithBatchTwoThrowingAsync(40, () => new PermanentDispatchException("Refused:\0bad\0 payload"));
        await using var _ = host;

        var failure = Assert.Single(new StreamFacts(await host.EventsAsync(id)).Failures).Failure;
        Assert.Equal((2, "Refused:bad payload"), (failure.BatchNumber, failure.Error));
        Assert.Equal(1, dispatcher.CallsFor(id, 2));
        var failed = await host.OutcomesAsync(id, RecipientOutcome.Failed);
        Assert.Equal(10, failed.Total);
        Assert.All(failed.Items, r => Assert.Equal("Refused:bad payload", r.Reason));
        Assert.Equal(0, await host.DeadLettersAsync());
    }

    public static TheoryData<string> OddAnswers => ["no answer", "refusals naming no one"];

    [Theory]
    [MemberData(nameof(OddAnswers))]
    public async Task An_adapter_answering_oddly_after_taking_the_batch_never_gets_it_again_and_the_send_completes(string odd)
    {
        // The provider took the batch: whatever the adapter then answers, a throw would have the step retried and the
        // batch sent again.
        var dispatcher = new FakeDispatcher();
        await using var host = await SendingHost.StartAsync(dispatcher, o => o.WithBatchesInFlightPerCampaign(2));
        var id = await host.ScheduledAsync(40, 10, TimeSpan.FromMinutes(1));
        dispatcher.OnAnswer = (batch, answer) => batch.CampaignId != id || batch.BatchNumber != 2 ? answer
            : odd == "no answer" ? null
            : new DispatchResult(8, 2) { Refusals = [null!, new(null!, "no one"), new(batch.Recipients[3].Id, null!)] };
        host.Clock.Advance(TimeSpan.FromMinutes(1));
        await host.RunAcceptedAsync(new StartSend(id));

        await host.WaitForAsync(id, s => s.Status == CampaignStatus.Sent, "the send to complete", TimeSpan.FromSeconds(30));
        await host.WaitUntilIdleAsync();

        Assert.Equal(1, dispatcher.CallsFor(id, 2));
        var facts = new StreamFacts(await host.EventsAsync(id));
        if (odd == "no answer")
        {
            var failure = Assert.Single(facts.Failures).Failure;
            Assert.Equal((2, "The provider gave no answer for the batch."), (failure.BatchNumber, failure.Error));
        }
        else Assert.Empty(facts.Failures);
        Assert.Equal(0, await host.DeadLettersAsync());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Recipients_an_adapter_names_as_taken_before_it_failed_are_not_handed_over_again_and_count_as_delivered(bool restSucceeds)
    {
        // An SMTP connection that drops after some messages: the adapter says which recipients the server took or refused.
        var dispatcher = new FakeDispatcher();
        await using var host = await SendingHost.StartAsync(dispatcher, o =>
        {
            o.WithBatchesInFlightPerCampaign(2);
            o.DispatchRetryDelays = [TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(20)];
        });
        var id = await host.ScheduledAsync(40, 10, TimeSpan.FromMinutes(1));
        var handedOver = new System.Collections.Concurrent.ConcurrentQueue<string[]>();
        dispatcher.OnDispatch = (batch, _) =>
        {
            if (batch.CampaignId != id || batch.BatchNumber != 2) return ValueTask.CompletedTask;
            handedOver.Enqueue(batch.Recipients.Select(r => r.Id).ToArray());
            if (handedOver.Count == 1)
                throw new TransientDispatchException("Connection reset after 5 of 10 recipients.")
                {
                    Accepted = [.. batch.Recipients.Take(4).Select(r => r.Id), "not-of-this-batch"],
                    Refused = [new(batch.Recipients[4].Id, "550 5.1.1 no such user")],
                };
            return restSucceeds ? ValueTask.CompletedTask : throw new TransientDispatchException("Connection refused.");
        };
        host.Clock.Advance(TimeSpan.FromMinutes(1));
        await host.RunAcceptedAsync(new StartSend(id));

        var sent = await host.WaitForAsync(id, s => s.Status == CampaignStatus.Sent, "the send to complete", TimeSpan.FromSeconds(30));
        await host.WaitUntilIdleAsync();

        var calls = handedOver.ToArray();
        Assert.Equal(restSucceeds ? 2 : 3, calls.Length);
        Assert.Equal(10, calls[0].Length);
        Assert.All(calls.Skip(1), retried => Assert.Equal(calls[0][5..], retried)); // only the five not taken nor refused
        var progress = ((CampaignPhase.Sent)sent.Phase).Progress;
        Assert.Equal(restSucceeds ? (39L, 1L) : (34L, 6L), (progress.Delivered, progress.Failed));
        var failed = (await host.OutcomesAsync(id, RecipientOutcome.Failed)).Items;
        Assert.Equal("550 5.1.1 no such user", failed.Single(r => r.RecipientId == calls[0][4]).Reason);
        if (!restSucceeds)
            Assert.All(calls[0][5..], rest => Assert.EndsWith("Connection refused. Earlier attempts got 4 of the batch's 10 recipients through.",
                failed.Single(r => r.RecipientId == rest).Reason));
        Assert.Equal(restSucceeds ? 39 : 34, (await host.OutcomesAsync(id, RecipientOutcome.Delivered)).Total);
        Assert.Equal(0, await host.DeadLettersAsync());
    }

    [Theory]
    [InlineData("null Accepted", 3)]
    [InlineData("null Refused", 3)]
    [InlineData("Retry-After TimeSpan.MaxValue", 2)]
    public async Task An_odd_second_failure_never_gets_the_recipients_the_provider_took_handed_over_again(string odd, int calls)
    {
        // Found by an audit: a null list, or a Retry-After that overflowed the batch's total wait, threw in the step; the
        // step ran again with the recipients already taken forgotten, and they were sent to twice.
        var dispatcher = new FakeDispatcher();
        await using var host = await SendingHost.StartAsync(dispatcher, o => o.WithBatchesInFlightPerCampaign(2));
        var id = await host.ScheduledAsync(40, 10, TimeSpan.FromMinutes(1));
        var handedOver = new System.Collections.Concurrent.ConcurrentQueue<string[]>();
        dispatcher.OnDispatch = (batch, _) =>
        {
            if (batch.CampaignId != id || batch.BatchNumber != 2) return ValueTask.CompletedTask;
            handedOver.Enqueue(batch.Recipients.Select(r => r.Id).ToArray());
            return handedOver.Count switch
            {
                1 => throw new TransientDispatchException("Connection reset after 4 of 10.", retryAfter: TimeSpan.FromMilliseconds(10))
                    { Accepted = [.. batch.Recipients.Take(4).Select(r => r.Id)] },
                2 => throw odd switch
                {
                    "null Accepted" => new TransientDispatchException("Reset again.") { Accepted = null! },
                    "null Refused" => new TransientDispatchException("Reset again.") { Refused = null! },
                    _ => new TransientDispatchException("Slow down.", retryAfter: TimeSpan.MaxValue),
                },
                _ => ValueTask.CompletedTask,
            };
        };
        host.Clock.Advance(TimeSpan.FromMinutes(1));
        await host.RunAcceptedAsync(new StartSend(id));

        var sent = await host.WaitForAsync(id, s => s.Status == CampaignStatus.Sent, "the send to complete", TimeSpan.FromSeconds(30));
        await host.WaitUntilIdleAsync();

        var handed = handedOver.ToArray();
        Assert.Equal(calls, handed.Length);
        Assert.All(handed.Skip(1), retried => Assert.Equal(handed[0][4..], retried)); // never the four taken
        var progress = ((CampaignPhase.Sent)sent.Phase).Progress;
        Assert.Equal(calls == 3 ? (40L, 0L) : (34L, 6L), (progress.Delivered, progress.Failed));
        Assert.Equal(0, await host.DeadLettersAsync());
    }

    [Fact]
    public async Task A_Retry_After_of_zero_or_less_is_retried_as_a_failure_without_one_is()
    {
        // Found by an audit: it was waited for as a "slow down" of 100 ms, without using up the retries, every 100 ms
        // for MaxThrottleWait (10 minutes by default): about 6,000 calls for one batch.
        var (host, dispatcher, id) = await SentWithBatchTwoThrowingAsync(20, () => new TransientDispatchException("429", retryAfter: TimeSpan.FromSeconds(-5)));
        await using var _ = host;

        Assert.Equal(4, dispatcher.CallsFor(id, 2)); // the first, and the host's three retries
        Assert.Equal((2, "429"), Assert.Single(new StreamFacts(await host.EventsAsync(id)).Failures).Failure is var f ? (f.BatchNumber, f.Error) : default);
    }

    [Fact]
    public async Task Exceptions_the_provider_adapter_throws_are_retried_then_recorded_as_failed_batches_and_the_send_completes()
    {
        // What each batch's calls throw: some on every attempt, some only on the first; the others are accepted.
        var always = new Dictionary<int, Func<Exception>>
        {
            [2] = () => new HttpRequestException("Connection refused (provider.example:443)"),
            [5] = () => new TimeoutException("The provider did not answer within 30 s."),
            [7] = () => new InvalidOperationException("The adapter's connection pool is exhausted."),
        };
        var firstAttemptOnly = new Dictionary<int, Func<Exception>>
        {
            [3] = () => new HttpRequestException("502 Bad Gateway"),
            [6] = () => new TimeoutException("Read timed out."),
            [9] = () => new InvalidOperationException("Stale socket."),
        };
        var dispatcher = new FakeDispatcher();
        await using var host = await SendingHost.StartAsync(dispatcher, o => o.WithBatchesInFlightPerCampaign(3));
        var id = await host.ScheduledAsync(120, 10, TimeSpan.FromMinutes(1));
        dispatcher.OnDispatch = (batch, _) =>
        {
            if (batch.CampaignId != id) return ValueTask.CompletedTask;
            if (always.TryGetValue(batch.BatchNumber, out var error)) throw error();
            if (firstAttemptOnly.TryGetValue(batch.BatchNumber, out error) && dispatcher.CallsFor(id, batch.BatchNumber) == 1) throw error();
            return ValueTask.CompletedTask;
        };
        host.Clock.Advance(TimeSpan.FromMinutes(1));
        await host.RunAcceptedAsync(new StartSend(id));

        var sent = await host.WaitForAsync(id, s => s.Status == CampaignStatus.Sent, "the send to complete despite the adapter's exceptions",
            TimeSpan.FromSeconds(30));
        await host.WaitUntilIdleAsync();

        var facts = new StreamFacts(await host.EventsAsync(id));
        facts.AssertEveryClaimRecordedOnce();
        Assert.Equal([2, 5, 7], facts.Failures.Select(f => f.Failure.BatchNumber).Order());
        Assert.All(facts.Failures, f =>
        {
            var expected = always[f.Failure.BatchNumber]();
            Assert.Contains(expected.GetType().Name, f.Failure.Error);
            Assert.Contains(expected.Message, f.Failure.Error);
            Assert.Equal(10, f.Failure.Recipients);
        });
        // Every attempt was used (1 + the 3 retries) for the batches that always throw; one retry for the others.
        var attempts = 1 + 3;
        Assert.All(always.Keys, n => Assert.Equal(attempts, dispatcher.CallsFor(id, n)));
        Assert.All(firstAttemptOnly.Keys, n => Assert.Equal(2, dispatcher.CallsFor(id, n)));
        Assert.All(Enumerable.Range(1, 12).Except(always.Keys).Except(firstAttemptOnly.Keys), n => Assert.Equal(1, dispatcher.CallsFor(id, n)));
        var progress = ((CampaignPhase.Sent)sent.Phase).Progress;
        Assert.Equal((90L, 30L), (progress.Delivered, progress.Failed));
        Assert.Equal(0, await host.DeadLettersAsync());
        output.WriteLine(string.Join(Environment.NewLine, facts.Failures.Select(f => $"batch {f.Failure.BatchNumber}: {f.Failure.Error}")));
    }

    [Fact]
    public async Task A_provider_error_text_longer_than_500_characters_is_cut_in_the_failed_batch()
    {
        var dispatcher = new FakeDispatcher();
        await using var host = await SendingHost.StartAsync(dispatcher, o =>
        {
            o.WithBatchesInFlightPerCampaign(1);
            o.DispatchRetryDelays = [];
        });
        var id = await host.ScheduledAsync(20, 10, TimeSpan.FromMinutes(1));
        dispatcher.OnDispatch = (batch, _) => batch.CampaignId == id && batch.BatchNumber == 1
            ? throw new HttpRequestException(new string('x', 5_000))
            : ValueTask.CompletedTask;
        host.Clock.Advance(TimeSpan.FromMinutes(1));
        await host.RunAcceptedAsync(new StartSend(id));

        await host.WaitForAsync(id, s => s.Status == CampaignStatus.Sent, "the send to complete", TimeSpan.FromSeconds(30));

        var failure = Assert.Single(new StreamFacts(await host.EventsAsync(id)).Failures).Failure;
        Assert.Equal(SendingHandler.MaxErrorLength, failure.Error.Length);
        Assert.StartsWith("HttpRequestException: xxx", failure.Error);
        Assert.EndsWith("…", failure.Error);
    }

    /// <summary>A campaign of <paramref name="recipients"/> in batches of 10, sent to the end, its batch 2 throwing <paramref name="failure"/> on every call.</summary>
    private static async Task<(SendingHost Host, FakeDispatcher Dispatcher, Guid Id)> SentWithBatchTwoThrowingAsync(int recipients, Func<Exception> failure)
    {
        var dispatcher = new FakeDispatcher();
        var host = await SendingHost.StartAsync(dispatcher, o => o.WithBatchesInFlightPerCampaign(2));
        var id = await host.ScheduledAsync(recipients, 10, TimeSpan.FromMinutes(1));
        dispatcher.OnDispatch = (batch, _) => batch.CampaignId == id && batch.BatchNumber == 2 ? throw failure() : ValueTask.CompletedTask;
        host.Clock.Advance(TimeSpan.FromMinutes(1));
        await host.RunAcceptedAsync(new StartSend(id));
        await host.WaitForAsync(id, s => s.Status == CampaignStatus.Sent, "the send to complete", TimeSpan.FromSeconds(30));
        await host.WaitUntilIdleAsync();
        return (host, dispatcher, id);
    }
}
