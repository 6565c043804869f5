using System.Collections;
using Xunit;

namespace EventSourcedCampaigns.Tests.Support;

/// <summary>
/// A history built by running commands through the decider, one minute apart, so every "given" is a
/// history the domain can really produce. Extend it with <see cref="Then"/>.
/// </summary>
public sealed class Story : IEnumerable<ICampaignEvent>
{
    private readonly List<ICampaignEvent> _events = [];

    /// <summary>The time of the last step.</summary>
    public DateTimeOffset Clock { get; private set; } = Histories.Start;

    public CampaignState? State { get; private set; }

    /// <summary>Run the command a minute after the previous step; a refused step is a broken history.</summary>
    public Story Then(CampaignCommand command)
    {
        Clock = Clock.AddMinutes(1);
        var (decision, state) = Decider.Run(command, State, Clock);
        if (decision.IsRejected)
            throw new InvalidOperationException($"The history step {command} was refused: {decision.Rejection}");
        _events.AddRange(decision.Events);
        State = state;
        return this;
    }

    /// <summary>Let time pass: the next step happens at <paramref name="time"/> (never earlier than a minute after the last).</summary>
    public Story At(DateTimeOffset time)
    {
        if (time > Clock) Clock = time.AddMinutes(-1);
        return this;
    }

    public IEnumerator<ICampaignEvent> GetEnumerator() => _events.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>"Given a campaign that is ...": the history of <see cref="Plan"/>'s campaign in each status.</summary>
public static class Histories
{
    /// <summary>The histories start a day before <see cref="Spec.Now"/>; the send time is an hour later.</summary>
    public static readonly DateTimeOffset Start = Spec.Now.AddDays(-1);
    public static readonly DateTimeOffset SendAt = Start.AddHours(1);

    /// <summary>A draft of <see cref="Plan"/>'s variants: an email unless <paramref name="channel"/> says otherwise.</summary>
    public static Story Draft(Channel channel = Channel.Email) => new Story().Then(Commands.Create(channel: channel));

    public static Story Scheduling(DateTimeOffset? sendAt = null, Channel channel = Channel.Email) =>
        Draft(channel).Then(Commands.Schedule(sendAt ?? SendAt)).Then(Commands.Progress(2_000, batches: 2));

    public static Story Scheduled(DateTimeOffset? sendAt = null, Channel channel = Channel.Email) =>
        Scheduling(sendAt, channel).Then(Commands.Progress(Plan.Recipients, batches: Plan.Batches)).Then(Commands.Complete());

    public static Story Paused(Channel channel = Channel.Email) => Scheduled(channel: channel).Then(Commands.Pause());

    /// <summary>Sending: batches 1..<paramref name="recorded"/> delivered, the next <paramref name="inFlight"/> with the provider.</summary>
    public static Story Sending(int recorded = 1, int inFlight = 2)
    {
        if (inFlight == 0 && recorded >= Plan.Batches)
            throw new ArgumentException("Recording every batch completes the send: use Sent().");
        var story = Scheduled().At(SendAt).Then(Commands.StartSend());
        for (var batch = 1; batch <= recorded + inFlight; batch++)
        {
            story.Then(Commands.Claim(batch));
            if (batch <= recorded) story.Then(Commands.Deliver(batch));
        }
        return story;
    }

    /// <summary>Cancel requested mid-send, <paramref name="inFlight"/> batches still with the provider.</summary>
    public static Story Cancelling(int recorded = 1, int inFlight = 2) =>
        inFlight > 0 ? Sending(recorded, inFlight).Then(Commands.Cancel())
            : throw new ArgumentException("With nothing in flight a cancel takes effect at once.");

    public static Story Sent()
    {
        var story = Scheduled().At(SendAt).Then(Commands.StartSend());
        for (var batch = 1; batch <= Plan.Batches; batch++) story.Then(Commands.Claim(batch)).Then(Commands.Deliver(batch));
        return story;
    }

    public static Story Cancelled() => Scheduled().Then(Commands.Cancel());

    /// <summary>Cancelled with batch 1 delivered before the request and batch 2 after it; batches 3..5 not sent.</summary>
    public static Story CancelledDuringSend() => Cancelling(recorded: 1, inFlight: 1).Then(Commands.Deliver(2));

    /// <summary>The default history of each status.</summary>
    public static Story In(CampaignStatus status)
    {
        var story = status switch
        {
            CampaignStatus.Draft => Draft(),
            CampaignStatus.Scheduling => Scheduling(),
            CampaignStatus.Scheduled => Scheduled(),
            CampaignStatus.Paused => Paused(),
            CampaignStatus.Sending => Sending(),
            CampaignStatus.Cancelling => Cancelling(),
            CampaignStatus.Sent => Sent(),
            CampaignStatus.Cancelled => Cancelled(),
            CampaignStatus.CancelledDuringSend => CancelledDuringSend(),
            _ => throw new ArgumentOutOfRangeException(nameof(status)),
        };
        return story.State?.Status == status ? story : throw new InvalidOperationException($"The {status} history ends {story.State?.Status}.");
    }
}

/// <summary>Statuses as theory data: "in every status but these".</summary>
public static class Statuses
{
    public static TheoryData<CampaignStatus> All => Except();

    public static TheoryData<CampaignStatus> Except(params CampaignStatus[] excluded) =>
        new(Enum.GetValues<CampaignStatus>().Except(excluded));

    public static TheoryData<CampaignStatus> Only(params CampaignStatus[] included) => new(included);
}
