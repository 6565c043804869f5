using System.Globalization;
using System.Text.Json.Serialization;
using EventSourcedCampaigns.Marten;
using EventSourcedCampaigns.Marten.Telemetry;
using EventSourcedCampaigns.Ports;
using EventSourcedCampaigns.Service;
using EventSourcedCampaigns.Service.Delivery;
using EventSourcedCampaigns.Service.Http;
using EventSourcedCampaigns.Service.Operations;
using EventSourcedCampaigns.Service.Security;
using EventSourcedCampaigns.Testing;
using EventSourcedCampaigns.Wolverine;
using JasperFx;
using JasperFx.Events.Daemon;
using Marten;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Matching;
using Microsoft.Extensions.Logging.Console;
using Spectre.Console;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Wolverine;
using Wolverine.Marten;

if (args.FirstOrDefault() == DevToken.Command) return DevToken.Run(args[1..]);

// Only what the API key and audit commands answer goes to stdout (a new key: KEY=$(... api-keys create ...); a verdict):
// JasperFx's listing of the assemblies it searches for commands goes nowhere, its other output (usage) and the logs to stderr.
var quietCommand = args.FirstOrDefault() is ApiKeysCommand.Command or AuditVerifyCommand.Command;
if (quietCommand) AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(TextWriter.Null) });
var builder = WebApplication.CreateBuilder(args);
// The dashboard's files from the build output in every environment (ASP.NET Core reads the build's manifest of them in
// Development only): a Production run of the built service served no dashboard. A published service has them in wwwroot.
builder.WebHost.UseStaticWebAssets();
builder.Host.ApplyJasperFxExtensions();
if (quietCommand)
{
    AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
    builder.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
}
var section = builder.Configuration.GetSection(ServiceSettings.Section);
ServiceSettings settings;
try
{
    settings = ServiceSettings.Load(section);
    settings.ResolveConnectionString(); // none, or one that does not parse: the same one line as any other setting
}
catch (InvalidSettingsException e)
{
    // A setting the service cannot run with: its name and why, not a stack trace.
    Console.Error.WriteLine($"The campaigns service cannot start: {e.Message}");
    return 2;
}
builder.Services.Configure<ServiceSettings>(section);
// Routing answers a body of another type than an endpoint accepts with a 415 of its own before any endpoint matches: the
// refusal log could not name the route, nor the answer the type sent. The API's own check answers it (Http/JsonBodies.cs).
foreach (var accepts in builder.Services.Where(d => d.ServiceType == typeof(MatcherPolicy) && d.ImplementationType?.Name == "AcceptsMatcherPolicy").ToList())
    builder.Services.Remove(accepts);
builder.Services.AddSingleton<TimeProvider>(settings.ClockOffset == TimeSpan.Zero ? TimeProvider.System : new OffsetClock(settings.ClockOffset));

// The event store and the campaign model. Commands of every node go through Wolverine (one door), whose durable
// inbox and outbox live in the same database and schema.
var marten = builder.Services.AddMarten(opts =>
{
    opts.Connection(settings.ResolveConnectionString());
    opts.DatabaseSchemaName = settings.Schema;
    opts.AddCampaigns();
    opts.Events.Subscribe(new CampaignMetricsSubscription());
    opts.Projections.StopAndDrainTimeout = settings.DrainTime;
    opts.Projections.LeadershipPollingTime = (int)settings.LeadershipPollingTime.TotalMilliseconds;
    opts.OpenTelemetry.TrackEventCounters();
}).IntegrateWithWolverine(w =>
{
    w.MessageStorageSchemaName = settings.Schema;
    w.TransportSchemaName = settings.Schema;
});
// HotCold: every node with the projections role may run the daemon; exactly one does at a time.
if (settings.Has(ServiceRoles.Projections) && settings.DaemonMode != DaemonMode.Disabled) marten.AddAsyncDaemon(settings.DaemonMode);
if (settings.ApplySchemaOnStartup) marten.ApplyAllDatabaseChangesOnStartup();
builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = settings.DrainTime + TimeSpan.FromSeconds(5));

// The embedded provider and audience (see LocalSettings).
var local = settings.Local;
builder.Services.AddSingleton<IAudienceResolver>(local.Lists.Count == 0
    ? BogusAudience.AnyList(local.Contacts, seed: 2026)
    : new BogusAudience(2026, local.Contacts, local.Lists));
// The provider: Campaigns:Provider = local (the default), smtp or webhook (docs/delivery.md).
builder.Services.AddCampaignDelivery(section, () => new FakeDispatcher(new FakeDispatcherOptions(
    Latency: local.Latency, Jitter: local.Latency / 2, TransientFailureRate: local.TransientFailureRate, PermanentFailureRate: local.PermanentFailureRate,
    RecipientFailureRate: local.RecipientFailureRate, Seed: Environment.ProcessId)));

builder.Host.UseWolverine(opts =>
{
    opts.ServiceName = "campaigns";
    opts.Policies.AutoApplyTransactions();
    opts.AddCampaignSending(o =>
    {
        o.RunPipeline = settings.Has(ServiceRoles.Sender);
        o.HandOffQueue = "campaign_handoff";
        settings.Sending.ApplyTo(o);
    });
});

// Who may call: bearer tokens or API keys, scopes, a rate limit per tenant, bounded request bodies.
builder.AddCampaignSecurity(settings.Auth);
builder.WebHost.ConfigureKestrel(kestrel =>
{
    kestrel.Limits.MaxRequestBodySize = settings.MaxRequestBodyBytes;
    // A text filter of 1,000 characters takes up to 12 KB percent-encoded (4 UTF-8 bytes each): past Kestrel's 8 KB
    // request line, the longest filter the API documents was refused 414 before it reached the API.
    kestrel.Limits.MaxRequestLineSize = 16 * 1024;
});

builder.Services.AddSingleton<ProjectionMonitor>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<ProjectionMonitor>());
builder.Services.AddHealthChecks().AddCheck<ProjectionReadiness>("projections", tags: ["ready"]);
builder.Services.AddProblemDetails();
builder.Services.AddExceptionHandler<CampaignExceptionHandler>();
builder.Services.AddCampaignOpenApi(); // /openapi/v1.json, committed as docs/openapi/v1.json (docs/api.md)
// A body or query value that does not parse is a 400 problem with the code bad_request in every environment.
builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
// Enums are their names (docs/api.md), one name read in any case: a number or a numeric string ("channel": 0, "2"), or names
// joined by commas ("Email, Sms"), does not parse, like an unknown name, rather than reaching the campaign as another value.
// A property given twice ({"name":"A","name":"B"}, or "name" and "Name") is refused too: which one a proxy or a client
// library reads need not be the one the service would have kept.
builder.Services.ConfigureHttpJsonOptions(o =>
{
    o.SerializerOptions.Converters.Add(new StrictEnumConverter());
    o.SerializerOptions.AllowDuplicateProperties = false;
    // A number is a JSON number: "batchSize": "500" is refused (400 bad_request) like any value of the wrong type.
    o.SerializerOptions.NumberHandling = JsonNumberHandling.Strict;
});

// Wolverine's meter is named "Wolverine:<service name>" (its traces' source is "Wolverine"): without the wildcard no
// Wolverine metric was exported.
var telemetry = builder.Services.AddOpenTelemetry()
    .WithTracing(t => t.AddSource("Marten", "Wolverine").AddAspNetCoreInstrumentation())
    .WithMetrics(m => m.AddMeter("Marten", "Wolverine", "Wolverine:*", CampaignMetrics.MeterName).AddAspNetCoreInstrumentation());
switch (settings.TelemetryExporter.ToLowerInvariant())
{
    case "console":
        telemetry.WithTracing(t => t.AddConsoleExporter()).WithMetrics(m => m.AddConsoleExporter());
        break;
    case "otlp":
        telemetry.WithTracing(t => t.AddOtlpExporter()).WithMetrics(m => m.AddOtlpExporter());
        break;
}

var app = builder.Build();
app.UseTrustedProxies(settings.Auth); // the client's address from X-Forwarded-For, when a trusted proxy sent it
app.UseResponseHardening();
// Every refusal of the API is logged, by the route's pattern and never its values (a recipient's id is personal data),
// with the tenant when the caller had one and the client's address: a request refused before a command (401, 403, 429...)
// leaves no trace in the audit (docs/security.md).
var refusals = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("EventSourcedCampaigns.Service.Refusals");
app.Use(async (http, next) =>
{
    await next(http);
    if (http.Response.StatusCode is < 400 or >= 500 || !http.Request.Path.StartsWithSegments("/api")) return;
    refusals.Log(http.Response.StatusCode is 401 or 403 or 429 ? LogLevel.Warning : LogLevel.Information,
        "Refused {Method} {Route} with {Status} (tenant {Tenant}, client {Address})", http.Request.Method,
        // An exception's answer (an unreadable body) comes after the exception handler cleared the endpoint; its feature keeps it.
        ((http.Features.Get<IExceptionHandlerFeature>()?.Endpoint ?? http.GetEndpoint()) as RouteEndpoint)?.RoutePattern.RawText ?? "(no route)",
        http.Response.StatusCode,
        CampaignIdentity.TenantOf(http.User) ?? "none", http.Connection.RemoteIpAddress);
});
app.UseExceptionHandler();
app.UseWritesThatOutliveTheirCaller(); // before anything reads the request's token (Http/Writes.cs)
// A refusal with no body of its own (no route: 404, wrong method: 405, an unreadable body: 400/415 ...) gets problem
// details with a "code" too, like every refusal of the API.
app.UseStatusCodePages(context => Problems.StatusCodePage(context.HttpContext).ExecuteAsync(context.HttpContext));
// A body announced larger than the limit is refused before it is read (Kestrel would stop reading it anyway).
IResult BodyTooLarge() => Problems.Problem(StatusCodes.Status413PayloadTooLarge, "body_too_large",
    string.Create(CultureInfo.InvariantCulture, $"The request body is larger than {settings.MaxRequestBodyBytes:N0} bytes."));
app.Use(async (http, next) =>
{
    if (http.Request.ContentLength > settings.MaxRequestBodyBytes)
    {
        await BodyTooLarge().ExecuteAsync(http);
        return;
    }
    await next(http);
});
// The dashboard (docs/dashboard.md): static files under /app, its cookie session checked for an anti-forgery header.
app.UseDefaultFiles();
app.UseStaticFiles();
// The identity provider's callback is answered by authentication itself, before the limiter below: counted here instead, as
// any request without credentials (each one makes a request to the provider).
if (settings.Auth.IdentityProviderSignIn)
    app.UseWhen(http => http.Request.Path.StartsWithSegments(DashboardSession.IdentityProviderCallback), callback => callback.UseRateLimiter());
app.UseAuthentication();
// Before authorization: a request without valid credentials is counted (per client address) before it earns its 401.
app.UseRateLimiter();
app.UseDashboardCsrfProtection();
app.UseAuthorization();
// A path under /api that no endpoint has, or a method its endpoints do not take (routing's own 405 endpoint, which needs no
// authorization), asks for credentials first, as every endpoint does: what the API has is not told to a caller without them.
app.Use(async (http, next) =>
{
    if (http.Request.Path.StartsWithSegments("/api") && http.User.Identity?.IsAuthenticated != true
        && http.GetEndpoint()?.Metadata.GetMetadata<Microsoft.AspNetCore.Authorization.IAuthorizeData>() is null)
    {
        await ProblemAuthorizationResults.ChallengeAsync(http);
        return;
    }
    await next(http);
});
// A body sent without its length (chunked) is read here, up to the limit, once the caller is known (an anonymous one is not
// worth a megabyte of memory): an endpoint that reads no body acted on a request whose body ran past it (a 500 MB chunked
// POST paused a campaign).
app.Use(async (http, next) =>
{
    if (http.Request.ContentLength is null && !await RequestBodies.BufferAtMostAsync(http, settings.MaxRequestBodyBytes))
    {
        await BodyTooLarge().ExecuteAsync(http);
        return;
    }
    await next(http);
});
app.UseStrictJsonBodies(); // application/json, each property once (Http/JsonBodies.cs)
// Only the document there is: another name would get the OpenAPI middleware's own 404 in plain text, not a problem.
app.MapOpenApi($"/openapi/{{documentName:regex(^{OpenApiContract.DocumentName}$)}}.json").AnswerHeadAsGet();
// Probes read: another method is 405, as on every other path.
app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false }).WithMetadata(new HttpMethodMetadata(["GET", "HEAD"]));
app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains("ready") }).WithMetadata(new HttpMethodMetadata(["GET", "HEAD"]));
app.MapGet("/ops/projections", (ProjectionMonitor monitor) => monitor.Current).WithName("GetProjectionStatus").WithTags("Operations")
    .WithSummary("High-water mark, each shard's progress, the lag, and whether this node runs the projections.")
    .WithDescription("For operators and probes: no credentials needed, no tenant data. /health/live and /health/ready (plain text) are beside it.")
    .AnswerHeadAsGet();

if (settings.Has(ServiceRoles.Api))
{
    // First of the filters: ?status=2 is refused like ?status=Bogus, which does not bind, a time without its offset like
    // one that does not parse, and a query parameter given twice, before anything else is checked.
    var api = app.MapGroup("/api").RequireAuthorization().RequireRateLimiting(SecurityRegistration.TenantRateLimit)
        .AddEndpointFilterFactory(StrictValues.RefuseUnclearValues).RequireTenant().AnswerHeadAsGet();
    api.MapCampaignQueries();
    api.MapRecipientQueries();
    api.MapAuditEndpoints();
    api.MapCampaignCommands();
}
app.MapDashboardSession(settings.Auth, app.Environment);
app.MapGet("/", () => Results.Redirect("/app/")).ExcludeFromDescription();
app.MapFallbackToFile("/app/{*path:nonfile}", "app/index.html").ExcludeFromDescription(); // app.js etc. are static files
var started = false;
app.Lifetime.ApplicationStarted.Register(() =>
{
    started = true;
    app.Logger.LogInformation("Campaigns service started with roles {Roles} on schema {Schema}", settings.Roles, settings.Schema);
});

if (ProjectionsCommandCheck.Refusal(args, app.Services.GetRequiredService<IDocumentStore>()) is { } refusal)
{
    Console.Error.WriteLine(refusal);
    return 1;
}
var exitCode = await app.RunJasperFxCommands(args);
// JasperFx's run command answers 0 even when the host failed to start (its port taken, the database unreachable at
// start): a service manager, a script or a test must see that failure, and a restart policy act on it.
var ranTheService = args.Length == 0 || args[0].StartsWith('-') || string.Equals(args[0], "run", StringComparison.OrdinalIgnoreCase);
return exitCode == 0 && ranTheService && !started ? 1 : exitCode;

/// <summary>The entry point, visible to the in-process tests.</summary>
public partial class Program;
