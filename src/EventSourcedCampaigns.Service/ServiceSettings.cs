using EventSourcedCampaigns.Marten;
using EventSourcedCampaigns.Wolverine;
using JasperFx.Events.Daemon;
using Npgsql;

namespace EventSourcedCampaigns.Service;

/// <summary>What a node of the service does; any combination, all three by default.</summary>
[Flags]
public enum ServiceRoles
{
    /// <summary>The HTTP API: queries and commands.</summary>
    Api = 1,
    /// <summary>The send pipeline: audience preparation, scheduled starts, dispatch to the provider, the reconciler.</summary>
    Sender = 2,
    /// <summary>The read models (Marten's async daemon, HotCold among the nodes that have this role).</summary>
    Projections = 4,
}

/// <summary>A setting the service cannot run with; the message names it and says why.</summary>
public sealed class InvalidSettingsException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The service's settings, section "Campaigns" (appsettings.json, CAMPAIGNS__* environment variables, --Campaigns:* arguments).</summary>
public sealed class ServiceSettings
{
    public const string Section = "Campaigns";

    private const ServiceRoles AllRoles = ServiceRoles.Api | ServiceRoles.Sender | ServiceRoles.Projections;

    private static void EveryEntryConverts<T>(IConfigurationSection list)
    {
        var converter = System.ComponentModel.TypeDescriptor.GetConverter(typeof(T));
        foreach (var entry in list.GetChildren())
        {
            try
            {
                if (entry.Value is null || converter.ConvertFromInvariantString(entry.Value) is null) throw new FormatException();
            }
            catch (Exception e) when (e is FormatException or ArgumentException or OverflowException || e.InnerException is FormatException or OverflowException)
            {
                throw new InvalidSettingsException($"{entry.Path} is '{entry.Value}', which is not a {(typeof(T) == typeof(TimeSpan) ? "duration (hh:mm:ss)" : "number")}.");
            }
        }
    }

    /// <summary>The longest <see cref="DrainTime"/> the service takes.</summary>
    public static readonly TimeSpan MaxDrainTime = TimeSpan.FromDays(1);

    /// <summary>Refuses a key under <paramref name="section"/> that no settable property of <paramref name="type"/> has, in any case.</summary>
    private static void NoUnknownKeys(IConfigurationSection section, Type type, params string[] alsoRead)
    {
        foreach (var child in section.GetChildren())
        {
            if (alsoRead.Contains(child.Key, StringComparer.OrdinalIgnoreCase)) continue;
            var property = type.GetProperty(child.Key,
                System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.IgnoreCase);
            if (property is not { CanWrite: true })
                throw new InvalidSettingsException($"{child.Path} is not a setting of the service; check its name (docs/service.md lists them).");
            // A group of settings of ours (Sending, Local, Auth): its keys too. A list or a map (Lists) has names of its own.
            var group = property.PropertyType;
            if (group.IsClass && group.IsSealed && !group.IsGenericType && group.Namespace?.StartsWith("EventSourcedCampaigns", StringComparison.Ordinal) == true)
                NoUnknownKeys(child, group);
        }
    }

    /// <summary>The providers <c>Campaigns:Provider</c> may name.</summary>
    public static readonly IReadOnlyList<string> Providers = ["local", "smtp", "webhook"];

    /// <summary>
    /// The settings of <paramref name="section"/>, checked: a value the service cannot run with fails here, naming the
    /// setting, instead of as a stack trace at start or at its first use.
    /// </summary>
    /// <exception cref="InvalidSettingsException">A setting does not parse or is out of range.</exception>
    public static ServiceSettings Load(IConfigurationSection section)
    {
        ServiceSettings settings;
        try
        {
            settings = section.Get<ServiceSettings>() ?? new ServiceSettings();
        }
        catch (InvalidOperationException e) // the binder's "Failed to convert configuration value 'x' at 'Campaigns:...'"
        {
            throw new InvalidSettingsException(e.InnerException is { } why ? $"{e.Message} {why.Message}" : e.Message, e);
        }
        // The binder drops an entry of a list or a map that it cannot convert, instead of failing as it does for a single
        // value: "DispatchRetryDelays:0=oops" left no retries at all, unnoticed. Every entry is converted here as it would.
        EveryEntryConverts<TimeSpan>(section.GetSection("Sending:DispatchRetryDelays"));
        EveryEntryConverts<double>(section.GetSection("Local:Lists"));
        // The binder ignores a key that no setting has: "Campaigns:Role=Sender" ran every role, "Sending:MessagesPerMinute"
        // sent unthrottled, without a word. Every key must be a setting (the chosen provider's section included).
        NoUnknownKeys(section, typeof(ServiceSettings), "Provider", "Smtp", "Webhook");
        switch (section["Provider"]?.Trim().ToLowerInvariant())
        {
            case "smtp": NoUnknownKeys(section.GetSection("Smtp"), typeof(EventSourcedCampaigns.Smtp.SmtpDispatcherOptions)); break;
            case "webhook": NoUnknownKeys(section.GetSection("Webhook"), typeof(EventSourcedCampaigns.Webhooks.WebhookDispatcherOptions)); break;
        }
        if (settings.Roles == 0)
            throw new InvalidSettingsException($"{Section}:Roles names no role: give api, sender, projections, or several separated by commas.");
        // The binder reads a number as an enum value: "8" or "-1" is no role of ours, and a daemon mode "7" none of Marten's.
        if ((settings.Roles & ~AllRoles) != 0)
            throw new InvalidSettingsException($"{Section}:Roles is '{section["Roles"]}'; give api, sender, projections, or several separated by commas.");
        if (!Enum.IsDefined(settings.DaemonMode))
            throw new InvalidSettingsException($"{Section}:DaemonMode is '{section["DaemonMode"]}'; use HotCold, Solo or Disabled.");
        if (settings.MaxRequestBodyBytes < 0)
            throw new InvalidSettingsException($"{Section}:MaxRequestBodyBytes must not be negative.");
        // The schema is written into every statement unquoted (Marten's and Wolverine's): one plain identifier.
        if (!System.Text.RegularExpressions.Regex.IsMatch(settings.Schema, "^[A-Za-z_][A-Za-z0-9_]{0,62}$"))
            throw new InvalidSettingsException($"{Section}:Schema is '{settings.Schema}'; use a PostgreSQL identifier: letters, digits and _, at most 63, not starting with a digit.");
        if (settings.LeadershipPollingTime <= TimeSpan.Zero)
            throw new InvalidSettingsException($"{Section}:LeadershipPollingTime must be positive.");
        if (settings.DrainTime < TimeSpan.Zero)
            throw new InvalidSettingsException($"{Section}:DrainTime must not be negative.");
        // Past about 49 days the projections' stop (CancellationTokenSource.CancelAfter) throws: the node then stopped without
        // draining them, and said so only in an error at shutdown.
        if (settings.DrainTime > MaxDrainTime)
            throw new InvalidSettingsException($"{Section}:DrainTime is {settings.DrainTime}; it must be at most {MaxDrainTime} (one day).");
        if (settings.MaxReadyLag < 0)
            throw new InvalidSettingsException($"{Section}:MaxReadyLag must not be negative.");
        var exporter = settings.TelemetryExporter.Trim().ToLowerInvariant();
        if (exporter is not ("none" or "console" or "otlp"))
            throw new InvalidSettingsException($"{Section}:TelemetryExporter is '{settings.TelemetryExporter}'; use none, console or otlp.");
        settings.TelemetryExporter = exporter; // " OTLP" is accepted, so it must also choose the OTLP exporter
        if (section["Provider"] is { Length: > 0 } provider && !Providers.Contains(provider.Trim().ToLowerInvariant()))
            throw new InvalidSettingsException($"{Section}:Provider is '{provider}'; use {string.Join(", ", Providers)}.");
        IReadOnlyList<string> deliveryProblems;
        try
        {
            deliveryProblems = Delivery.DeliveryProvider.SettingsProblems(section);
        }
        catch (InvalidOperationException e) // "Failed to convert configuration value 'x' at 'Campaigns:Smtp:Port'"
        {
            throw new InvalidSettingsException(e.InnerException is { } why ? $"{e.Message} {why.Message}" : e.Message, e);
        }
        if (deliveryProblems.Count > 0) throw new InvalidSettingsException(string.Join(" ", deliveryProblems));
        if (settings.Local.Problems($"{Section}:Local:") is { Count: > 0 } localProblems)
            throw new InvalidSettingsException(string.Join(" ", localProblems));
        if (settings.Auth.Problems($"{Section}:Auth:") is { Count: > 0 } authProblems)
            throw new InvalidSettingsException(string.Join(" ", authProblems));
        try
        {
            settings.Sending.ApplyTo(new CampaignSendingOptions()).Validate();
        }
        catch (ArgumentException e)
        {
            throw new InvalidSettingsException(SendingProblem(e), e);
        }
        return settings;
    }

    /// <summary>A refused <c>Sending</c> value in one line that names its setting (the options name some by their parameter).</summary>
    private static string SendingProblem(ArgumentException e)
    {
        var setting = e.ParamName switch
        {
            "batches" => nameof(SendingSettings.BatchesInFlightPerCampaign),
            "m" => nameof(SendingSettings.MessagesPerMinutePerCampaign),
            var name => name,
        };
        var text = e.Message;
        if (e.ParamName is { } parameter && text.IndexOf($" (Parameter '{parameter}')", StringComparison.Ordinal) is var end and >= 0) text = text[..end];
        var rule = text.IndexOf("must be ", StringComparison.Ordinal) is var at and > 0 ? text[at..] : text;
        var value = e is ArgumentOutOfRangeException { ActualValue: { } actual } ? $" ({actual})" : "";
        return setting is null
            ? $"A {Section}:Sending setting is out of range: {string.Join(" ", text.Split('\n', StringSplitOptions.TrimEntries))}"
            : $"{Section}:Sending:{setting}{value} is out of range: {string.Join(" ", rule.Split('\n', StringSplitOptions.TrimEntries))}";
    }

    /// <summary>What this node does: "api", "sender", "projections", or several separated by commas. Default: all three.</summary>
    public ServiceRoles Roles { get; set; } = AllRoles;

    /// <summary>Whether this node has <paramref name="role"/>.</summary>
    public bool Has(ServiceRoles role) => (Roles & role) == role;

    /// <summary>Npgsql connection string; falls back to the CAMPAIGNS_POSTGRES environment variable.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>PostgreSQL schema of the event store and read models.</summary>
    public string Schema { get; set; } = "campaigns";

    /// <summary>
    /// With the projections role: HotCold (default: one leader among the nodes), Solo (exactly one node projects), or
    /// Disabled. Without that role the daemon does not run whatever this says.
    /// </summary>
    public DaemonMode DaemonMode { get; set; } = DaemonMode.HotCold;

    /// <summary>Create or update the schema at start-up (turn off when migrations run through "db-apply").</summary>
    public bool ApplySchemaOnStartup { get; set; } = true;

    /// <summary>How long a stopping worker lets in-flight projection pages finish.</summary>
    public TimeSpan DrainTime { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often a standby worker tries to take over the projections (HotCold); bounds the failover time.</summary>
    public TimeSpan LeadershipPollingTime { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Readiness fails when the slowest read model is more than this many events behind the high-water mark.</summary>
    public long MaxReadyLag { get; set; } = 10_000;

    /// <summary>none, console or otlp (OTLP endpoint from the standard OTEL_EXPORTER_OTLP_* variables).</summary>
    public string TelemetryExporter { get; set; } = "none";

    /// <summary>The send pipeline's tuning (sender role); see <c>CampaignSendingOptions</c>.</summary>
    public SendingSettings Sending { get; set; } = new();

    /// <summary>The built-in local provider and audience (the embedded default, until a real provider is configured).</summary>
    public LocalSettings Local { get; set; } = new();

    /// <summary>
    /// Added to this node's clock. Zero in production; tests use it to run nodes whose clocks disagree, which the
    /// service must tolerate (decisions never go back in time).
    /// </summary>
    public TimeSpan ClockOffset { get; set; }

    /// <summary>Who may call and how (bearer tokens, API keys, the per-tenant rate limit).</summary>
    public Security.AuthSettings Auth { get; set; } = new();

    /// <summary>Largest request body the API reads (bytes); larger ones get 413.</summary>
    public long MaxRequestBodyBytes { get; set; } = 1_048_576;

    public string ResolveConnectionString()
    {
        var raw = ConnectionString is { Length: > 0 } configured ? configured
            : Environment.GetEnvironmentVariable("CAMPAIGNS_POSTGRES") is { Length: > 0 } fromEnvironment ? fromEnvironment
            : throw new InvalidSettingsException($"{Section}:ConnectionString is required (or CAMPAIGNS_POSTGRES): an Npgsql connection string.");
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(raw);
        }
        catch (ArgumentException e)
        {
            // Its text is not echoed: it may hold a password.
            throw new InvalidSettingsException($"{Section}:ConnectionString is not an Npgsql connection string ({e.GetType().Name}).", e);
        }
        // The HotCold leader holds its lock in a session that runs pg_sleep(60) to watch for failover; without
        // this, PostgreSQL notices a crashed leader only when that sleep ends, delaying takeover by up to a minute.
        if (builder.Options?.Contains("client_connection_check_interval") != true)
            builder.Options = $"{builder.Options} -c client_connection_check_interval=1000".Trim();
        var resolved = CampaignConnectionStrings.WithAutoPrepare(builder.ConnectionString);
        // Npgsql checks the whole string only when it makes a data source (no connection is opened here): one without a
        // Host crashed the process (exit 134) with a stack trace, before the first log line.
        try
        {
            using var dataSource = new NpgsqlDataSourceBuilder(resolved).Build();
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or InvalidOperationException)
        {
            // Its text is not echoed either: only the keyword it names.
            throw new InvalidSettingsException((e as ArgumentException)?.ParamName is { Length: > 0 } keyword
                ? $"{Section}:ConnectionString cannot be used: its {keyword} is missing or not usable."
                : $"{Section}:ConnectionString cannot be used ({e.GetType().Name}).", e);
        }
        return resolved;
    }
}

/// <summary>Settings of the send pipeline.</summary>
public sealed class SendingSettings
{
    /// <summary>Sets the pipeline's options from these settings (they throw for a value the pipeline cannot run with).</summary>
    public CampaignSendingOptions ApplyTo(CampaignSendingOptions o)
    {
        o.WithBatchesInFlightPerCampaign(BatchesInFlightPerCampaign);
        o.MaxParallelDispatches = MaxParallelDispatches;
        o.ClaimTimeout = ClaimTimeout;
        o.ReconcileInterval = ReconcileInterval;
        if (DispatchRetryDelays is { } retryDelays) o.DispatchRetryDelays = retryDelays;
        o.WithMessagesPerMinutePerCampaign(MessagesPerMinutePerCampaign);
        o.MessagesPerMinutePerTenant = MessagesPerMinutePerTenant;
        o.MaxThrottleWait = MaxThrottleWait;
        o.MaxStartLateness = MaxStartLateness;
        o.MaxWaitBehindCancels = MaxWaitBehindCancels;
        return o;
    }

    /// <summary>Batches of one campaign with the provider at once.</summary>
    public int BatchesInFlightPerCampaign { get; set; } = 4;

    /// <summary>Batches this node hands to the provider at once, across campaigns.</summary>
    public int MaxParallelDispatches { get; set; } = 16;

    /// <summary>A claim with no provider result after this long is recorded as failed by the reconciler.</summary>
    public TimeSpan ClaimTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How often the reconciler looks at each sending campaign.</summary>
    public TimeSpan ReconcileInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Waits between provider attempts for a failure worth retrying; then the batch is recorded as failed. Null: the
    /// pipeline's default (1 s, 5 s, 15 s, 30 s, 60 s). No default here: configuration binding adds to an array it finds, so a
    /// configured list would have been appended to the default instead of replacing it.
    /// </summary>
    public TimeSpan[]? DispatchRetryDelays { get; set; }

    /// <summary>Messages a minute one campaign may hand to the provider from this node; null: no limit.</summary>
    public int? MessagesPerMinutePerCampaign { get; set; }

    /// <summary>Messages a minute one tenant's campaigns together may hand to the provider from this node; null: no limit.</summary>
    public int? MessagesPerMinutePerTenant { get; set; }

    /// <summary>How long in total a batch may wait on the provider's Retry-After before it is recorded as failed.</summary>
    public TimeSpan MaxThrottleWait { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>A start later than this after its send time pauses the campaign instead of sending; null: no bound.</summary>
    public TimeSpan? MaxStartLateness { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How long a pipeline step waits, each time, for the cancels running on this node; zero: never.</summary>
    public TimeSpan MaxWaitBehindCancels { get; set; } = TimeSpan.FromMilliseconds(250);
}

/// <summary>
/// The embedded provider and audience: a made-up contact base where any list name exists (or only
/// <see cref="Lists"/>, when given), and a provider that accepts batches after a latency, with an optional share of
/// failures. Nothing leaves the machine.
/// </summary>
public sealed class LocalSettings
{
    /// <summary>Size of the made-up contact base.</summary>
    public long Contacts { get; set; } = 100_000;

    /// <summary>The only list names that exist, each with the fraction of contacts in it; empty: any name exists.</summary>
    public Dictionary<string, double> Lists { get; set; } = [];

    /// <summary>How long the local provider takes per batch.</summary>
    public TimeSpan Latency { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>Share of provider calls that fail transiently (retried).</summary>
    public double TransientFailureRate { get; set; }

    /// <summary>Share of batches the local provider refuses for good (recorded as failed batches, not retried).</summary>
    public double PermanentFailureRate { get; set; }

    /// <summary>Share of recipients the local provider refuses.</summary>
    public double RecipientFailureRate { get; set; } = 0.002;

    /// <summary>What these settings cannot be used with, each naming its setting after <paramref name="prefix"/>; empty when usable.</summary>
    public IReadOnlyList<string> Problems(string prefix)
    {
        List<string> problems = [];
        if (Contacts < 0) problems.Add($"{prefix}{nameof(Contacts)} must not be negative.");
        foreach (var (list, fraction) in Lists)
            if (string.IsNullOrWhiteSpace(list) || !(fraction is > 0 and <= 1))
                problems.Add($"{prefix}{nameof(Lists)}:{list} must be a fraction of the contacts in (0, 1].");
        if (Latency < TimeSpan.Zero) problems.Add($"{prefix}{nameof(Latency)} must not be negative.");
        foreach (var (name, rate) in new[]
                 {
                     (nameof(TransientFailureRate), TransientFailureRate), (nameof(PermanentFailureRate), PermanentFailureRate),
                     (nameof(RecipientFailureRate), RecipientFailureRate),
                 })
            if (!(rate is >= 0 and <= 1)) problems.Add($"{prefix}{name} must be a share from 0 to 1.");
        return problems;
    }
}
