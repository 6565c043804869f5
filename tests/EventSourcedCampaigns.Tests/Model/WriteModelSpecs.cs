using EventSourcedCampaigns.Decisions;
using EventSourcedCampaigns.Tests.Support;
using Xunit;

namespace EventSourcedCampaigns.Tests.Model;

/// <summary>CampaignState: what the decider knows of a campaign, folded from its events alone.</summary>
public class the_write_model
{
    [Fact]
    public void dates_its_last_change_by_the_latest_event()
    {
        var state = Histories.Scheduling().State!;
        var later = state.LastChangedAt.AddSeconds(30);

        var after = CampaignState.Evolve(state, new SchedulingProgressed(Plan.Id, 3_000, Plan.Recipients, 3, later))!;

        Assert.Equal(later, after.LastChangedAt);
    }

    /// <summary>An event written by a node whose clock is behind still counts, but time does not go back with it.</summary>
    [Fact]
    public void never_dates_its_last_change_back_to_an_earlier_event()
    {
        var state = Histories.Scheduling().State!;
        var earlier = state.LastChangedAt.AddSeconds(-30);

        var after = CampaignState.Evolve(state, new SchedulingProgressed(Plan.Id, 3_000, Plan.Recipients, 3, earlier))!;

        Assert.Equal(3_000, Assert.IsType<CampaignPhase.Scheduling>(after.Phase).Prepared);
        Assert.Equal(state.LastChangedAt, after.LastChangedAt);
        Spec.Given(Histories.Scheduling().Append(new SchedulingProgressed(Plan.Id, 3_000, Plan.Recipients, 3, earlier)))
            .At(earlier)
            .When(Commands.Progress(4_000, batches: 4))
            .ThenRejected(RejectionCode.TimeWentBackwards);
    }

    /// <summary>Histories.Sending(): batch 1 delivered, batches 2 and 3 in flight, 4 and 5 not claimed.</summary>
    [Fact]
    public void knows_a_batch_as_claimed_while_in_flight_and_once_recorded()
    {
        var progress = Assert.IsType<CampaignPhase.Sending>(Histories.Sending().State!.Phase).Progress;

        Assert.True(progress.IsClaimed(1), "batch 1 was recorded");
        Assert.True(progress.IsClaimed(2), "batch 2 is in flight");
        Assert.True(progress.IsClaimed(3), "batch 3 is in flight");
        Assert.False(progress.IsClaimed(4), "batch 4 was never claimed");
    }

    /// <summary>An event stored before <see cref="BatchDelivered.NotSent"/> existed reads as a batch with no part not sent.</summary>
    [Fact]
    public void reads_a_batch_delivery_stored_before_its_not_sent_part_existed_as_all_delivered_or_failed()
    {
        const string stored = """
            {"CampaignId":"5eed0000-0000-4000-8000-00000000ca11","BatchNumber":2,"Variant":"B","Delivered":990,"Failed":10,
             "AfterCancelRequest":false,"DeliveredAt":"2026-03-02T09:30:00+00:00"}
            """;
        var delivered = System.Text.Json.JsonSerializer.Deserialize<BatchDelivered>(stored)!;

        Assert.Equal(0, delivered.NotSent);
        var sending = Assert.IsType<CampaignPhase.Sending>(CampaignState.From(Histories.Sending().Append(delivered))!.Phase);
        Assert.Equal((1_980L, 20L, 1_500L), (sending.Progress.Delivered, sending.Progress.Failed, sending.Progress.NotSent(sending.Plan)));
    }

    /// <summary>A released batch went to nobody: nothing counts as delivered, before or after the request.</summary>
    [Fact]
    public void counts_nothing_delivered_for_a_released_batch()
    {
        var cancelling = Assert.IsType<CampaignPhase.Cancelling>(Histories.Cancelling().Then(Commands.Release(2)).State!.Phase);

        Assert.Equal(0, cancelling.Progress.DeliveredAfterRequest);
        Assert.Equal(990, cancelling.Progress.Delivered);
        Assert.True(cancelling.Progress.IsClaimed(2));
    }
}

/// <summary>Statuses in a marketer's words (CampaignStatusText.ToDisplay), as the Campaigns tab and rejection messages show them.</summary>
public class a_status_shown_to_a_marketer
{
    [Theory]
    [InlineData(CampaignStatus.Draft, "Draft")]
    [InlineData(CampaignStatus.Scheduling, "Scheduling")]
    [InlineData(CampaignStatus.Scheduled, "Scheduled")]
    [InlineData(CampaignStatus.Paused, "Paused")]
    [InlineData(CampaignStatus.Sending, "Sending")]
    [InlineData(CampaignStatus.Cancelling, "Cancelling")]
    [InlineData(CampaignStatus.Sent, "Sent")]
    [InlineData(CampaignStatus.Cancelled, "Cancelled")]
    [InlineData(CampaignStatus.CancelledDuringSend, "Cancelled During Send")]
    public void reads_as_in_the_campaigns_tab(CampaignStatus status, string shown) =>
        Assert.Equal(shown, status.ToDisplay());

    [Fact]
    public void appears_in_words_in_a_refusal()
    {
        var refusal = Spec.Given(Histories.CancelledDuringSend()).When(Commands.Pause()).ThenRejected(RejectionCode.NotPausable);
        Assert.EndsWith("this one is Cancelled During Send.", refusal.Message);
    }
}

/// <summary>Decision.EventsOrThrow: how infrastructure turns a decision into events to append, or a typed error.</summary>
public class a_decision
{
    [Fact]
    public void of_an_accepted_command_hands_over_its_events()
    {
        var decision = Decider.Decide(Commands.Pause(), Histories.Scheduled().State, Spec.Now);

        var events = decision.EventsOrThrow();

        Assert.Same(decision.Events, events);
        Assert.IsType<SchedulePaused>(Assert.Single(events));
    }

    [Fact]
    public void that_changes_nothing_hands_over_no_events() =>
        Assert.Empty(Decider.Decide(Commands.Pause(), Histories.Paused().State, Spec.Now).EventsOrThrow());

    [Fact]
    public void of_a_refused_command_throws_its_typed_rejection()
    {
        var decision = Decider.Decide(Commands.Cancel(), Histories.Draft().State, Spec.Now);

        var thrown = Assert.Throws<CampaignRejectedException>(() => decision.EventsOrThrow());

        Assert.Same(decision.Rejection, thrown.Rejection);
        Assert.Equal(RejectionCode.NotCancellableDraft, thrown.Rejection.Code);
        Assert.Equal(decision.Rejection!.Message, thrown.Message);
    }

    [Fact]
    public void of_a_clone_is_the_new_drafts_creation()
    {
        var source = CampaignState.From(Histories.Cancelled())!;

        var events = Cloning.DraftEvents(source, Commands.Clone(), Spec.Now);

        Assert.Equal(Commands.CloneId, Assert.IsType<CampaignCreated>(Assert.Single(events)).CampaignId);
        Assert.Throws<CampaignRejectedException>(() => Cloning.DraftEvents(source, Commands.Clone(cloneId: Guid.Empty), Spec.Now));
    }
}

/// <summary>The name each event is stored under (CampaignEvents.StoredName): part of the public contract.</summary>
public class a_stored_event_name
{
    [Fact]
    public void is_the_name_the_event_type_declares()
    {
        Assert.Equal("campaign_cancel_requested", CampaignEvents.StoredName(typeof(CancelRequested)));
        Assert.Equal("campaign_cancelled_during_send", CampaignEvents.StoredName(typeof(CancelledDuringSend)));
        Assert.Equal("campaign_cancel_repeated", CampaignEvents.StoredName(typeof(CancelRepeated)));
    }

    [Fact]
    public void is_different_for_every_event_type()
    {
        var names = CampaignEvents.All.Select(CampaignEvents.StoredName).ToList();
        Assert.Equal(names.Count, names.Distinct().Count());
        Assert.All(names, name => Assert.StartsWith("campaign_", name));
    }

    [Fact]
    public void must_be_declared_by_the_event_type()
    {
        var thrown = Assert.Throws<ArgumentException>(() => CampaignEvents.StoredName(typeof(Unnamed)));

        Assert.Equal("eventType", thrown.ParamName);
        Assert.StartsWith("Unnamed has no [StoredEventName].", thrown.Message);
    }

    /// <summary>A subtype would otherwise be stored under its base's name, and read back as the base.</summary>
    [Fact]
    public void is_not_inherited() =>
        Assert.Throws<ArgumentException>(() => CampaignEvents.StoredName(typeof(Derived)));

    private sealed record Unnamed(Guid CampaignId) : ICampaignEvent;

    [StoredEventName("campaign_test_base")]
    private record Base(Guid CampaignId) : ICampaignEvent;

    private sealed record Derived(Guid CampaignId) : Base(CampaignId);
}
