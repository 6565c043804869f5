using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using Wolverine.Runtime.Handlers;

namespace EventSourcedCampaigns.Sending.Tests;

/// <summary>A cancel goes before the send on its node (<see cref="CancelPrecedence"/>).</summary>
public sealed class CancelPrecedenceTests
{
    private static CancelPrecedence Precedence(TimeSpan maxWait) => new(new CampaignSendingOptions { MaxWaitBehindCancels = maxWait });

    [Fact]
    public void With_no_cancel_running_a_step_does_not_wait() =>
        Assert.True(Precedence(TimeSpan.FromMinutes(1)).WaitAsync(CancellationToken.None).IsCompletedSuccessfully);

    [Fact]
    public async Task A_step_waits_while_cancels_run_and_goes_on_when_the_last_ends()
    {
        var precedence = Precedence(TimeSpan.FromMinutes(1));
        var first = precedence.Enter();
        var second = precedence.Enter();
        var step = precedence.WaitAsync(CancellationToken.None);

        first.Dispose();
        first.Dispose(); // a second dispose of one cancel does not end another
        await Task.Delay(50);
        Assert.False(step.IsCompleted, "the step went on while a cancel still ran");

        second.Dispose();
        await step.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(precedence.WaitAsync(CancellationToken.None).IsCompletedSuccessfully);
    }

    [Fact]
    public async Task A_step_waits_at_most_MaxWaitBehindCancels()
    {
        // 1 s, not less: the check that the step waits at all runs right after it began, and a loaded machine can
        // stall this thread for a good part of a shorter bound (the step had then already given up waiting).
        var precedence = Precedence(TimeSpan.FromSeconds(1));
        using var cancel = precedence.Enter();

        var step = precedence.WaitAsync(CancellationToken.None);

        Assert.False(step.IsCompleted);
        await step.WaitAsync(TimeSpan.FromSeconds(10)); // completes, not throws, though the cancel still runs
    }

    [Fact]
    public async Task A_MaxWaitBehindCancels_longer_than_a_timer_takes_waits_for_the_cancel_instead_of_failing_the_step()
    {
        var precedence = Precedence(TimeSpan.MaxValue);
        var cancel = precedence.Enter();

        var step = precedence.WaitAsync(CancellationToken.None);
        await Task.Delay(50);
        Assert.False(step.IsCompleted, "the step went on while the cancel ran");

        cancel.Dispose();
        await step.WaitAsync(TimeSpan.FromSeconds(10)); // completes, not throws: a step after its provider call must not fail
    }

    [Fact]
    public void With_MaxWaitBehindCancels_zero_a_step_never_waits()
    {
        var precedence = Precedence(TimeSpan.Zero);
        using var cancel = precedence.Enter();
        Assert.True(precedence.WaitAsync(CancellationToken.None).IsCompletedSuccessfully);
    }

    [Fact]
    public async Task A_node_stopping_ends_the_wait()
    {
        var precedence = Precedence(TimeSpan.FromMinutes(1));
        using var cancel = precedence.Enter();
        using var stopping = new CancellationTokenSource();

        var step = precedence.WaitAsync(stopping.Token);
        await stopping.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => step.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public void A_negative_MaxWaitBehindCancels_is_refused() =>
        Assert.Equal(nameof(CampaignSendingOptions.MaxWaitBehindCancels),
            Assert.Throws<ArgumentOutOfRangeException>(() => new CampaignSendingOptions { MaxWaitBehindCancels = TimeSpan.FromSeconds(-1) }.Validate()).ParamName);

    [Fact]
    public async Task A_record_waits_before_it_takes_the_campaigns_stream_lock_never_while_holding_it()
    {
        // A record waiting for a cancel while it held the lock would hold up that very cancel for MaxWaitBehindCancels.
        await using var host = await SendingHost.StartAsync();
        host.Runtime.FindInvoker(typeof(BatchSent)); // builds the handler's code
        var chain = host.Runtime.Handlers.ChainFor<BatchSent>() ?? throw new InvalidOperationException("No handler for BatchSent.");
        var code = (string?)typeof(HandlerChain).GetProperty("SourceCode", BindingFlags.NonPublic | BindingFlags.Instance)?.GetValue(chain)
                   ?? throw new InvalidOperationException("Wolverine's HandlerChain no longer has SourceCode: find another way to read the handler's code.");

        var waits = code.IndexOf(nameof(CancelPrecedenceMiddleware) + "." + nameof(CancelPrecedenceMiddleware.BeforeAsync), StringComparison.Ordinal);
        var locks = code.IndexOf("FetchForExclusiveWriting", StringComparison.Ordinal);
        Assert.True(waits >= 0, "the record does not wait for the cancels:\n" + code);
        Assert.True(locks > waits, "the record waits after it took the stream lock:\n" + code);
    }

    [Fact]
    public async Task No_batch_of_a_send_goes_to_the_provider_while_a_cancel_runs_on_the_node()
    {
        await using var host = await SendingHost.StartAsync(configure: o => o.MaxWaitBehindCancels = TimeSpan.FromMinutes(5));
        var id = await host.ScheduledAsync(3_000, 1_000, TimeSpan.FromMinutes(1));
        var cancel = host.Runtime.Services.GetRequiredService<CancelPrecedence>().Enter();

        host.Clock.Advance(TimeSpan.FromMinutes(1));
        await host.RunAcceptedAsync(new StartSend(id)); // a caller's command: never held back
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Equal(0, host.Dispatcher.CallsFor(id));

        cancel.Dispose();
        var sent = await host.WaitForAsync(id, s => s.Status == CampaignStatus.Sent, "the send to complete once the cancel ended");
        Assert.Equal(3_000, Assert.IsType<CampaignPhase.Sent>(sent.Phase).Progress.Delivered);
    }

    [Fact]
    public async Task A_cancel_that_never_ends_slows_the_send_but_does_not_stop_it()
    {
        await using var host = await SendingHost.StartAsync(configure: o => o.MaxWaitBehindCancels = TimeSpan.FromMilliseconds(50));
        using var cancel = host.Runtime.Services.GetRequiredService<CancelPrecedence>().Enter();

        var id = await host.SendingAsync(3_000, 1_000);

        var sent = await host.WaitForAsync(id, s => s.Status == CampaignStatus.Sent, "the send to complete beside a cancel that never ends");
        Assert.Equal(3_000, Assert.IsType<CampaignPhase.Sent>(sent.Phase).Progress.Delivered);
    }
}
