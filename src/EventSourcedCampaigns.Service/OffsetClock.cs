namespace EventSourcedCampaigns.Service;

/// <summary>The system clock shifted by a fixed offset (<see cref="ServiceSettings.ClockOffset"/>).</summary>
internal sealed class OffsetClock(TimeSpan offset) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + offset;
}
