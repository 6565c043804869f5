namespace EventSourcedCampaigns;

/// <summary>
/// The name an event is stored under. Events live in other people's databases for years, so the stored
/// name is part of the public contract and never follows a CLR rename.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class StoredEventNameAttribute(string name) : Attribute
{
    /// <summary>The stable, snake_case stored name.</summary>
    public string Name { get; } = name;
}
