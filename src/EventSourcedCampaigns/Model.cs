namespace EventSourcedCampaigns;

/// <summary>The channel a campaign is sent through.</summary>
public enum Channel { Email, Sms, Push }

/// <summary>How a request reached us: a person in the UI, a program with an API key, or the system itself.</summary>
public enum RequestChannel { User, ApiKey, System }

/// <summary>Who asked for something, and through which channel.</summary>
public sealed record Actor(string Id, RequestChannel Channel)
{
    /// <summary>The system acting on its own (the send pipeline, the scheduler).</summary>
    public static Actor System { get; } = new("system", RequestChannel.System);
}

/// <summary>Why a campaign was cancelled, as a code a program can branch on plus a marketer's words.</summary>
public enum CancelReasonCode { MarketerRequest, WrongAudience, ContentError, ComplianceHold, ProviderOutage, Other }

/// <summary>The reason given with a cancel request.</summary>
public sealed record CancelReason(CancelReasonCode Code, string? Text = null);

/// <summary>The recipients of a campaign: every recipient of the included lists/segments, each once,
/// minus every recipient of the excluded ones.</summary>
public sealed record Audience(string[] Included, string[] Excluded)
{
    /// <summary>An audience of the given lists/segments with nothing excluded.</summary>
    public static Audience Of(params string[] included) => new(included, []);
}

/// <summary>One A/B variant of a campaign's message. A campaign without a test has a single variant with 100%.</summary>
/// <param name="Key">A, B, ...: unique within the campaign whatever its case (A and a are one key), with no spaces around it.</param>
/// <param name="Subject">An email's subject line or a push notification's title, required for those; an SMS has none (null or empty).</param>
/// <param name="Content">The message itself.</param>
/// <param name="SplitPercent">This variant's share of the audience; the shares add up to 100.</param>
public sealed record Variant(string Key, string? Subject, string Content, int SplitPercent)
{
    /// <summary>
    /// This variant as it is stored: an empty subject (an SMS form's empty field) is no subject, as null is, so a request with
    /// either makes the same variant (and a retry with the other is the same request).
    /// </summary>
    public Variant WithoutEmptySubject() => Subject is "" ? this with { Subject = null } : this;
}

/// <summary>How many recipients scheduling assigned to a variant.</summary>
public sealed record VariantShare(string Variant, long Recipients);

/// <summary>Where a cloned campaign came from. <see cref="RemainderOnly"/> excludes recipients the source already reached.</summary>
public sealed record CloneOrigin(Guid SourceCampaignId, bool RemainderOnly);

/// <summary>The statuses a marketer sees in the Campaigns tab.</summary>
public enum CampaignStatus
{
    Draft, Scheduling, Scheduled, Paused, Sending,
    /// <summary>A cancel was requested mid-send; batches in flight are finishing.</summary>
    Cancelling,
    Sent, Cancelled, CancelledDuringSend,
}

/// <summary>Statuses in a marketer's words.</summary>
public static class CampaignStatusText
{
    /// <summary>"Cancelled During Send", "Cancelling", ... as shown in the Campaigns tab.</summary>
    public static string ToDisplay(this CampaignStatus status) => status switch
    {
        CampaignStatus.CancelledDuringSend => "Cancelled During Send",
        _ => status.ToString(),
    };
}
