using Edge.Tests.Support;

namespace Edge.Tests.Integration;

/// <summary>smtpd_forbid_unauth_pipelining and RFC 2920 groups over a real socket.</summary>
public class PipeliningTests
{
    private const string Sync = "554 5.5.0 Error: SMTP protocol synchronization";

    [Fact]
    public async Task A_pipelined_envelope_gets_every_reply_in_order()
    {
        await using var edge = await EdgeInstance.StartAsync();
        await using var c = await edge.ConnectAsync();
        await c.CommandAsync("EHLO client.example");
        await c.SendAsync("MAIL FROM:<a@example.org>\r\nRCPT TO:<postmaster@localhost>\r\nRCPT TO:<bad\r\nRCPT TO:<x@edge.test>\r\nDATA\r\n");
        Assert.Equal("250 2.1.0 Ok", await c.ReadReplyAsync());
        Assert.Equal("250 2.1.5 Ok", await c.ReadReplyAsync());
        Assert.Equal("501 5.1.3 Bad recipient address syntax", await c.ReadReplyAsync());
        Assert.Equal("250 2.1.5 Ok", await c.ReadReplyAsync());
        Assert.StartsWith("354", await c.ReadReplyAsync());
        await c.SendAsync("x\r\n.\r\nRSET\r\nQUIT\r\n");
        Assert.StartsWith("250 2.0.0 Ok: queued", await c.ReadReplyAsync());
        Assert.Equal("250 2.0.0 Ok", await c.ReadReplyAsync());
        Assert.Equal("221 2.0.0 Bye", await c.ReadReplyAsync());
    }

    [Theory]
    [InlineData("EHLO client.example\r\nMAIL FROM:<a@example.org>\r\n")]
    [InlineData("NOOP\r\nNOOP\r\n")]
    [InlineData("HELO client.example\r\nMAIL FROM:<a@example.org>\r\n")]
    public async Task Commands_behind_a_group_ending_command_are_refused(string group)
    {
        await using var edge = await EdgeInstance.StartAsync();
        await using var c = await edge.ConnectAsync();
        await c.SendAsync(group);
        Assert.Equal(Sync, await c.ReadReplyAsync());
        Assert.True(await c.IsClosedAsync());
    }

    [Fact]
    public async Task Content_sent_before_the_354_is_refused()
    {
        await using var edge = await EdgeInstance.StartAsync();
        await using var c = await edge.ConnectAsync();
        await c.CommandAsync("EHLO client.example");
        await c.SendAsync("MAIL FROM:<a@example.org>\r\nRCPT TO:<postmaster@localhost>\r\nDATA\r\nSubject: eager\r\n\r\n.\r\n");
        Assert.Equal("250 2.1.0 Ok", await c.ReadReplyAsync());
        Assert.Equal("250 2.1.5 Ok", await c.ReadReplyAsync());
        Assert.Equal(Sync, await c.ReadReplyAsync());
        Assert.True(await c.IsClosedAsync());
        Assert.Empty(await edge.QueuedAsync());
    }

    [Fact]
    public async Task A_client_without_ehlo_may_not_pipeline()
    {
        await using var edge = await EdgeInstance.StartAsync();
        await using var c = await edge.ConnectAsync();
        Assert.Equal("250 mx.edge.test", await c.CommandAsync("HELO client.example"));
        await c.SendAsync("MAIL FROM:<a@example.org>\r\nRCPT TO:<postmaster@localhost>\r\n");
        Assert.Equal(Sync, await c.ReadReplyAsync());
    }

    [Fact]
    public async Task Talking_before_the_greeting_is_refused()
    {
        await using var edge = await EdgeInstance.StartAsync();
        // The client must win a race with the greeting; whenever it does, the answer must be the 554.
        int refused = 0;
        for (int attempt = 0; attempt < 20 && refused == 0; attempt++)
        {
            await using var c = await SmtpConnection.OpenAsync(edge.Port, readGreeting: false);
            await c.SendAsync("EHLO eager.example\r\n");
            string first = await c.ReadReplyAsync();
            if (first == Sync)
            {
                refused++;
                Assert.True(await c.IsClosedAsync());
            }
            else
            {
                Assert.StartsWith("220 ", first);
            }
        }
        Assert.True(refused > 0, "no attempt reached the server before its greeting");
    }

    [Fact]
    public async Task Pipelining_checks_can_be_switched_off()
    {
        await using var edge = await EdgeInstance.StartAsync("smtpd_forbid_unauth_pipelining = no");
        await using var c = await edge.ConnectAsync();
        await c.SendAsync("EHLO client.example\r\nNOOP\r\nNOOP\r\n");
        Assert.StartsWith("250-", await c.ReadReplyAsync());
        Assert.Equal("250 2.0.0 Ok", await c.ReadReplyAsync());
        Assert.Equal("250 2.0.0 Ok", await c.ReadReplyAsync());
    }
}
