using System.Diagnostics;
using EventSourcedCampaigns.Marten;
using JasperFx.CommandLine;
using Marten;

namespace EventSourcedCampaigns.Service.Operations;

/// <summary>Input of <see cref="ReadModelsCommand"/>: <c>read-models rebuild</c>.</summary>
public sealed class ReadModelsInput : NetCoreInput
{
    /// <summary>What to do with the read models; "rebuild" is the only action.</summary>
    [Description("What to do with the campaign list, send reports and cancellation audit: rebuild")]
    public string Action { get; set; } = "rebuild";
}

/// <summary>
/// <c>read-models rebuild</c>: rebuild the campaign list, the send reports and the cancellation audit from the events in
/// one pass (<see cref="ReadModelRebuild.RebuildReadModelsAsync"/>), several times faster than Marten's
/// <c>projections rebuild</c>. Stop the projection workers first; they go on from where the rebuild ended.
/// </summary>
[Description("Rebuild the campaign list, send reports and cancellation audit from the events in one pass (stop the projection workers first)",
    Name = "read-models")]
public sealed class ReadModelsCommand : JasperFxAsyncCommand<ReadModelsInput>
{
    public ReadModelsCommand()
    {
        Usage("Rebuild the read models").Arguments(x => x.Action);
    }

    public override async Task<bool> Execute(ReadModelsInput input)
    {
        if (!string.Equals(input.Action, "rebuild", StringComparison.OrdinalIgnoreCase))
        {
            Console.Error.WriteLine($"Unknown read-models action '{input.Action}'. Use: read-models rebuild");
            return false;
        }

        using var host = input.BuildHost();
        var store = host.Services.GetRequiredService<IDocumentStore>();
        if (await CampaignSchema.MissingAsync(store) is { } missing)
        {
            Console.Error.WriteLine(missing);
            return false;
        }
        // Named first, so that a rebuild of a restored copy is not mistaken for one of the live database (or the reverse).
        Console.WriteLine($"Rebuilding the read models of {CampaignSchema.Describe(store)}.");
        var started = Stopwatch.GetTimestamp();
        try
        {
            await store.RebuildReadModelsAsync(TimeSpan.FromHours(6));
        }
        catch (ProjectionsRunningException running)
        {
            Console.Error.WriteLine(running.Message);
            return false;
        }
        Console.WriteLine($"Rebuilt the campaign list, the send reports and the cancellation audit in {Stopwatch.GetElapsedTime(started).TotalSeconds:N1} s.");
        return true;
    }
}
