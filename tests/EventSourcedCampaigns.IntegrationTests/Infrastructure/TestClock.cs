namespace EventSourcedCampaigns.IntegrationTests.Infrastructure;

/// <summary>A clock the test moves by hand (the outside world's time is a fake; the database is real).</summary>
public sealed class TestClock(DateTimeOffset start)
{
    public static DateTimeOffset Start { get; } = new(2026, 11, 2, 9, 0, 0, TimeSpan.Zero);

    public TestClock() : this(Start) { }

    public DateTimeOffset Now { get; private set; } = start;

    public DateTimeOffset Advance(TimeSpan by) => Now += by;
}
