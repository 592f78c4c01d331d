using Edge.Tests.Support;

namespace Edge.Tests.Integration;

/// <summary>RFC 3030 CHUNKING: counted chunks, their replies, and every way to get BDAT wrong.</summary>
public class BdatTests
{
    private static async Task<SmtpConnection> ReadyAsync(EdgeInstance edge, bool recipient = true)
    {
        var c = await edge.ConnectAsync();
        await c.CommandAsync("EHLO client.example");
        await c.CommandAsync("MAIL FROM:<a@example.org>");
        if (recipient)
        {
            await c.CommandAsync("RCPT TO:<postmaster@localhost>");
        }
        return c;
    }

    [Fact]
    public async Task Chunks_make_one_message()
    {
        await using var edge = await EdgeInstance.StartAsync();
        await using var c = await ReadyAsync(edge);
        Assert.Equal("250 2.0.0 Ok: 12 bytes", await c.BdatAsync("Subject: x\r\n"));
        Assert.Equal("250 2.0.0 Ok: 2 bytes", await c.BdatAsync("\r\n"));
        string last = await c.BdatAsync(".body\r\n", last: true);
        Assert.Matches("^250 2.0.0 Ok: \\d+ bytes queued as \\w+$", last);
        string content = await edge.SingleMessageContentAsync();
        Assert.EndsWith("\r\nSubject: x\r\n\r\n.body\r\n", content);
        Assert.Contains(content.Length + " bytes", last);
    }

    [Fact]
    public async Task Bdat_zero_last_ends_the_message()
    {
        await using var edge = await EdgeInstance.StartAsync();
        await using var c = await ReadyAsync(edge);
        Assert.Equal("250 2.0.0 Ok: 9 bytes", await c.BdatAsync("Subject: "));
        Assert.Matches("^250 2.0.0 Ok: \\d+ bytes queued as", await c.CommandAsync("BDAT 0 LAST"));
        Assert.Single(await edge.QueuedAsync());
    }

    [Fact]
    public async Task Bdat_without_recipients_discards_the_chunk()
    {
        await using var edge = await EdgeInstance.StartAsync();
        await using var c = await ReadyAsync(edge, recipient: false);
        Assert.Equal("554 5.5.1 Error: no valid recipients", await c.BdatAsync("hello", last: true));
        Assert.Equal("250 2.0.0 Ok", await c.CommandAsync("NOOP"));
        Assert.Empty(await edge.QueuedAsync());
    }

    [Fact]
    public async Task Bdat_without_mail()
    {
        await using var edge = await EdgeInstance.StartAsync();
        await using var c = await edge.ConnectAsync();
        await c.CommandAsync("EHLO client.example");
        Assert.Equal("503 5.5.1 Error: need RCPT command", await c.BdatAsync("abc"));
    }

    [Fact]
    public async Task Data_after_bdat_is_refused()
    {
        await using var edge = await EdgeInstance.StartAsync();
        await using var c = await ReadyAsync(edge);
        await c.BdatAsync("abc");
        Assert.Equal("503 5.5.1 Error: DATA after BDAT", await c.CommandAsync("DATA"));
        Assert.Equal("503 5.5.1 Error: RCPT after BDAT", await c.CommandAsync("RCPT TO:<x@edge.test>"));
    }

    [Fact]
    public async Task A_null_chunk_is_refused()
    {
        await using var edge = await EdgeInstance.StartAsync();
        await using var c = await ReadyAsync(edge);
        Assert.Equal("551 5.7.1 Null BDAT request", await c.CommandAsync("BDAT 0"));
    }

    [Theory]
    [InlineData("BDAT")]
    [InlineData("BDAT x")]
    [InlineData("BDAT 10 FIRST")]
    [InlineData("BDAT -1")]
    public async Task Malformed_bdat_closes_the_session(string command)
    {
        await using var edge = await EdgeInstance.StartAsync();
        await using var c = await ReadyAsync(edge);
        Assert.Equal("521 5.5.4 Syntax: BDAT count [LAST]", await c.CommandAsync(command));
        Assert.True(await c.IsClosedAsync());
    }

    [Fact]
    public async Task A_chunk_over_the_size_limit_is_refused_and_the_message_discarded()
    {
        await using var edge = await EdgeInstance.StartAsync("message_size_limit = 1000");
        await using var c = await ReadyAsync(edge);
        Assert.Equal("552 5.3.4 Chunk exceeds message size limit", await c.BdatAsync(new string('x', 2000)));
        Assert.Equal("551 5.0.0 Discarded 3 bytes after earlier error", await c.BdatAsync("abc", last: true));
        Assert.Empty(await edge.QueuedAsync());
        Assert.Equal("250 2.1.0 Ok", await c.CommandAsync("MAIL FROM:<a@example.org>"));
    }

    [Fact]
    public async Task Large_chunks_stream_through()
    {
        await using var edge = await EdgeInstance.StartAsync();
        await using var c = await ReadyAsync(edge);
        string line = new string('z', 998) + "\r\n";
        string body = string.Concat(Enumerable.Repeat(line, 300));
        Assert.Matches("^250 2.0.0 Ok: \\d+ bytes queued", await c.BdatAsync(body, last: true));
        Assert.EndsWith(body, await edge.SingleMessageContentAsync());
    }
}
