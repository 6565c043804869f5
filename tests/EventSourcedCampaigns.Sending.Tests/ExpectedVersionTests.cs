using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EventSourcedCampaigns.Sending.Tests;

/// <summary>
/// The command door's expected version (optimistic concurrency): an edit sent on the condition of the version its caller
/// read is applied only at that version, checked under the campaign's row lock; otherwise nothing is applied.
/// </summary>
public sealed class the_command_doors_expected_version
{
    private static EditCampaign Edit(Guid id, string name) => new(id, name, [new Variant("A", "Winter sale", "Everything -30%", 100)], SendingHost.Marketer);

    [Fact]
    public async Task applies_an_edit_at_the_version_read_and_refuses_one_at_an_older_version_appending_nothing()
    {
        var errors = new ErrorLog();
        await using var host = await SendingHost.StartAsync(services: s => s.AddSingleton<ILoggerProvider>(errors));
        var id = await host.CreateAsync();

        var applied = await host.Bus.ExecuteCampaignCommandAsync(SendingHost.Tenant, Edit(id, "By Ana"), expectedVersion: 1);
        var stale = await Assert.ThrowsAsync<CampaignVersionMismatchException>(() =>
            host.Bus.ExecuteCampaignCommandAsync(SendingHost.Tenant, Edit(id, "By Ben"), expectedVersion: 1));

        Assert.Equal(1, applied.Decision.Events.Count);
        Assert.Equal((id, 1L, 2L), (stale.CampaignId, stale.ExpectedVersion, stale.ActualVersion));
        Assert.Equal(2, (await host.EventsAsync(id)).Count);
        Assert.Equal("By Ana", (await host.StateAsync(id)).Name);
        // The caller's answer, not a failure: Wolverine logged it as a failed invocation, with its stack, on every conflict.
        Assert.Empty(errors.Entries);
        // The first edit sent again (its answer lost): in effect already, so accepted with no events at the older version.
        var retried = await host.Bus.ExecuteCampaignCommandAsync(SendingHost.Tenant, Edit(id, "By Ana"), expectedVersion: 1);
        Assert.Equal((false, 0), (retried.IsRejected, retried.Decision.Events.Count));
    }

    [Fact]
    public async Task leaves_a_campaign_that_does_not_exist_to_the_rules_and_refuses_a_version_for_a_command_that_does_not_check_it()
    {
        await using var host = await SendingHost.StartAsync();
        var id = await host.CreateAsync();

        var unknown = await host.Bus.ExecuteCampaignCommandAsync(SendingHost.Tenant, Edit(Guid.NewGuid(), "Nobody's"), expectedVersion: 1);
        await Assert.ThrowsAsync<ArgumentException>(() =>
            host.Bus.ExecuteCampaignCommandAsync(SendingHost.Tenant, new PauseSchedule(id, SendingHost.Marketer), expectedVersion: 1));

        Assert.Equal(RejectionCode.CampaignNotFound, unknown.Decision.Rejection?.Code);
    }
}
