namespace EventSourcedCampaigns.Service.Tests;

/// <summary>Settings an operator gets wrong, as configuration binds them (found by an operator's audit).</summary>
public sealed class the_settings_an_operator_mistypes
{
    private static ServiceSettings Bind(params (string Key, string Value)[] values) => ConfiguredSettings.Bind(values);

    public static TheoryData<string, string> Misspelled => new()
    {
        // The binder ignored them: the node ran every role, sent unthrottled, sent without SMTP AUTH.
        { "Campaigns:Role", "Sender" },
        { "Campaigns:Sending:MessagesPerMinute", "100" },
        { "Campaigns:Local:Latencyy", "00:00:01" },
        { "Campaigns:Auth:RequestPerMinutePerTenant", "10" },
        { "Campaigns:DrainTimeout", "00:00:30" },
    };

    [Theory, MemberData(nameof(Misspelled))]
    public void names_a_key_that_is_no_setting_instead_of_ignoring_it(string key, string value)
    {
        var refused = Assert.Throws<InvalidSettingsException>(() => Bind((key, value)));
        Assert.Equal($"{key} is not a setting of the service; check its name (docs/service.md lists them).", refused.Message);
    }

    [Fact]
    public void names_a_key_of_the_chosen_provider_that_is_no_setting()
    {
        var refused = Assert.Throws<InvalidSettingsException>(() => Bind(("Campaigns:Provider", "smtp"), ("Campaigns:Smtp:Host", "smtp.example.com"),
            ("Campaigns:Smtp:FromAddress", "news@shop.example"), ("Campaigns:Smtp:UserName", "campaigns"), ("Campaigns:Smtp:Pasword", "secret")));
        Assert.StartsWith("Campaigns:Smtp:Pasword is not a setting", refused.Message);
    }

    [Fact]
    public void takes_every_documented_key_in_any_case()
    {
        var settings = Bind(("campaigns:roles", "sender"), ("Campaigns:ConnectionString", "Host=db"), ("Campaigns:Schema", "c"),
            ("Campaigns:DaemonMode", "Solo"), ("Campaigns:ApplySchemaOnStartup", "false"), ("Campaigns:DrainTime", "00:00:20"),
            ("Campaigns:LeadershipPollingTime", "00:00:03"), ("Campaigns:MaxReadyLag", "5"), ("Campaigns:TelemetryExporter", "console"),
            ("Campaigns:Provider", "webhook"), ("Campaigns:Webhook:Url", "https://hooks.example.com/send"),
            ("Campaigns:Webhook:Secret", new string('s', 32)), ("Campaigns:Webhook:Retries", "2"), ("Campaigns:Webhook:AttemptTimeout", "00:00:05"),
            ("Campaigns:Smtp:Whatever", "not read: smtp is not the provider"),
            ("Campaigns:MaxRequestBodyBytes", "1000"), ("Campaigns:ClockOffset", "00:00:01"),
            ("Campaigns:Auth:Issuer", "me"), ("Campaigns:Auth:SigningKeys:0", Convert.ToBase64String(new byte[32])),
            ("Campaigns:Auth:TrustedProxies:0", "10.0.0.0/8"), ("Campaigns:Auth:DevelopmentSignIn", "false"),
            ("Campaigns:Sending:BatchesInFlightPerCampaign", "2"), ("Campaigns:Sending:DispatchRetryDelays:0", "00:00:01"),
            ("Campaigns:Sending:MessagesPerMinutePerTenant", "600"), ("Campaigns:Sending:MaxStartLateness", ""),
            ("Campaigns:Local:Contacts", "10"), ("Campaigns:Local:Lists:any name at all", "0.5"), ("Campaigns:Local:RecipientFailureRate", "0"));

        Assert.Equal(ServiceRoles.Sender, settings.Roles);
        Assert.Equal(0.5, settings.Local.Lists["any name at all"]);
        Assert.Null(settings.Sending.MaxStartLateness);
    }

    [Fact]
    public async Task stops_the_service_with_exit_code_2_and_one_line_for_a_key_that_is_no_setting()
    {
        var line = await RefusedStart.RunAsync(["--urls", "http://127.0.0.1:0"], new Dictionary<string, string?>
        {
            ["Campaigns__ConnectionString"] = "Host=127.0.0.1;Port=1;Username=nobody", // never reached
            ["Campaigns__Role"] = "Sender",
        });
        Assert.Equal("The campaigns service cannot start: Campaigns:Role is not a setting of the service; check its name (docs/service.md lists them).", line);
    }

    [Fact]
    public void refuses_a_drain_time_the_projections_stop_cannot_wait()
    {
        // 60 days: the daemon's stop threw ("Error while trying to stop daemon agents") and the node stopped without draining.
        var refused = Assert.Throws<InvalidSettingsException>(() => Bind(("Campaigns:DrainTime", "60.00:00:00")));
        Assert.Equal("Campaigns:DrainTime is 60.00:00:00; it must be at most 1.00:00:00 (one day).", refused.Message);
        Assert.Equal(TimeSpan.FromDays(1), Bind(("Campaigns:DrainTime", "1.00:00:00")).DrainTime);
    }
}

/// <summary>A connection string that parses but that Npgsql cannot use.</summary>
public sealed class the_refusal_of_a_connection_string
{
    [Fact]
    public void names_the_missing_host_instead_of_crashing()
    {
        var settings = new ServiceSettings { ConnectionString = "Username=postgres;Database=postgres" };

        var refused = Assert.Throws<InvalidSettingsException>(() => settings.ResolveConnectionString());
        Assert.Equal("Campaigns:ConnectionString cannot be used: its Host is missing or not usable.", refused.Message);
    }

    [Fact]
    public async Task stops_the_service_with_exit_code_2_and_one_line_without_a_host()
    {
        // It aborted (exit 134) with an unhandled ArgumentNullException's stack trace.
        var line = await RefusedStart.RunAsync(["--urls", "http://127.0.0.1:0"], new Dictionary<string, string?>
        {
            ["Campaigns__ConnectionString"] = "Username=postgres;Database=postgres",
            ["CAMPAIGNS_POSTGRES"] = null,
        });
        Assert.Equal("The campaigns service cannot start: Campaigns:ConnectionString cannot be used: its Host is missing or not usable.", line);
    }
}
