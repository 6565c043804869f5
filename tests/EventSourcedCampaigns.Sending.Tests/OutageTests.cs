using Npgsql;

namespace EventSourcedCampaigns.Sending.Tests;

public sealed class OutageTests
{
    [Fact]
    public async Task A_batch_the_provider_took_whose_answer_could_not_be_written_before_a_cancel_is_delivered_after_it_not_released()
    {
        // Found by an outage drill: the database went away while the provider had batch 2, and a cancel committed once it
        // was back. The step could write neither the batch's outcome row nor its answer, so it ran again, and the send gate,
        // seeing the campaign cancelling, released the batch: recipients who got the message were recorded as not sent.
        var schema = TestDatabase.UniqueSchema("outage");
        var (audiences, clock, dispatcher) = (new AudienceDirectory(), new AdjustableClock(), new FakeDispatcher());
        await using var host = await SendingHost.StartAsync(dispatcher, o => o.WithBatchesInFlightPerCampaign(1), schema: schema, audiences: audiences, clock: clock);
        var id = await host.ScheduledAsync(30, 10, TimeSpan.FromMinutes(1));
        dispatcher.OnDispatch = async (request, _) =>
        {
            if (request.CampaignId != id || request.BatchNumber != 2) return;
            await Task.Yield(); // the gate lets go of the campaign once the call has begun
            await host.RunAcceptedAsync(new CancelCampaign(id, SendingHost.Marketer, new CancelReason(CancelReasonCode.WrongAudience)));
            await ExecuteAsync($"update {schema}.outage set away = true"); // the outcome row and the answer fail, once each
        };
        await host.Store.Storage.ApplyAllConfiguredChangesToDatabaseAsync(); // the outcome rows' table, made on first use otherwise
        await PrepareOutageAsync(schema);
        clock.Advance(TimeSpan.FromMinutes(1));
        await host.RunAcceptedAsync(new StartSend(id));

        await host.WaitForAsync(id, s => s.Status == CampaignStatus.CancelledDuringSend, "the cancelled send to stop");
        await host.WaitUntilIdleAsync();

        Assert.Equal(1, dispatcher.CallsFor(id, 2));
        Assert.Equal(0, dispatcher.CallsFor(id, 3));
        var (delivered, notSent) = (await host.OutcomesAsync(id, RecipientOutcome.Delivered), await host.OutcomesAsync(id, RecipientOutcome.NotSent));
        Assert.Equal((20L, 10L), (delivered.Total, notSent.Total));
        var facts = new StreamFacts(await host.EventsAsync(id));
        facts.AssertEveryClaimRecordedOnce();
        Assert.Equal(10L, facts.Records.Where(r => r.Batch == 2).Select(r => r.Delivered).Single());
        Assert.Equal(0, await host.DeadLettersAsync());
    }

    [Fact]
    public async Task A_command_somebody_waits_for_gives_up_after_three_quick_tries_while_the_database_fails()
    {
        // Found by an outage drill: a create and a cancel over HTTP answered 503 after about a minute of the pipeline's
        // in-memory retries, past the clients' own timeouts. Counted in tries, not timed.
        var schema = TestDatabase.UniqueSchema("outage");
        await using var host = await SendingHost.StartAsync(schema: schema);
        await host.Store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();
        await ExecuteAsync($"""
            create sequence {schema}.tries;
            create function {schema}.refuse() returns trigger language plpgsql as $$
            begin
              perform nextval('{schema}.tries');
              raise exception 'the database is away';
            end $$;
            create trigger refuse before insert on {schema}.mt_events for each row execute function {schema}.refuse();
            """);

        await Assert.ThrowsAnyAsync<Exception>(() => host.CreateAsync());

        await using var connection = new NpgsqlConnection(TestDatabase.ConnectionString);
        await connection.OpenAsync();
        await using var tries = new NpgsqlCommand($"select last_value from {schema}.tries", connection);
        Assert.Equal(4L, await tries.ExecuteScalarAsync()); // the first try and three more
    }

    /// <summary>
    /// Once <c>outage.away</c> is set, the next insert of a batch outcome row and of a <see cref="BatchSent"/> message fail,
    /// once each. Armed by an update, not by creating the triggers then: that waits for every writer of the tables.
    /// </summary>
    private static Task PrepareOutageAsync(string schema) => ExecuteAsync($"""
        create table {schema}.outage (away boolean not null); insert into {schema}.outage values (false);
        create sequence {schema}.outage_outcome; create sequence {schema}.outage_answer;
        -- A sequence's nextval is not undone by the rollback of the insert it failed.
        create function {schema}.outage_outcome() returns trigger language plpgsql as $$
        begin
          if (select away from {schema}.outage) and nextval('{schema}.outage_outcome') = 1 then raise exception 'the database is away'; end if;
          return NEW;
        end $$;
        create function {schema}.outage_answer() returns trigger language plpgsql as $$
        begin
          if NEW.message_type like '%BatchSent%' and (select away from {schema}.outage) and nextval('{schema}.outage_answer') = 1
          then raise exception 'the database is away';
          end if;
          return NEW;
        end $$;
        create trigger outage before insert on {schema}.cmp_recipient_outcomes for each row execute function {schema}.outage_outcome();
        create trigger outage before insert on {schema}.wolverine_incoming_envelopes for each row execute function {schema}.outage_answer();
        """);

    private static async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(TestDatabase.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
