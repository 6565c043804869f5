using EventSourcedCampaigns.Wolverine;

namespace EventSourcedCampaigns.Sending.Tests;

/// <summary>
/// What a provider adapter names as refused is taken as far as it makes sense and never throws: the dispatch step reads it
/// after the provider took the batch, and a throw there would have the batch retried, so sent again.
/// </summary>
public sealed class the_providers_named_refusals
{
    private static readonly CampaignBatch Batch = new("c/1", Guid.NewGuid(), 1, "A",
        [new("r1", "r1@example.com"), new("r2", "r2@example.com"), new("r3", "r3@example.com"), new("r4", "r4@example.com")]);

    private static RecipientRefusal[]? Refused(int failed, params RecipientRefusal?[] refusals) =>
        SendingHandler.Refused(new DispatchResult(Batch.Recipients.Length - failed, failed) { Refusals = refusals! }, Batch.Recipients);

    [Fact]
    public void keep_each_refused_recipient_of_the_batch_once_with_its_reason() =>
        Assert.Equal([new("r2", "550 no such user"), new("r4", "552 mailbox full")],
            Refused(2, new("r2", "550 no such user"), new("r4", "552 mailbox full")));

    [Fact]
    public void drop_refusals_without_a_recipient_of_recipients_not_in_the_batch_and_repeats() =>
        Assert.Equal([new("r2", "first")],
            Refused(3, null, new(null!, "no one"), new("", "empty"), new("stranger", "not sent to"), new("r2", "first"), new("r2", "again")));

    [Fact]
    public void keep_a_refusal_without_a_reason_with_an_empty_one() =>
        Assert.Equal([new("r3", "")], Refused(1, new RecipientRefusal("r3", null!)));

    [Fact]
    public void drop_every_name_when_they_outnumber_the_failed_count() =>
        Assert.Null(Refused(1, new("r1", "a"), new("r2", "b")));

    [Fact]
    public void cut_long_reasons() =>
        Assert.Equal(SendingHandler.MaxErrorLength, Refused(1, new RecipientRefusal("r1", new string('x', 2_000)))![0].Reason.Length);
}
