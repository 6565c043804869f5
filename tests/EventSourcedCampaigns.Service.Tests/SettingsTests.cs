using EventSourcedCampaigns.Service.Security;

namespace EventSourcedCampaigns.Service.Tests;

/// <summary>The settings as configuration binds them: what an operator writes is what the service uses.</summary>
public sealed class the_service_settings
{
    private static ServiceSettings Bind(params (string Key, string Value)[] values) => ConfiguredSettings.Bind(values);

    public static TheoryData<string, string, string> Unusable => new()
    {
        { "Campaigns:Roles", "foo", "Campaigns:Roles" },
        { "Campaigns:Roles", "", "Campaigns:Roles" },
        { "Campaigns:Roles", "0", "Campaigns:Roles names no role" },
        { "Campaigns:Roles", "8", "Campaigns:Roles is '8'" },
        { "Campaigns:Roles", "-1", "Campaigns:Roles is '-1'" },
        { "Campaigns:DaemonMode", "bogus", "Campaigns:DaemonMode" },
        { "Campaigns:DaemonMode", "7", "Campaigns:DaemonMode is '7'" },
        { "Campaigns:MaxRequestBodyBytes", "-1", "Campaigns:MaxRequestBodyBytes must not be negative" },
        { "Campaigns:MaxReadyLag", "abc", "Campaigns:MaxReadyLag" },
        { "Campaigns:MaxReadyLag", "-1", "Campaigns:MaxReadyLag must not be negative" },
        { "Campaigns:Schema", "", "Campaigns:Schema is ''" },
        { "Campaigns:Schema", "my-campaigns", "Campaigns:Schema is 'my-campaigns'" },
        { "Campaigns:Schema", "1campaigns", "Campaigns:Schema is '1campaigns'" },
        { "Campaigns:LeadershipPollingTime", "00:00:00", "Campaigns:LeadershipPollingTime must be positive" },
        { "Campaigns:DrainTime", "-00:00:01", "Campaigns:DrainTime must not be negative" },
        { "Campaigns:TelemetryExporter", "otlpx", "Campaigns:TelemetryExporter is 'otlpx'" },
        { "Campaigns:Provider", "bogus", "Campaigns:Provider is 'bogus'" },
        // Each named as the setting it is (two were named by a parameter), in one line.
        { "Campaigns:Sending:BatchesInFlightPerCampaign", "0", "Campaigns:Sending:BatchesInFlightPerCampaign (0) is out of range: must be greater than or equal to '1'." },
        { "Campaigns:Sending:MessagesPerMinutePerCampaign", "0", "Campaigns:Sending:MessagesPerMinutePerCampaign (0) is out of range: must be greater than or equal to '1'." },
        { "Campaigns:Sending:MaxParallelDispatches", "0", "Campaigns:Sending:MaxParallelDispatches (0) is out of range: must be greater than or equal to '1'." },
        { "Campaigns:Sending:ClaimTimeout", "-00:00:01", "Campaigns:Sending:ClaimTimeout (-00:00:01) is out of range: Must be positive." },
        { "Campaigns:Sending:ReconcileInterval", "00:00:00", "Campaigns:Sending:ReconcileInterval (00:00:00) is out of range: Must be positive." },
        { "Campaigns:Sending:MaxWaitBehindCancels", "-00:00:01", "Campaigns:Sending:MaxWaitBehindCancels (-00:00:01) is out of range: Can't be negative." },
        { "Campaigns:Sending:MaxStartLateness", "-00:00:01", "Campaigns:Sending:MaxStartLateness (-00:00:01) is out of range: Can't be negative." },
        { "Campaigns:Sending:MaxThrottleWait", "-00:00:01", "Campaigns:Sending:MaxThrottleWait (-00:00:01) is out of range: Can't be negative." },
        { "Campaigns:Local:TransientFailureRate", "1.5", "Campaigns:Local:TransientFailureRate must be a share from 0 to 1" },
        { "Campaigns:Local:PermanentFailureRate", "-0.1", "Campaigns:Local:PermanentFailureRate" },
        { "Campaigns:Local:RecipientFailureRate", "NaN", "Campaigns:Local:RecipientFailureRate" },
        { "Campaigns:Local:Latency", "-00:00:01", "Campaigns:Local:Latency must not be negative" },
        { "Campaigns:Local:Contacts", "-5", "Campaigns:Local:Contacts" },
        { "Campaigns:Local:Lists:newsletter", "2", "Campaigns:Local:Lists:newsletter" },
        // Found by an audit: the binder dropped an entry of a list or map it could not convert, and the node ran without it
        // (no retries at all, a list that did not exist).
        { "Campaigns:Sending:DispatchRetryDelays:0", "oops", "Campaigns:Sending:DispatchRetryDelays:0 is 'oops', which is not a duration (hh:mm:ss)." },
        { "Campaigns:Local:Lists:newsletter", "abc", "Campaigns:Local:Lists:newsletter is 'abc', which is not a number." },
        // Read by the rate limiter and the bearer handler only at the first request, which they failed with a 500.
        { "Campaigns:Auth:RequestsPerMinutePerTenant", "0", "Campaigns:Auth:RequestsPerMinutePerTenant must be at least 1" },
        { "Campaigns:Auth:RequestsPerMinutePerTenant", "-3", "Campaigns:Auth:RequestsPerMinutePerTenant must be at least 1" },
        { "Campaigns:Auth:UnauthenticatedRequestsPerMinutePerAddress", "0", "Campaigns:Auth:UnauthenticatedRequestsPerMinutePerAddress must be at least 1" },
        { "Campaigns:Auth:TrustedProxies:0", "10.0.0.0/33", "Campaigns:Auth:TrustedProxies has '10.0.0.0/33'" },
        { "Campaigns:Auth:TrustedProxies:0", "proxy.internal", "Campaigns:Auth:TrustedProxies has 'proxy.internal'" },
        { "Campaigns:Auth:Audience", " ", "Campaigns:Auth:Audience must not be empty" },
        { "Campaigns:Auth:Authority", "login.example.com", "Campaigns:Auth:Authority is 'login.example.com'" },
        { "Campaigns:Auth:Authority", "http://login.example.com/realms/shop", "Campaigns:Auth:Authority is 'http://login.example.com/realms/shop'" },
        { "Campaigns:Auth:DashboardClientId", "campaigns-dashboard", "Campaigns:Auth:DashboardClientId needs Campaigns:Auth:Authority" },
        { "Campaigns:Auth:SigningKeys:0", "not base64!", "Campaigns:Auth:SigningKeys:0 is not base64" },
        { "Campaigns:Auth:SigningKeys:0", "c2hvcnQ=", "Campaigns:Auth:SigningKeys:0 is shorter than 32 bytes" },
    };

    [Theory, MemberData(nameof(Unusable))]
    public void a_value_the_service_cannot_run_with_is_refused_naming_the_setting(string key, string value, string named)
    {
        var refused = Assert.Throws<InvalidSettingsException>(() => Bind((key, value)));
        Assert.Contains(named, refused.Message);
        Assert.DoesNotContain('\n', refused.Message); // one line on stderr
    }

    [Fact]
    public void the_defaults_are_usable() =>
        Assert.Equal(ServiceRoles.Api | ServiceRoles.Sender | ServiceRoles.Projections, Bind().Roles);

    [Fact]
    public async Task a_rate_limit_below_one_stops_the_service_at_start_instead_of_failing_every_request_with_500()
    {
        var line = await RefusedStart.RunAsync(["--urls", "http://127.0.0.1:0"], new Dictionary<string, string?>
        {
            ["Campaigns__ConnectionString"] = "Host=127.0.0.1;Port=1;Username=nobody", // never reached
            ["Campaigns__Auth__RequestsPerMinutePerTenant"] = "0",
        });
        Assert.Equal("The campaigns service cannot start: Campaigns:Auth:RequestsPerMinutePerTenant must be at least 1.", line);
    }

    [Fact]
    public void an_identity_provider_over_https_and_a_key_of_32_bytes_are_usable()
    {
        var settings = Bind(("Campaigns:Auth:Authority", "https://login.example.com/realms/shop"),
            ("Campaigns:Auth:SigningKeys:0", Convert.ToBase64String(new byte[32])), ("Campaigns:Auth:RequestsPerMinutePerTenant", "1"));

        Assert.Equal("https://login.example.com/realms/shop", settings.Auth.Authority);
        Assert.Equal(1, settings.Auth.RequestsPerMinutePerTenant);
    }

    [Theory]
    [InlineData("http://localhost:8080/realms/shop")] // a developer's Keycloak: plain HTTP that never leaves the machine
    [InlineData("http://127.0.0.1:8080/realms/shop")]
    public void an_identity_provider_on_this_machine_may_answer_over_http(string authority)
    {
        var settings = Bind(("Campaigns:Auth:Authority", authority), ("Campaigns:Auth:DashboardClientId", "campaigns-dashboard"));

        Assert.True(settings.Auth.IdentityProviderSignIn);
        Assert.Equal(Scopes.All, settings.Auth.DashboardScopesAskedFor);
    }

    [Fact]
    public void the_dashboard_asks_the_identity_provider_for_the_scopes_configured_instead_of_the_apis_own() =>
        Assert.Equal(["api://campaigns/read", "api://campaigns/cancel"], Bind(("Campaigns:Auth:Authority", "https://login.example.com"),
            ("Campaigns:Auth:DashboardScopes:0", "api://campaigns/read"), ("Campaigns:Auth:DashboardScopes:1", "api://campaigns/cancel")).Auth.DashboardScopesAskedFor);

    [Fact]
    public void an_exporter_accepted_in_any_case_or_padding_is_the_one_used() =>
        Assert.Equal("otlp", Bind(("Campaigns:TelemetryExporter", " OTLP ")).TelemetryExporter);

    [Fact]
    public void a_configured_list_of_retry_delays_replaces_the_default_instead_of_adding_to_it()
    {
        var settings = Bind(("Campaigns:Sending:DispatchRetryDelays:0", "00:00:00.100"));

        Assert.Equal([TimeSpan.FromMilliseconds(100)], settings.Sending.DispatchRetryDelays!);
        Assert.Null(Bind().Sending.DispatchRetryDelays); // unset: the pipeline's own default
    }
}
