using Edge.Mail;

namespace Edge.Tests.Queue;

public class QueueIdTests
{
    [Fact]
    public void Ids_are_unique_and_sort_by_time_as_text_and_number()
    {
        var ids = Enumerable.Range(0, 10_000).Select(_ => QueueId.New()).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        var texts = ids.Select(i => i.ToString()).ToList();
        Assert.Equal(texts.OrderBy(t => t, StringComparer.Ordinal), texts);
        Assert.All(texts, t => Assert.Matches("^[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]{10}$", t));
    }

    [Fact]
    public void Text_round_trips()
    {
        QueueId id = QueueId.New();
        Assert.True(QueueId.TryParse(id.ToString(), out QueueId? parsed));
        Assert.Equal(id, parsed);
        Assert.False(QueueId.TryParse("aeiou12345", out _));
        Assert.False(QueueId.TryParse("short", out _));
        Assert.InRange(id.Arrival, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(1));
    }

    /// <summary>A record's damaged header can name any number as its queue ID: recovery must still be able to name it.</summary>
    [Theory]
    [InlineData(long.MinValue)]
    [InlineData(-1L)]
    [InlineData(long.MaxValue)]
    public void Any_number_has_a_text_and_an_arrival(long value)
    {
        var id = new QueueId(value);
        Assert.Equal(QueueId.TextLength, id.ToString().Length);
        Assert.InRange(id.Arrival, DateTimeOffset.MinValue, DateTimeOffset.MaxValue);
    }
}
