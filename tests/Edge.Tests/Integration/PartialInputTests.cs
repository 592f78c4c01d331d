using System.Text;
using Edge.Tests.Support;

namespace Edge.Tests.Integration;

/// <summary>Input that arrives in pieces, and clients that go away half-way: the server waits, and stores nothing half-done.</summary>
public class PartialInputTests
{
    [Fact]
    public async Task A_session_sent_one_byte_at_a_time_gets_the_same_replies()
    {
        await using var edge = await EdgeInstance.StartAsync("smtpd_forbid_unauth_pipelining = no");
        await using var c = await edge.ConnectAsync();
        async Task<string> Trickle(string text)
        {
            foreach (byte b in Encoding.ASCII.GetBytes(text))
            {
                await c.SendAsync([b]);
            }
            return await c.ReadReplyAsync();
        }
        Assert.StartsWith("250-mx.edge.test", await Trickle("EHLO client.example\r\n"));
        Assert.Equal("250 2.1.0 Ok", await Trickle("MAIL FROM:<a@example.org> SIZE=100 BODY=8BITMIME\r\n"));
        Assert.Equal("250 2.1.5 Ok", await Trickle("RCPT TO:<postmaster@localhost> NOTIFY=FAILURE ORCPT=rfc822;postmaster@localhost\r\n"));
        Assert.StartsWith("354", await Trickle("DATA\r\n"));
        Assert.StartsWith("250 2.0.0 Ok: queued", await Trickle("Subject: slow\r\n\r\n..dotted\r\n.\r\n"));
        Assert.Equal("250 2.0.0 Ok: 5 bytes", await Trickle("MAIL FROM:<a@example.org>\r\n")
            is "250 2.1.0 Ok" ? await Trickle("RCPT TO:<postmaster@localhost>\r\n") is "250 2.1.5 Ok" ? await Trickle("BDAT 5\r\nhello") : "rcpt" : "mail");
        Assert.StartsWith("250 2.0.0 Ok: ", await Trickle("BDAT 2 LAST\r\n\r\n"));
        Assert.Equal(2, (await edge.QueuedAsync()).Count);
    }

    [Fact]
    public async Task A_client_that_disconnects_during_data_leaves_nothing_queued()
    {
        await using var edge = await EdgeInstance.StartAsync();
        await using (var c = await edge.ConnectAsync())
        {
            await c.EnvelopeAsync("a@example.org", "postmaster@localhost");
            await c.CommandAsync("DATA");
            await c.SendAsync("Subject: cut\r\n\r\n" + new string('x', 200_000) + "\r\n");
        }
        await Task.Delay(200);
        Assert.Empty(await edge.QueuedAsync());
        await using var restarted = await edge.RestartAsync();
        Assert.Empty(await restarted.QueuedAsync());
    }

    [Fact]
    public async Task A_timeout_during_data_stores_nothing()
    {
        await using var edge = await EdgeInstance.StartAsync("smtpd_timeout = 1s");
        await using var c = await edge.ConnectAsync();
        await c.EnvelopeAsync("a@example.org", "postmaster@localhost");
        await c.CommandAsync("DATA");
        await c.SendAsync("Subject: stalled\r\n\r\npart");
        Assert.Equal("421 4.4.2 mx.edge.test Error: timeout exceeded", await c.ReadReplyAsync());
        Assert.True(await c.IsClosedAsync());
        Assert.Empty(await edge.QueuedAsync());
    }

    [Fact]
    public async Task Each_master_cf_listener_has_its_own_overrides()
    {
        using var directory = new TempDirectory();
        directory.Write("main.cf", EdgeInstance.BaseMainCf(directory) + "\n");
        directory.Write("master.cf", """
            127.0.0.1:0 inet n - n - - smtpd
            127.0.0.2:0 inet n - n - - smtpd
              -o { smtpd_banner = $myhostname ESMTP submission }
              -o { message_size_limit = 1000 }
            """);
        await using var server = await Edge.Hosting.EdgeServer.StartAsync(directory.Path);
        await using var plain = await SmtpConnection.OpenAsync(server.Endpoints[0].Port, readGreeting: false);
        Assert.Equal("220 mx.edge.test ESMTP Edge", await plain.ReadReplyAsync());
        Assert.Contains("SIZE 10240000", await plain.CommandAsync("EHLO client.example"));
        await using var submission = await SmtpConnection.OpenAsync(server.Endpoints[1].Port, readGreeting: false, host: "127.0.0.2");
        Assert.Equal("220 mx.edge.test ESMTP submission", await submission.ReadReplyAsync());
        Assert.Contains("SIZE 1000", await submission.CommandAsync("EHLO client.example"));
    }
}
