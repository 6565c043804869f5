using Xunit;

namespace EventSourcedCampaigns.Tests.Support;

/// <summary>Malformed input shared by several commands.</summary>
public static class Invalid
{
    /// <summary>Nobody, a blank id, a channel that doesn't exist.</summary>
    public static TheoryData<Actor?> Actors => new(null, new Actor(" ", RequestChannel.User), new Actor("ann@example.com", (RequestChannel)9));
}
