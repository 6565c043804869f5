using Xunit;

namespace EventSourcedCampaigns.Tests.Model;

/// <summary>Text from outside, made storable: PostgreSQL refuses a NUL character and an unpaired surrogate.</summary>
public class storable_text
{
    [Fact]
    public void keeps_ordinary_text_and_characters_outside_the_BMP_as_they_are() =>
        Assert.Equal("Mailbox full 📭 (552)", StorableText.Of("Mailbox full 📭 (552)"));

    [Fact]
    public void drops_NUL_characters() => Assert.Equal("bad", StorableText.Of("b\0a\0d"));

    [Fact]
    public void replaces_an_unpaired_surrogate()
    {
        // In the test's body: xunit would carry a theory's string arguments as UTF-8, which has no unpaired surrogate.
        Assert.Equal("a\ufffdb", StorableText.Of("a\ud800b"));
        Assert.Equal("a\ufffdb", StorableText.Of("a\udc00b"));
        Assert.Equal("end\ufffd", StorableText.Of("end\ud800"));
        Assert.Equal("\ufffd\ufffd", StorableText.Of("\udc00\ud800"));
    }

    [Fact]
    public void keeps_a_text_of_exactly_the_limit_and_cuts_a_longer_one_with_the_marker()
    {
        Assert.Equal("abcde", StorableText.Of("abcde", 5, "…"));
        Assert.Equal("abcd…", StorableText.Of("abcdef", 5, "…"));
        Assert.Equal("abcde", StorableText.Of("abcdefgh", 5));
    }

    [Fact]
    public void never_cuts_a_surrogate_pair_in_half()
    {
        Assert.Equal("abc…", StorableText.Of("abc📭def", 5, "…")); // the pair would straddle the cut: it goes whole
        Assert.Equal("ab📭…", StorableText.Of("ab📭def", 5, "…")); // it ends right at the cut: it stays whole
    }
}
