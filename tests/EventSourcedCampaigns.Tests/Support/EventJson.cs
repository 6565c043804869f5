using System.Text.Json;
using System.Text.Json.Serialization;

namespace EventSourcedCampaigns.Tests.Support;

/// <summary>
/// Events hold arrays (variants, shares, audience lists), so record equality compares them by reference.
/// Tests compare events by what they would look like when stored: their stored name and their JSON.
/// </summary>
public static class EventJson
{
    private static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>One event as "stored_name {json}".</summary>
    public static string Describe(ICampaignEvent e) =>
        $"{CampaignEvents.StoredName(e.GetType())} {JsonSerializer.Serialize(e, e.GetType(), Options)}";

    /// <summary>A sequence of events, one described event after the other.</summary>
    public static string Describe(IEnumerable<ICampaignEvent> events) =>
        string.Join(Environment.NewLine, events.Select(Describe));

    /// <summary>The shape snapshots store: the stored name next to each event.</summary>
    public static IReadOnlyList<object> ForSnapshot(IEnumerable<ICampaignEvent> events) =>
        events.Select(e => (object)new { type = CampaignEvents.StoredName(e.GetType()), e }).ToList();
}
