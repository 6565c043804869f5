using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace EventSourcedCampaigns.Sending.Tests;

public sealed class AudienceTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Scheduling_to_an_unknown_list_fails_at_once_and_returns_the_campaign_to_draft_with_the_list_named()
    {
        await using var host = await SendingHost.StartAsync(configure: o => o.AudienceRetryDelays = [TimeSpan.FromSeconds(30)]);
        var id = await host.CreateAsync();
        await host.RunAcceptedAsync(new ScheduleCampaign(id, host.Clock.Now.AddHours(1), Audience.Of("no-such-list"), 100, SendingHost.Marketer));

        // No retry for an unknown list: well inside the 30 s retry delay (a liveness bound).
        var draft = await host.WaitForAsync(id, s => s.Status != CampaignStatus.Scheduling, "scheduling to fail", TimeSpan.FromSeconds(10));
        await host.WaitUntilIdleAsync(includingScheduled: true);

        Assert.Equal(CampaignStatus.Draft, draft.Status);
        var facts = new StreamFacts(await host.EventsAsync(id));
        var failed = facts.Events.Select(e => e.Data).OfType<SchedulingFailed>().Single();
        output.WriteLine($"SchedulingFailed: {failed.Reason}");
        Assert.Contains("no-such-list", failed.Reason);
        Assert.IsType<SchedulingFailed>(facts.Events[^1].Data);
        Assert.Equal(0, facts.Count<SchedulingCompleted>());
        Assert.Equal(1, host.Audiences.Requests[("no-such-list", "")]);
        Assert.Equal(0, await host.BatchDocumentsAsync(id));
        Assert.Equal(0, host.Dispatcher.Calls);
        Assert.Equal(0, await host.DeadLettersAsync());
    }

    public static TheoryData<string, string> OddPages => new()
    {
        // An empty id is how a prepared batch marks a recipient erased after it was prepared: it must never come from an audience.
        { "an empty id", "The audience gave a page with a recipient without an id: every recipient needs a stable id." },
        // Found by an audit: the recipient got the message twice (and the null page was named as a missing id).
        { "one recipient twice", "The audience gave one recipient twice in a page (places 4 and 18 of 30): every recipient appears once, or they would get the message twice." },
        { "no page", "The audience gave no page (null) where a page of recipients was asked for." },
    };

    [Theory]
    [MemberData(nameof(OddPages))]
    public async Task A_page_with_a_recipient_without_an_id_or_twice_fails_scheduling_with_the_reason_and_prepares_nothing(string odd, string reason)
    {
        await using var host = await SendingHost.StartAsync();
        var id = await host.CreateAsync();
        var audience = host.Audiences.Everyone("list-" + id.ToString("N"), 30);
        host.Audiences.Rewrite = page => odd switch
        {
            "an empty id" => page with { Recipients = [.. page.Recipients.Select((r, i) => i == 17 ? r with { Id = "" } : r)] },
            "one recipient twice" => page with { Recipients = [.. page.Recipients.Select((r, i) => i == 17 ? page.Recipients[3] : r)] },
            _ => null!,
        };
        await host.RunAcceptedAsync(new ScheduleCampaign(id, host.Clock.Now.AddHours(1), audience, 10, SendingHost.Marketer));

        var draft = await host.WaitForAsync(id, s => s.Status != CampaignStatus.Scheduling, "scheduling to fail", TimeSpan.FromSeconds(30));
        await host.WaitUntilIdleAsync(includingScheduled: true);

        Assert.Equal(CampaignStatus.Draft, draft.Status);
        var failed = new StreamFacts(await host.EventsAsync(id)).Events.Select(e => e.Data).OfType<SchedulingFailed>().Single();
        Assert.Equal(reason, failed.Reason);
        Assert.Equal(0, await host.BatchDocumentsAsync(id));
        Assert.Equal(0, await host.DeadLettersAsync());
    }

    [Fact]
    public async Task A_contacts_service_that_keeps_failing_fails_scheduling_after_the_retries_with_its_error_and_forgets_the_prepared_batches()
    {
        await using var host = await SendingHost.StartAsync(configure: o =>
        {
            o.BatchesPerPage = 1;
            o.AudienceRetryDelays = [TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(20)];
        });
        var id = await host.CreateAsync();
        var audience = host.Audiences.Everyone("list-" + id.ToString("N"), 50);
        // The first page (10 recipients) resolves; every later page fails.
        host.Audiences.BeforeResolve = (_, continuation) => continuation is null
            ? ValueTask.CompletedTask
            : throw new IOException("The contacts service is unavailable (503).");
        await host.RunAcceptedAsync(new ScheduleCampaign(id, host.Clock.Now.AddHours(1), audience, 10, SendingHost.Marketer));

        var draft = await host.WaitForAsync(id, s => s.Status != CampaignStatus.Scheduling, "scheduling to fail", TimeSpan.FromSeconds(30));
        await host.WaitUntilIdleAsync(includingScheduled: true);

        Assert.Equal(CampaignStatus.Draft, draft.Status);
        var facts = new StreamFacts(await host.EventsAsync(id));
        var failed = facts.Events.Select(e => e.Data).OfType<SchedulingFailed>().Single();
        output.WriteLine($"SchedulingFailed: {failed.Reason}");
        Assert.Contains("after 3 attempts", failed.Reason);
        Assert.Contains("IOException: The contacts service is unavailable (503).", failed.Reason);
        Assert.Equal(10, facts.Events.Select(e => e.Data).OfType<SchedulingProgressed>().Single().RecipientsPrepared);
        Assert.Equal(3, host.Audiences.Requests.Where(r => r.Key.Continuation != "").Sum(r => r.Value)); // 1 + the 2 retries
        Assert.Equal(0, await host.BatchDocumentsAsync(id)); // the first page's batches are gone with the schedule
        Assert.Equal(0, await host.DeadLettersAsync());
    }

    [Fact]
    public async Task A_contacts_service_that_fails_once_is_retried_and_scheduling_completes()
    {
        await using var host = await SendingHost.StartAsync(configure: o =>
        {
            o.BatchesPerPage = 1;
            o.AudienceRetryDelays = [TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(20)];
        });
        var id = await host.CreateAsync();
        var audience = host.Audiences.Everyone("list-" + id.ToString("N"), 50);
        var failures = 0;
        host.Audiences.BeforeResolve = (_, continuation) => continuation is not null && Interlocked.Increment(ref failures) == 1
            ? throw new TimeoutException("The contacts service timed out.")
            : ValueTask.CompletedTask;
        await host.RunAcceptedAsync(new ScheduleCampaign(id, host.Clock.Now.AddHours(1), audience, 10, SendingHost.Marketer));

        var scheduled = await host.WaitForAsync(id, s => s.Status != CampaignStatus.Scheduling, "scheduling to complete", TimeSpan.FromSeconds(30));

        Assert.Equal(CampaignStatus.Scheduled, scheduled.Status);
        Assert.Equal((50L, 5), (((CampaignPhase.ReadyToSend)scheduled.Phase).Plan.Recipients, ((CampaignPhase.ReadyToSend)scheduled.Phase).Plan.Batches));
        var facts = new StreamFacts(await host.EventsAsync(id));
        Assert.Equal(0, facts.Count<SchedulingFailed>());
        Assert.Equal(1, facts.Count<SchedulingCompleted>());
        Assert.Equal(5, await host.BatchDocumentsAsync(id));
        Assert.Equal(5, failures); // page 2 failed then retried, pages 3 to 5 once each
        Assert.Equal(0, await host.DeadLettersAsync());
    }

    [Fact]
    public async Task The_audience_resolver_is_told_whose_lists_it_resolves()
    {
        await using var host = await SendingHost.StartAsync(configure: o => o.BatchesPerPage = 1);

        await host.ScheduledAsync(30, 10, TimeSpan.FromHours(1));

        Assert.Equal(3, host.Audiences.Tenants.Count); // one page per batch of 10
        Assert.All(host.Audiences.Tenants, t => Assert.Equal(SendingHost.Tenant, t));
    }

    [Fact]
    public async Task A_revert_while_a_page_resolves_its_audience_stops_scheduling_without_a_lost_race_logged_as_an_error()
    {
        // Found by an audit: the page then failed its append (a lost race, retried), and Marten and Wolverine logged about
        // 25 lines of errors with stack traces for an everyday action.
        var errors = new ErrorLog();
        await using var host = await SendingHost.StartAsync(configure: o => o.BatchesPerPage = 2, services: s => s.AddSingleton<ILoggerProvider>(errors));
        var id = await host.CreateAsync();
        var audience = host.Audiences.Everyone("list-" + id.ToString("N"), 500);
        var resolving = new TaskCompletionSource();
        var release = new TaskCompletionSource();
        host.Audiences.BeforeResolve = async (_, continuation) =>
        {
            if (continuation is null) return;
            resolving.TrySetResult();
            await release.Task;
        };
        await host.RunAcceptedAsync(new ScheduleCampaign(id, host.Clock.Now.AddHours(1), audience, 100, SendingHost.Marketer));
        await resolving.Task.WaitAsync(TimeSpan.FromSeconds(30)); // the second page is being resolved

        await host.RunAcceptedAsync(new RevertToDraft(id, SendingHost.Marketer));
        release.SetResult();
        await host.WaitUntilIdleAsync();

        Assert.Equal(CampaignStatus.Draft, (await host.StateAsync(id)).Status);
        Assert.Equal(0, await host.BatchDocumentsAsync(id));
        Assert.Empty(errors.Entries);
    }
}
