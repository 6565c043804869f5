using Xunit;

namespace EventSourcedCampaigns.Tests.Model;

/// <summary>
/// The events of the audit hash chain: every cancel attempt and the outcome of an accepted one. The store stamps each with
/// its link (<see cref="IAuditChainedEvent.WithAudit"/>); the stamp changes the link and nothing else the chain hashes.
/// </summary>
public class an_audit_chained_event
{
    private static readonly DateTimeOffset At = new(2027, 1, 2, 3, 4, 5, TimeSpan.Zero);
    private static readonly Guid Campaign = Guid.Parse("3f2b7c1e-8f43-4a57-9d55-0d1d2f0c9a11");
    private static readonly Actor Marketer = new("ana@shop.example", RequestChannel.User);
    private static readonly CancelReason Reason = new(CancelReasonCode.WrongAudience, "wrong list");

    public static TheoryData<IAuditChainedEvent> Chained() =>
    [
        new CancelRequested(Campaign, Marketer, Reason, CampaignStatus.Sending, 10, 1, 2, At),
        new CancelRepeated(Campaign, Marketer, Reason, CampaignStatus.Cancelling, At),
        new CancelRejected(Campaign, Marketer, Reason, CampaignStatus.Draft, RejectionCode.NotCancellableDraft, "a draft", At),
        new Cancelled(Campaign, At, At.AddSeconds(1), 1_200),
        new CancelledDuringSend(Campaign, 10, 4, 1, 85, At, At.AddSeconds(3), TimeSpan.FromSeconds(3)),
    ];

    [Theory]
    [MemberData(nameof(Chained))]
    public void is_stamped_with_its_link_and_keeps_everything_else(IAuditChainedEvent e)
    {
        Assert.Null(e.Audit); // the decider leaves the link to the store
        var link = new AuditLink(7, new string('a', 64), new string('b', 64));

        var stamped = e.WithAudit(link);

        Assert.Equal(link, stamped.Audit);
        Assert.Equal(e, Unlinked(stamped));
    }

    [Fact]
    public void covers_the_outcomes_of_a_cancel_as_well_as_its_attempts()
    {
        Assert.IsAssignableFrom<IAuditChainedEvent>(new Cancelled(Campaign, At, At));
        Assert.IsAssignableFrom<IAuditChainedEvent>(new CancelledDuringSend(Campaign, 0, 0, 0, 0, At, At, TimeSpan.Zero));
        Assert.False(typeof(ICancelAuditEvent).IsAssignableFrom(typeof(Cancelled)), "an outcome is not an attempt: the audit lists attempts");
    }

    /// <summary>The event with its link taken off again: equal to the original when the stamp changed nothing else.</summary>
    private static IAuditChainedEvent Unlinked(IAuditChainedEvent e) => e switch
    {
        CancelRequested x => x with { Audit = null },
        CancelRepeated x => x with { Audit = null },
        CancelRejected x => x with { Audit = null },
        Cancelled x => x with { Audit = null },
        CancelledDuringSend x => x with { Audit = null },
        _ => throw new ArgumentException(e.GetType().Name),
    };
}
