using Bogus;
using EventSourcedCampaigns.Decisions;
using EventSourcedCampaigns.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace EventSourcedCampaigns.Tests.Properties;

/// <summary>
/// Thousands of seeded random command sequences (mostly plausible, some malformed, some dated in the past),
/// with the campaign's invariants checked after every step against a ledger kept from the events alone.
/// </summary>
public class random_command_sequences(ITestOutputHelper output)
{
    private const int Seed = 20260302;
    private const int Sequences = 2_000;
    private const int MaxSteps = 60;

    private static readonly CampaignStatus[] Finished =
        [CampaignStatus.Sent, CampaignStatus.Cancelled, CampaignStatus.CancelledDuringSend];

    private static readonly CampaignStatus[] CancelAccepted =
        [CampaignStatus.Cancelling, CampaignStatus.Cancelled, CampaignStatus.CancelledDuringSend];

    /// <summary>The lifecycle diagram of domain.md: every status change a command may cause.</summary>
    private static readonly HashSet<(CampaignStatus From, CampaignStatus To)> Transitions =
    [
        (CampaignStatus.Draft, CampaignStatus.Scheduling),
        (CampaignStatus.Scheduling, CampaignStatus.Scheduled), (CampaignStatus.Scheduling, CampaignStatus.Draft),
        (CampaignStatus.Scheduling, CampaignStatus.Cancelled),
        (CampaignStatus.Scheduled, CampaignStatus.Paused), (CampaignStatus.Scheduled, CampaignStatus.Draft),
        (CampaignStatus.Scheduled, CampaignStatus.Sending), (CampaignStatus.Scheduled, CampaignStatus.Cancelled),
        (CampaignStatus.Paused, CampaignStatus.Scheduled), (CampaignStatus.Paused, CampaignStatus.Draft),
        (CampaignStatus.Paused, CampaignStatus.Cancelled),
        (CampaignStatus.Sending, CampaignStatus.Sent), (CampaignStatus.Sending, CampaignStatus.Cancelling),
        (CampaignStatus.Sending, CampaignStatus.CancelledDuringSend),
        (CampaignStatus.Cancelling, CampaignStatus.CancelledDuringSend),
    ];

    [Fact]
    public void keep_the_campaign_invariants_after_every_step()
    {
        var fake = Fake.Seeded(Seed);
        var seen = new Coverage();
        for (var sequence = 0; sequence < Sequences; sequence++)
            new Walk(fake, sequence, seen).Run(fake.Random.Int(1, MaxSteps));

        output.WriteLine(string.Join(", ", seen.Statuses.Select(s => $"{s.Key}: {s.Value}")));
        output.WriteLine($"delivered after cancel: {seen.DeliveredAfterCancel}, released: {seen.Released}, partly not sent: {seen.PartlyNotSent}, held as late: {seen.HeldAsLate}, scheduling failed: {seen.SchedulingFailed}, claims lost to cancel: {seen.ClaimsLostToCancel}, rejections: {string.Join(", ", seen.Rejected)}");

        // The walk must reach every status and the interesting paths, or the invariants above prove little.
        foreach (var status in Enum.GetValues<CampaignStatus>())
            Assert.True(seen.Statuses.GetValueOrDefault(status) >= 100, $"{status} was reached only {seen.Statuses.GetValueOrDefault(status)} times.");
        Assert.True(seen.DeliveredAfterCancel >= 100, $"Only {seen.DeliveredAfterCancel} batches were delivered after a cancel request.");
        Assert.True(seen.ClaimsLostToCancel >= 100, $"Only {seen.ClaimsLostToCancel} claims lost to a cancel.");
        Assert.True(seen.Released >= 100, $"Only {seen.Released} batches were released after a cancel.");
        Assert.True(seen.PartlyNotSent >= 50, $"Only {seen.PartlyNotSent} batches were recorded with a part not sent after a cancel.");
        Assert.True(seen.HeldAsLate >= 100, $"Only {seen.HeldAsLate} starts were held as late.");
        Assert.True(seen.SchedulingFailed >= 100, $"Scheduling failed only {seen.SchedulingFailed} times.");
        Assert.True(seen.Rejected.Count >= 20, $"Only {seen.Rejected.Count} kinds of rejection: {string.Join(", ", seen.Rejected)}.");
    }

    private sealed class Coverage
    {
        public Dictionary<CampaignStatus, int> Statuses { get; } = [];
        public HashSet<RejectionCode> Rejected { get; } = [];
        public int DeliveredAfterCancel { get; set; }
        public int ClaimsLostToCancel { get; set; }
        public int Released { get; set; }
        public int PartlyNotSent { get; set; }
        public int SchedulingFailed { get; set; }
        public int HeldAsLate { get; set; }
    }

    /// <summary>What the events say happened to the batches, kept apart from the state's own bookkeeping.</summary>
    private sealed class Ledger
    {
        public Dictionary<int, int> InFlight { get; } = [];
        public HashSet<int> Recorded { get; } = [];
        public long Delivered { get; set; }
        public long Failed { get; set; }
        public long DeliveredAfterRequest { get; set; }
        public bool CancelWasRequested { get; set; }

        public void Record(ICampaignEvent e)
        {
            switch (e)
            {
                case BatchClaimed c: InFlight.Add(c.BatchNumber, c.Recipients); break;
                case BatchDelivered d:
                    Assert.True(InFlight.Remove(d.BatchNumber, out var batch) && Recorded.Add(d.BatchNumber), $"Batch {d.BatchNumber} delivered without a claim or twice.");
                    Assert.Equal(CancelWasRequested, d.AfterCancelRequest);
                    Assert.Equal(batch, d.Delivered + d.Failed + d.NotSent);
                    Assert.True(d.NotSent == 0 || CancelWasRequested, $"Batch {d.BatchNumber} left partly not sent without a cancel.");
                    (Delivered, Failed) = (Delivered + d.Delivered, Failed + d.Failed);
                    if (d.AfterCancelRequest) DeliveredAfterRequest += d.Delivered;
                    break;
                case BatchFailed f:
                    Assert.True(InFlight.Remove(f.BatchNumber, out var recipients) && Recorded.Add(f.BatchNumber), $"Batch {f.BatchNumber} failed without a claim or twice.");
                    Assert.Equal(recipients, f.Recipients);
                    Assert.Equal(CancelWasRequested, f.AfterCancelRequest);
                    Failed += f.Recipients;
                    break;
                case BatchReleased r:
                    Assert.True(InFlight.Remove(r.BatchNumber, out var claimed) && Recorded.Add(r.BatchNumber), $"Batch {r.BatchNumber} released without a claim or twice.");
                    Assert.Equal(claimed, r.Recipients);
                    Assert.True(CancelWasRequested, $"Batch {r.BatchNumber} released without a cancel.");
                    break;
                case CancelRequested: CancelWasRequested = true; break;
            }
        }
    }

    private sealed class Walk(Faker fake, int sequence, Coverage seen)
    {
        private readonly Guid _id = fake.Random.Guid();
        private readonly Ledger _ledger = new();
        private CampaignState? _state;
        private DateTimeOffset _clock = Spec.Now;
        private int _step;
        private StartSend? _lastStart;

        public void Run(int steps)
        {
            for (_step = 0; _step < steps; _step++)
            {
                _clock = _clock.AddMinutes(fake.Random.Int(0, 30));
                var now = fake.Random.Bool(0.03f) ? _clock.AddMinutes(-fake.Random.Int(1, 60)) : _clock;
                var command = fake.Random.Bool(0.75f) ? Plausible() : AnyCommand();
                Take(command, now);
            }
        }

        private void Take(CampaignCommand command, DateTimeOffset now)
        {
            var before = _state;
            _lastStart = command as StartSend;
            var decision = Decider.Decide(command, before, now);
            var after = decision.Events.Aggregate(before, CampaignState.Evolve);
            string Where() => $"sequence {sequence}, step {_step}: {command} at {now:O} on {before?.Status.ToString() ?? "no campaign"} -> {decision.Rejection?.ToString() ?? EventJson.Describe(decision.Events)}";

            if (decision.IsRejected)
            {
                Assert.True(decision.Events.Count == 0, $"A rejection carries events; {Where()}");
                seen.Rejected.Add(decision.Rejection!.Code);
                if (decision.Rejection.Code == RejectionCode.ClaimLostToCancel) seen.ClaimsLostToCancel++;
            }
            CheckEveryCancelIsAudited(command, decision, before, now, Where);
            if (before is not null && command is not CreateCampaign && now < before.LastChangedAt)
                Assert.True(decision.Rejection?.Code == RejectionCode.TimeWentBackwards, $"Time went backwards unnoticed; {Where()}");

            CheckTransition(before, after, decision, Where);
            CheckStatusTable(before, decision, command, now, Where);
            foreach (var e in decision.Events) CheckEvent(e, before, after, Where);
            CheckProgress(after, Where);
            CheckRepeatChangesNothing(command, decision, after, now, Where);

            _state = after;
            if (after is not null) seen.Statuses[after.Status] = seen.Statuses.GetValueOrDefault(after.Status) + 1;
        }

        private static void CheckTransition(CampaignState? before, CampaignState? after, Decision decision, Func<string> where)
        {
            if (before is null || after is null) return;
            if (Finished.Contains(before.Status))
                Assert.True(after.Status == before.Status && decision.Events.All(e => e is CampaignCloned),
                    $"A finished campaign changed; {where()}");
            Assert.True(before.Status == after.Status || Transitions.Contains((before.Status, after.Status)),
                $"{before.Status} -> {after.Status} is not in the lifecycle; {where()}");
        }

        /// <summary>Event by event, the write model's status is the one <see cref="CampaignState.StatusAfter"/> gives.</summary>
        private static void CheckStatusTable(CampaignState? before, Decision decision, CampaignCommand command, DateTimeOffset now, Func<string> where)
        {
            var state = before;
            foreach (var e in Decider.EventsToAppend(decision, command, before, now))
            {
                var next = CampaignState.Evolve(state, e);
                Assert.True(next?.Status == CampaignState.StatusAfter(state?.Status, e),
                    $"{e.GetType().Name}: the write model went to {next?.Status}, the status table says {CampaignState.StatusAfter(state?.Status, e)}; {where()}");
                state = next;
            }
        }

        private void CheckEvent(ICampaignEvent e, CampaignState? before, CampaignState? after, Func<string> where)
        {
            Assert.True(e.CampaignId == _id, $"Event for another campaign; {where()}");
            if (e is BatchClaimed)
                Assert.True(!_ledger.CancelWasRequested && !CancelAccepted.Contains(before!.Status), $"A batch was claimed after a cancel request; {where()}");
            _ledger.Record(e);
            switch (e)
            {
                case BatchDelivered { AfterCancelRequest: true } d:
                    seen.DeliveredAfterCancel++;
                    if (d.NotSent > 0) seen.PartlyNotSent++;
                    break;
                case BatchReleased:
                    seen.Released++;
                    break;
                case SendHeldAsLate held:
                    Assert.True(before!.Status == CampaignStatus.Scheduled && after!.Status == CampaignStatus.Paused, $"A start was held outside Scheduled; {where()}");
                    var due = before.LastChangedAt > held.SendAt ? before.LastChangedAt : held.SendAt;
                    Assert.True(held.Lateness > held.MaxLateness && held.Lateness == held.HeldAt - due, $"Held though not late enough; {where()}");
                    seen.HeldAsLate++;
                    break;
                case SendStarted started when _lastStart is { MaxLateness: { } allowed }:
                    var ready = (CampaignPhase.ReadyToSend)before!.Phase;
                    var dueAt = before.LastChangedAt > ready.Schedule.SendAt ? before.LastChangedAt : ready.Schedule.SendAt;
                    Assert.True(started.StartedAt - dueAt <= allowed, $"Started later than allowed; {where()}");
                    break;
                case SchedulingFailed failed:
                    Assert.True(before!.Status == CampaignStatus.Scheduling && after!.Status == CampaignStatus.Draft, $"Scheduling failed outside Scheduling; {where()}");
                    Assert.True(failed.Reason.Length is > 0 and <= 1_000 && failed.Reason == failed.Reason.Trim(), where());
                    seen.SchedulingFailed++;
                    break;
                case SendCompleted done:
                    var plan = Plan(after!)!;
                    Assert.True(_ledger.Recorded.Count == plan.Batches && _ledger.InFlight.Count == 0, $"Sent with batches unrecorded; {where()}");
                    Assert.Equal((_ledger.Delivered, _ledger.Failed), (done.Delivered, done.Failed));
                    break;
                case Cancelled cancelled:
                    // Before the send nothing was delivered: not sent = every recipient the campaign had prepared.
                    Assert.True(_ledger.Delivered == 0 && _ledger.Failed == 0 && _ledger.InFlight.Count == 0, $"Cancelled before the send after sending; {where()}");
                    Assert.Equal(before!.Phase switch
                    {
                        CampaignPhase.Scheduling p => p.Prepared,
                        CampaignPhase.ReadyToSend p => p.Plan.Recipients,
                        CampaignPhase.Paused p => p.Plan.Recipients,
                        _ => (long?)null,
                    }, cancelled.NotSent);
                    break;
                case CancelledDuringSend stop:
                    Assert.True(_ledger.InFlight.Count == 0, $"Cancelled during send with batches in flight; {where()}");
                    Assert.True(stop.NotSent >= 0 && stop.TimeToStop == stop.CancelledAt - stop.RequestedAt && stop.TimeToStop >= TimeSpan.Zero, where());
                    Assert.Equal(_ledger.DeliveredAfterRequest, stop.DeliveredAfterRequest);
                    Assert.Equal(_ledger.Failed, stop.Failed);
                    Assert.Equal(Plan(after!)!.Recipients, stop.DeliveredBeforeRequest + stop.DeliveredAfterRequest + stop.Failed + stop.NotSent);
                    Assert.Equal(Plan(after!)!.Recipients - _ledger.Delivered - _ledger.Failed, stop.NotSent); // released batches included
                    break;
            }
        }

        /// <summary>Recipients = Delivered + Failed + in flight + not sent, with not sent never negative.</summary>
        private void CheckProgress(CampaignState? state, Func<string> where)
        {
            if (state is null || Progress(state) is not { } progress) return;
            var plan = Plan(state)!;
            var inFlight = _ledger.InFlight.Values.Sum(r => (long)r);
            Assert.True(
                (progress.Delivered, progress.Failed, progress.InFlightRecipients) == (_ledger.Delivered, _ledger.Failed, inFlight),
                $"The state's counts differ from the events'; {where()}");
            Assert.True(_ledger.InFlight.Keys.Order().SequenceEqual(progress.InFlight.Keys.Order()), $"In-flight batches differ; {where()}");
            var notSent = plan.Recipients - _ledger.Delivered - _ledger.Failed - inFlight;
            Assert.True(notSent >= 0 && progress.NotSent(plan) == notSent, $"Not sent is {notSent}; {where()}");
        }

        /// <summary>A cancel, whatever its outcome, appends exactly one audit event, which is the only one that changes nothing.</summary>
        private static void CheckEveryCancelIsAudited(CampaignCommand command, Decision decision, CampaignState? before, DateTimeOffset now, Func<string> where)
        {
            var appended = Decider.EventsToAppend(decision, command, before, now);
            var audits = appended.OfType<ICancelAuditEvent>().ToList();
            if (command is not CancelCampaign)
            {
                Assert.True(audits.Count == 0 && appended.SequenceEqual(decision.Events), $"Only a cancel is audited; {where()}");
                return;
            }
            Assert.True(audits.Count == 1, $"A cancel appended {audits.Count} audit events; {where()}");
            var audit = audits[0];
            Assert.True(audit.Audit is null && audit.At == now && audit.CampaignId == command.CampaignId, where());
            switch (audit)
            {
                case CancelRequested:
                    Assert.True(!decision.IsRejected && decision.Events[0] == audit, $"An accepted cancel must start with its request; {where()}");
                    break;
                case CancelRepeated r:
                    Assert.True(!decision.IsRejected && decision.Events.Count == 0 && r.StatusAtRequest == before!.Status
                        && r.StatusAtRequest is CampaignStatus.Cancelling or CampaignStatus.Cancelled or CampaignStatus.CancelledDuringSend,
                        $"A repeat outside a cancel; {where()}");
                    break;
                case CancelRejected r:
                    Assert.True(r.Code == decision.Rejection?.Code && r.StatusAtRequest == before?.Status, where());
                    break;
            }
            if (audit is not CancelRequested)
                Assert.Equal(before, CampaignState.Evolve(before, audit));
        }

        /// <summary>Idempotent commands, repeated right away, change nothing and are not refused.</summary>
        private static void CheckRepeatChangesNothing(CampaignCommand command, Decision decision, CampaignState? after, DateTimeOffset now, Func<string> where)
        {
            if (decision.Events.Count == 0 || command is not (CancelCampaign or PauseSchedule or ResumeSchedule or RevertToDraft
                    or StartSend or ClaimBatch or RecordBatchDelivery or RecordBatchFailure or ReleaseBatch)) return;
            var again = Decider.Decide(command, after, now);
            Assert.True(!again.IsRejected && again.Events.Count == 0,
                $"Repeating it gave {again.Rejection?.ToString() ?? EventJson.Describe(again.Events)}; {where()}");
        }

        private static SendPlan? Plan(CampaignState s) => s.Phase switch
        {
            CampaignPhase.ReadyToSend p => p.Plan, CampaignPhase.Paused p => p.Plan, CampaignPhase.Sending p => p.Plan,
            CampaignPhase.Cancelling p => p.Plan, CampaignPhase.Sent p => p.Plan, CampaignPhase.CancelledDuringSend p => p.Plan,
            _ => null,
        };

        private static SendProgress? Progress(CampaignState s) => s.Phase switch
        {
            CampaignPhase.Sending p => p.Progress, CampaignPhase.Cancelling p => p.Progress, CampaignPhase.Sent p => p.Progress,
            CampaignPhase.CancelledDuringSend p => p.Progress, _ => null,
        };

        // ---- Commands: mostly what a real system would send next, sometimes anything at all. ----

        private Actor Someone() => fake.Random.Bool() ? fake.Marketer() : fake.ApiKey();

        private CampaignCommand Plausible() => _state?.Phase switch
        {
            null => Create(),
            CampaignPhase.Draft => fake.Random.Bool(0.8f) ? Schedule() : Edit(),
            CampaignPhase.Scheduling s => fake.Random.WeightedRandom<Func<CampaignCommand>>(
                [() => Progress(s), Complete, () => FailScheduling(s), Cancel, () => new RevertToDraft(_id, Someone())],
                [0.3f, 0.42f, 0.08f, 0.1f, 0.1f])(),
            CampaignPhase.ReadyToSend => fake.Random.WeightedRandom<Func<CampaignCommand>>(
                [Start, () => new PauseSchedule(_id, Someone()), Cancel, () => new RevertToDraft(_id, Someone())],
                [0.7f, 0.1f, 0.1f, 0.1f])(),
            CampaignPhase.Paused => fake.Random.WeightedRandom<Func<CampaignCommand>>(
                [() => new ResumeSchedule(_id, Someone()), Edit, Cancel, () => new RevertToDraft(_id, Someone())], [0.6f, 0.1f, 0.2f, 0.1f])(),
            CampaignPhase.Sending s => fake.Random.WeightedRandom<Func<CampaignCommand>>(
                [() => Claim(s.Plan, s.Schedule.BatchSize), Record, Cancel, Release], [0.5f, 0.4f, 0.08f, 0.02f])(),
            CampaignPhase.Cancelling s => fake.Random.WeightedRandom<Func<CampaignCommand>>(
                [Record, Release, () => Claim(s.Plan, s.Schedule.BatchSize)], [0.5f, 0.3f, 0.2f])(),
            _ => fake.Random.Bool(0.3f) ? Clone() : AnyCommand(),
        };

        private CampaignCommand AnyCommand()
        {
            var batch = fake.Random.Int(-1, 8);
            return fake.Random.Int(0, 15) switch
            {
                0 => Create(),
                1 => Edit(),
                2 => Schedule(),
                3 => new RecordSchedulingProgress(_id, fake.Random.Long(-5, 40), fake.Random.Long(-5, 40), fake.Random.Int(-1, 8)),
                4 => new CompleteScheduling(_id, fake.Random.Long(-1, 30), fake.Random.Int(-1, 9), [new("A", fake.Random.Long(-1, 30))]),
                5 => new PauseSchedule(_id, Someone()),
                6 => new ResumeSchedule(_id, fake.Random.Bool(0.9f) ? Someone() : null!),
                7 => new RevertToDraft(_id, Someone()),
                8 => Start(),
                9 => new ClaimBatch(_id, batch, fake.PickRandom("A", "B", "Z"), fake.Random.Int(-1, 6)),
                10 => new RecordBatchDelivery(_id, batch, fake.Random.Int(-1, 6), fake.Random.Int(-1, 3), fake.Random.Int(-1, 2)),
                11 => new RecordBatchFailure(_id, batch, fake.Lorem.Word()),
                12 => Cancel(),
                13 => new ReleaseBatch(_id, batch),
                14 => new FailScheduling(_id, (_state?.Phase as CampaignPhase.Scheduling)?.Schedule.ScheduledAt ?? _clock, fake.Random.Bool(0.8f) ? fake.Lorem.Sentence() : " "),
                _ => Clone(),
            };
        }

        private CampaignCommand Create() => new CreateCampaign(
            _id, fake.Random.Bool(0.95f) ? fake.CampaignName() : " ", fake.PickRandom<Channel>(),
            fake.Random.Bool() ? fake.Variants() : fake.Variants(fake.Random.Int(1, 99) is var a ? [a, 100 - a] : []), Someone());

        private CampaignCommand Edit() => new EditCampaign(_id, fake.CampaignName(),
            _state?.Variants is { Length: 2 } && fake.Random.Bool(0.9f) ? fake.Variants(30, 70) : fake.Variants(), Someone());

        private CampaignCommand Schedule() => new ScheduleCampaign(
            _id, _clock.AddMinutes(fake.Random.Int(-5, 120)), new Audience([fake.Segment()], fake.Random.Bool() ? [fake.Segment()] : []),
            fake.Random.Int(1, 4), Someone());

        private CampaignCommand Progress(CampaignPhase.Scheduling s) =>
            new RecordSchedulingProgress(_id, s.Prepared + fake.Random.Int(0, 5), s.Prepared + fake.Random.Int(5, 20), s.BatchesPrepared + fake.Random.Int(0, 2));

        /// <summary>A plan of 1 to 6 batches, split over the campaign's variants.</summary>
        private CampaignCommand Complete()
        {
            var batchSize = (_state?.Phase as CampaignPhase.Scheduling)?.Schedule.BatchSize ?? 3;
            var batches = fake.Random.Int(1, 6);
            var recipients = fake.Random.Long((batches - 1L) * batchSize + 1, (long)batches * batchSize);
            var variants = _state?.Variants ?? [];
            var first = variants.Length > 1 ? recipients * variants[0].SplitPercent / 100 : recipients;
            VariantShare[] shares = variants.Length > 1 ? [new(variants[0].Key, first), new(variants[1].Key, recipients - first)] : [new("A", recipients)];
            return new CompleteScheduling(_id, recipients, batches, shares);
        }

        /// <summary>Mostly the next unclaimed batch with its planned size; sometimes a batch already claimed.</summary>
        private CampaignCommand Claim(SendPlan plan, int batchSize)
        {
            var unclaimed = Enumerable.Range(1, plan.Batches).Where(b => !_ledger.InFlight.ContainsKey(b) && !_ledger.Recorded.Contains(b)).ToList();
            var batch = unclaimed.Count > 0 && fake.Random.Bool(0.9f) ? fake.PickRandom(unclaimed) : fake.Random.Int(1, plan.Batches);
            var size = (int)Math.Clamp(plan.Recipients - (batch - 1L) * batchSize, 1, batchSize);
            return new ClaimBatch(_id, batch, fake.PickRandom(_state!.Variants).Key, size);
        }

        /// <summary>The outcome of a batch in flight (sometimes again for one already recorded).</summary>
        private CampaignCommand Record()
        {
            var candidates = _ledger.InFlight.Keys.Concat(fake.Random.Bool(0.1f) ? _ledger.Recorded : []).ToList();
            if (candidates.Count == 0) return AnyCommand();
            var batch = fake.PickRandom(candidates);
            var recipients = _ledger.InFlight.GetValueOrDefault(batch, 1);
            if (fake.Random.Bool(0.15f)) return new RecordBatchFailure(_id, batch, "421 provider throttled the connection");
            var failed = fake.Random.Int(0, recipients);
            // An earlier attempt got part of the batch through and the cancel released the rest (now and then without a cancel: refused).
            var notSent = failed < recipients && fake.Random.Bool(_ledger.CancelWasRequested ? 0.5f : 0.03f) ? fake.Random.Int(1, recipients - failed) : 0;
            return new RecordBatchDelivery(_id, batch, recipients - failed - notSent, failed, notSent);
        }

        /// <summary>Release a batch in flight (the pipeline saw the cancel before calling the provider), sometimes one already recorded.</summary>
        private CampaignCommand Release()
        {
            var candidates = _ledger.InFlight.Keys.Concat(fake.Random.Bool(0.1f) ? _ledger.Recorded : []).ToList();
            return candidates.Count == 0 ? AnyCommand() : new ReleaseBatch(_id, fake.PickRandom(candidates));
        }

        /// <summary>The audience of this schedule could not be resolved; sometimes a stale report about an earlier one.</summary>
        private CampaignCommand FailScheduling(CampaignPhase.Scheduling s) => new FailScheduling(
            _id, fake.Random.Bool(0.85f) ? s.Schedule.ScheduledAt : s.Schedule.ScheduledAt.AddMinutes(-fake.Random.Int(1, 90)),
            fake.Random.Bool(0.9f) ? $"The list '{fake.Segment()}' does not exist." : fake.Random.String2(fake.Random.Int(0, 1_200)));

        /// <summary>The start, half the time with a lateness bound (now and then a negative one).</summary>
        private CampaignCommand Start() => new StartSend(_id, fake.Random.Bool() ? null
            : fake.Random.Bool(0.97f) ? TimeSpan.FromMinutes(fake.Random.Int(0, 20)) : TimeSpan.FromMinutes(-1));

        private CampaignCommand Cancel() => new CancelCampaign(_id, Someone(), fake.Reason());

        private CampaignCommand Clone() => new CloneCampaign(_id, fake.Random.Bool(0.95f) ? fake.Random.Guid() : Guid.Empty, fake.Random.Bool(), Someone());
    }
}
