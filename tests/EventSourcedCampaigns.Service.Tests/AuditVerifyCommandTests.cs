using EventSourcedCampaigns.Marten;
using EventSourcedCampaigns.Service.Operations;

namespace EventSourcedCampaigns.Service.Tests;

public sealed class the_audit_verify_command
{
    [Fact]
    public void says_a_tenant_without_audit_events_has_nothing_to_verify_rather_than_an_intact_chain()
    {
        // A mistyped --tenant found no events and printed "INTACT, 0 chained entries".
        Assert.Equal("tenant shpo: no cancellation audit events, nothing to verify (is the tenant id right?)",
            AuditVerifyCommand.Describe(new AuditChainVerification("shpo", true, 0, 0, 0, "", null)));
        Assert.StartsWith("tenant shop: INTACT, 3 chained entries",
            AuditVerifyCommand.Describe(new AuditChainVerification("shop", true, 3, 0, 3, "ab12", null)));
        Assert.StartsWith("tenant shop: BROKEN at position 2",
            AuditVerifyCommand.Describe(new AuditChainVerification("shop", false, 1, 0, 3, "ab12", new AuditChainBreak(9, Guid.Empty, Guid.Empty, 2, "edited"))));
    }
}
