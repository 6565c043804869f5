namespace EventSourcedCampaigns.Sending.Tests.Infrastructure;

/// <summary>The real clock plus an offset the test moves forward ("the send time has come") without waiting.</summary>
public sealed class AdjustableClock : TimeProvider
{
    private long _offsetTicks;

    public override DateTimeOffset GetUtcNow() => System.GetUtcNow().AddTicks(Interlocked.Read(ref _offsetTicks));

    public DateTimeOffset Now => GetUtcNow();

    public void Advance(TimeSpan by) => Interlocked.Add(ref _offsetTicks, by.Ticks);
}
