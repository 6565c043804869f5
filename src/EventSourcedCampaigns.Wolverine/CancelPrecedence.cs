namespace EventSourcedCampaigns.Wolverine;

/// <summary>
/// A cancel goes before the send on its node. While one runs there (<see cref="CampaignSendingExtensions.ExecuteCampaignCommandAsync(global::Wolverine.IMessageBus, string, CampaignCommand, CancellationToken)"/>),
/// the pipeline's steps on the node wait to begin, and a dispatch step waits before its provider call and before writing its
/// outcome, never while it holds a lock. So the cancel's round trips do not queue for the cores behind dozens of batch
/// steps: under a send that keeps both cores busy, its commit came 2-3 times sooner (docs/benchmarks.md). A step waits at
/// most <see cref="CampaignSendingOptions.MaxWaitBehindCancels"/> each time, so a stream of cancels slows the send but never
/// stops it. Only the node that runs the cancel holds its steps back.
/// </summary>
public sealed class CancelPrecedence(CampaignSendingOptions options)
{
    private readonly object _lock = new();
    private int _running;
    private TaskCompletionSource _idle = Idle();

    /// <summary>A cancel begins on this node; dispose the result once it has committed or failed.</summary>
    public IDisposable Enter()
    {
        lock (_lock)
        {
            if (_running++ == 0) _idle = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        return new Running(this);
    }

    /// <summary>Completes once no cancel runs on this node, or after <see cref="CampaignSendingOptions.MaxWaitBehindCancels"/>.</summary>
    public Task WaitAsync(CancellationToken cancellation)
    {
        Task idle;
        lock (_lock) idle = _idle.Task;
        return idle.IsCompleted || options.MaxWaitBehindCancels <= TimeSpan.Zero ? Task.CompletedTask : WaitAsync(idle, cancellation);
    }

    // The longest timeout a timer takes (about 49 days); a longer bound waits for the cancels however long they run.
    private static readonly TimeSpan LongestTimeout = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    private async Task WaitAsync(Task idle, CancellationToken cancellation)
    {
        try
        {
            // A step must not throw here: one waits after its provider call, and a retry would send the batch again.
            await idle.WaitAsync(options.MaxWaitBehindCancels < LongestTimeout ? options.MaxWaitBehindCancels : Timeout.InfiniteTimeSpan, cancellation);
        }
        catch (TimeoutException)
        {
            // Waited long enough: the step goes on beside the cancels.
        }
    }

    private void Leave()
    {
        TaskCompletionSource? idle = null;
        lock (_lock)
        {
            if (--_running == 0) idle = _idle;
        }
        idle?.TrySetResult();
    }

    private static TaskCompletionSource Idle()
    {
        var idle = new TaskCompletionSource();
        idle.SetResult();
        return idle;
    }

    private sealed class Running(CancelPrecedence precedence) : IDisposable
    {
        private int _left;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _left, 1) == 0) precedence.Leave();
        }
    }
}

/// <summary>Wolverine middleware of the pipeline's steps: each waits, before it begins, for the cancels running on its node.</summary>
public static class CancelPrecedenceMiddleware
{
    /// <summary>The steps held back: everything the pipeline does in the background, never a caller's command.</summary>
    internal static readonly Type[] Steps =
        [typeof(SendBatch), typeof(BatchSent), typeof(PrepareAudiencePage), typeof(SettleFinishedSend), typeof(ReconcileSend), typeof(WatchScheduling)];

    public static Task BeforeAsync(CancelPrecedence precedence, CancellationToken cancellation) => precedence.WaitAsync(cancellation);
}
