using EventSourcedCampaigns.Ports;
using EventSourcedCampaigns.Tests.Support;
using Xunit;

namespace EventSourcedCampaigns.Tests.Ports;

/// <summary>IAudienceResolver pages through an audience; a page without a continuation is the end.</summary>
public class an_audience_page
{
    [Fact]
    public void without_a_continuation_is_the_last() =>
        Assert.True(new AudiencePage([new Recipient("r-1", "ann@example.com")], 1, Continuation: null).IsLast);

    [Fact]
    public void with_a_continuation_has_more_to_come() =>
        Assert.False(new AudiencePage([new Recipient("r-1", "ann@example.com")], 2, Continuation: "page-2").IsLast);
}

/// <summary>What a resolver throws: the message becomes the reason scheduling failed, which the marketer reads.</summary>
public class an_audience_resolver_error
{
    [Fact]
    public void for_an_unknown_list_names_the_list()
    {
        var error = new UnknownSegmentException("seg_vip");

        Assert.Equal("There is no list or segment 'seg_vip'.", error.Message);
        Assert.Equal("seg_vip", error.SegmentId);
    }

    [Fact]
    public void for_a_foreign_continuation_names_the_continuation()
    {
        var error = new InvalidContinuationException("page-7");

        Assert.Equal("'page-7' is not a continuation this audience resolver produced.", error.Message);
        Assert.Equal("page-7", error.Continuation);
    }
}

/// <summary>IMessageDispatcher hands a claimed batch to the provider, possibly twice after a crash.</summary>
public class a_dispatch_request
{
    private static DispatchRequest Batch(string? tenant = "acme", Guid? campaign = null, int batch = 3) =>
        new(campaign ?? Plan.Id, tenant, batch, Channel.Email, Plan.Variants[0], [new Recipient("r-1", "ann@example.com")]);

    [Fact]
    public void has_an_idempotency_key_naming_tenant_campaign_and_batch() =>
        Assert.Equal("acme/5eed000000004000800000000000ca11-3", Batch().IdempotencyKey);

    [Fact]
    public void handed_over_again_has_the_same_key() =>
        Assert.Equal(Batch().IdempotencyKey, (Batch() with { Recipients = [] }).IdempotencyKey);

    [Fact]
    public void of_another_tenant_campaign_or_batch_has_another_key()
    {
        var key = Batch().IdempotencyKey;
        Assert.NotEqual(key, Batch(tenant: "globex").IdempotencyKey);
        Assert.NotEqual(key, Batch(campaign: Commands.CloneId).IdempotencyKey);
        Assert.NotEqual(key, Batch(batch: 4).IdempotencyKey);
    }

    [Theory]
    [InlineData("acme/5eed-3!~", "acme/5eed-3!~")]
    [InlineData("a b", "a%20b")]
    [InlineData("100%", "100%25")]
    [InlineData("del\u007f", "del%7F")]
    [InlineData("tab\t", "tab%09")]
    [InlineData("shöp👩", "sh%C3%B6p%F0%9F%91%A9")]
    public void in_a_header_is_printable_ascii_percent_encoded_beyond_it(string key, string header)
    {
        key = System.Text.RegularExpressions.Regex.Unescape(key);
        Assert.Equal(header, DispatchRequest.HeaderSafe(key));
        Assert.Equal(key, Uri.UnescapeDataString(DispatchRequest.HeaderSafe(key)));
    }
}

/// <summary>A provider's failure: a transient one is retried, a permanent one records the batch as failed.</summary>
public class a_dispatch_failure
{
    [Fact]
    public void that_is_transient_may_succeed_later()
    {
        var inner = new TimeoutException("timed out");
        var failure = new TransientDispatchException("429 too many requests", inner, TimeSpan.FromSeconds(30));

        Assert.True(failure.IsTransient);
        Assert.Equal(TimeSpan.FromSeconds(30), failure.RetryAfter);
        Assert.Equal("429 too many requests", failure.Message);
        Assert.Same(inner, failure.InnerException);
    }

    [Fact]
    public void that_is_permanent_will_not()
    {
        var failure = new PermanentDispatchException("550 sender rejected");

        Assert.False(failure.IsTransient);
        Assert.Equal("550 sender rejected", failure.Message);
    }
}
