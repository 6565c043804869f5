using System.Text.Json.Serialization;
using EventSourcedCampaigns.Marten;
using EventSourcedCampaigns.Marten.Telemetry;
using EventSourcedCampaigns.ProjectionHost;
using EventSourcedCampaigns.ProjectionHost.Http;
using EventSourcedCampaigns.ProjectionHost.Operations;
using JasperFx;
using JasperFx.Events.Daemon;
using Marten;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

var builder = WebApplication.CreateBuilder(args);
builder.Host.ApplyJasperFxExtensions();
var section = builder.Configuration.GetSection(WorkerSettings.Section);
var settings = section.Get<WorkerSettings>() ?? new WorkerSettings();
builder.Services.Configure<WorkerSettings>(section);
builder.Services.AddSingleton(TimeProvider.System);

// The event store and the campaign model; HotCold lets many workers run while exactly one projects.
var marten = builder.Services.AddMarten(opts =>
{
    opts.Connection(settings.ResolveConnectionString());
    opts.DatabaseSchemaName = settings.Schema;
    opts.AddCampaigns();
    opts.Events.Subscribe(new CampaignMetricsSubscription());
    opts.Projections.StopAndDrainTimeout = settings.DrainTime;
    opts.Projections.LeadershipPollingTime = (int)settings.LeadershipPollingTime.TotalMilliseconds;
    opts.OpenTelemetry.TrackEventCounters();
});
if (settings.DaemonMode != DaemonMode.Disabled) marten.AddAsyncDaemon(settings.DaemonMode);
if (settings.ApplySchemaOnStartup) marten.ApplyAllDatabaseChangesOnStartup();
builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = settings.DrainTime + TimeSpan.FromSeconds(5));

builder.Services.AddSingleton<ProjectionMonitor>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<ProjectionMonitor>());
builder.Services.AddHealthChecks().AddCheck<ProjectionReadiness>("projections", tags: ["ready"]);
builder.Services.AddProblemDetails();
builder.Services.AddExceptionHandler<CampaignExceptionHandler>();
builder.Services.AddOpenApi();
builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Converters.Add(new JsonStringEnumConverter()));

var telemetry = builder.Services.AddOpenTelemetry()
    .WithTracing(t => t.AddSource("Marten").AddAspNetCoreInstrumentation())
    .WithMetrics(m => m.AddMeter("Marten", CampaignMetrics.MeterName).AddAspNetCoreInstrumentation());
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
app.UseExceptionHandler();
app.UseStatusCodePages();
app.MapOpenApi();
app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains("ready") });
app.MapGet("/ops/projections", (ProjectionMonitor monitor) => monitor.Current)
    .WithSummary("High-water mark, each shard's progress, the lag, and whether this worker runs the projections.");

var api = app.MapGroup("/api").RequireTenant();
api.MapCampaignQueries();
api.MapCampaignCommands();

return await app.RunJasperFxCommands(args);

/// <summary>The entry point, visible to the in-process tests.</summary>
public partial class Program;
