using System.Text.Json;
using System.Text.Json.Serialization;

namespace EventSourcedCampaigns.Webhooks;

/// <summary>
/// The JSON body POSTed for one batch (camelCase): <c>{"campaignId", "tenantId", "batchNumber", "idempotencyKey",
/// "channel", "variant": {"key", "subject", "content"}, "recipients": [{"id", "address", "name"}]}</c>; "subject" only when the
/// variant has one (an SMS may not).
/// </summary>
public sealed record WebhookBatch(Guid CampaignId, string? TenantId, int BatchNumber, string IdempotencyKey, string Channel,
    WebhookVariant Variant, IReadOnlyList<WebhookRecipient> Recipients);

/// <summary>The variant of a <see cref="WebhookBatch"/>. An SMS variant may have no subject: then the body has no "subject".</summary>
public sealed record WebhookVariant(string Key, string? Subject, string Content);

/// <summary>One recipient of a <see cref="WebhookBatch"/>: the campaign's recipient id, the address (phone number,
/// device token...) and the name if known.</summary>
public sealed record WebhookRecipient(string Id, string Address, string? Name);

/// <summary>
/// The gateway's answer (optional; an empty 2xx body means every recipient was accepted):
/// <c>{"accepted": n, "refused": [{"recipientId": "...", "reason": "..."}]}</c>.
/// </summary>
public sealed record WebhookResponse(int? Accepted, IReadOnlyList<WebhookRefusal>? Refused);

/// <summary>A recipient the gateway refused, and why.</summary>
public sealed record WebhookRefusal(string RecipientId, string Reason);

/// <summary>The JSON settings of the webhook contract (camelCase, enums as strings); receivers may use them too.</summary>
public static class WebhookJson
{
    /// <summary>camelCase names, case-insensitive reading, nulls omitted.</summary>
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}
