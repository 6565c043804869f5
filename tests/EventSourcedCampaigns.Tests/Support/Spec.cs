using Xunit;

namespace EventSourcedCampaigns.Tests.Support;

/// <summary>
/// Given these events, when this command (at the fixed <see cref="Now"/>), then these events / this
/// rejection / nothing. Events are compared by stored name and JSON, see <see cref="EventJson"/>.
/// </summary>
public sealed class Spec
{
    /// <summary>The fixed clock every decision is made at, unless a spec says otherwise.</summary>
    public static readonly DateTimeOffset Now = new(2026, 3, 2, 9, 30, 0, TimeSpan.Zero);

    private readonly IReadOnlyList<ICampaignEvent> _history;
    private CampaignCommand? _command;
    private DateTimeOffset _now = Now;

    private Spec(IReadOnlyList<ICampaignEvent> history) => _history = history;

    public static Spec Given(params ICampaignEvent[] history) => new(history);

    public static Spec Given(IEnumerable<ICampaignEvent> history) => new(history.ToList());

    /// <summary>A campaign that does not exist yet.</summary>
    public static Spec GivenNoCampaign() => new([]);

    public Spec When(CampaignCommand command)
    {
        _command = command;
        return this;
    }

    /// <summary>Decide at another time than <see cref="Now"/>.</summary>
    public Spec At(DateTimeOffset now)
    {
        _now = now;
        return this;
    }

    /// <summary>The command is accepted with exactly these events.</summary>
    public Outcome Then(params ICampaignEvent[] expected)
    {
        var (decision, state) = Run();
        Assert.False(decision.IsRejected, $"Expected events, but the command was rejected: {decision.Rejection}");
        Assert.Equal(EventJson.Describe(expected), EventJson.Describe(decision.Events));
        return new Outcome(state);
    }

    /// <summary>The command is refused with this code, and nothing is appended.</summary>
    public Rejection ThenRejected(RejectionCode code)
    {
        var (decision, _) = Run();
        Assert.True(decision.IsRejected, $"Expected a rejection {code}, but got: {EventJson.Describe(decision.Events)}");
        Assert.Equal(code, decision.Rejection!.Code);
        Assert.Empty(decision.Events);
        Assert.False(string.IsNullOrWhiteSpace(decision.Rejection.Message));
        return decision.Rejection;
    }

    /// <summary>The command is accepted and changes nothing: no events, no error.</summary>
    public Outcome ThenNothing()
    {
        var (decision, state) = Run();
        Assert.False(decision.IsRejected, $"Expected no events and no error, but the command was rejected: {decision.Rejection}");
        Assert.Empty(decision.Events);
        return new Outcome(state);
    }

    /// <summary>
    /// What a store appends (<see cref="Decider.EventsToAppend"/>) is exactly these audit events, and they change
    /// nothing: the decision itself is not refused only when <paramref name="rejected"/> is null.
    /// </summary>
    public void ThenAudited(RejectionCode? rejected, params ICampaignEvent[] expected)
    {
        if (_command is null) throw new InvalidOperationException("Call When(command) before Then.");
        var state = CampaignState.From(_history);
        var decision = Decider.Decide(_command, state, _now);
        Assert.Equal(rejected, decision.Rejection?.Code);
        Assert.Empty(decision.Events);
        var appended = Decider.EventsToAppend(decision, _command, state, _now);
        Assert.Equal(EventJson.Describe(expected), EventJson.Describe(appended));
        Assert.Equal(state, appended.Aggregate(state, CampaignState.Evolve));
    }

    private (Decision Decision, CampaignState? State) Run()
    {
        if (_command is null) throw new InvalidOperationException("Call When(command) before Then.");
        return Decider.Run(_command, CampaignState.From(_history), _now);
    }

    /// <summary>The state after the decision's events, for the status it leads to.</summary>
    public sealed record Outcome(CampaignState? State)
    {
        public Outcome AndStatus(CampaignStatus expected)
        {
            Assert.NotNull(State);
            Assert.Equal(expected, State.Status);
            return this;
        }
    }
}
