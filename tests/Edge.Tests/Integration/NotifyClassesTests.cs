using System.Text;
using Edge.Tests.Support;

namespace Edge.Tests.Integration;

/// <summary>
/// notify_classes for the SMTP server: a session with an error of a class it names ends with a transcript for the
/// postmaster (error_notice_recipient), from double_bounce_sender, in Postfix's words; other sessions send none.
/// </summary>
public class NotifyClassesTests
{
    private static async Task SessionAsync(EdgeInstance edge)
    {
        await using var c = await edge.ConnectAsync();
        await c.CommandAsync("EHLO client.example");
        Assert.StartsWith("500 5.5.2", await c.CommandAsync("FROBNICATE"));
        await c.CommandAsync("MAIL FROM:<a@example.org>");
        Assert.StartsWith("454 4.7.1", await c.CommandAsync("RCPT TO:<someone@remote.example>"));
        await c.CommandAsync("QUIT");
    }

    [Fact]
    public async Task A_session_with_protocol_or_policy_errors_gets_the_postmaster_a_transcript()
    {
        await using var edge = await EdgeInstance.StartAsync("mynetworks = 192.0.2.0/24\nnotify_classes = protocol, policy");
        await SessionAsync(edge);
        var notice = await WaitForQueuedAsync(edge);
        Assert.Equal("double-bounce@mx.edge.test", notice.Sender);
        Assert.Equal(["postmaster@mx.edge.test"], notice.Recipients.Select(r => r.Address));
        string content = await ContentAsync(edge, notice);
        Assert.Contains("From: Mail Delivery System <MAILER-DAEMON@mx.edge.test>\r\nTo: Postmaster <postmaster@mx.edge.test>\r\n" +
            "Subject: Edge SMTP server: errors from localhost[127.0.0.1]\r\n", content);
        Assert.Contains("\r\n\r\nTranscript of session follows.\r\n\r\n Out: 220 mx.edge.test ESMTP Edge\r\n In:  EHLO client.example\r\n", content);
        Assert.Contains("\r\n In:  FROBNICATE\r\n Out: 500 5.5.2 Error: command not recognized\r\n", content);
        Assert.Contains("\r\n Out: 454 4.7.1 <someone@remote.example>: Relay access denied\r\n In:  QUIT\r\n Out: 221 2.0.0 Bye\r\n", content);
        Assert.EndsWith("\r\n\r\nFor other details, see the local mail logfile\r\n", content);
    }

    /// <summary>The default (resource, software): client mistakes and refusals do not bother the postmaster.</summary>
    [Fact]
    public async Task By_default_refusals_and_client_mistakes_send_nothing()
    {
        await using var edge = await EdgeInstance.StartAsync("mynetworks = 192.0.2.0/24");
        await SessionAsync(edge);
        await Task.Delay(500);
        Assert.Empty(await edge.AllQueuedAsync());
    }

    private static async Task<Edge.Queue.QueuedMessage> WaitForQueuedAsync(EdgeInstance edge)
    {
        for (int i = 0; i < 100; i++)
        {
            if ((await edge.AllQueuedAsync()).SingleOrDefault() is { } message)
            {
                return message;
            }
            await Task.Delay(50);
        }
        Assert.Fail("no notice was queued");
        return null!;
    }

    private static async Task<string> ContentAsync(EdgeInstance edge, Edge.Queue.QueuedMessage message)
    {
        using var content = new MemoryStream();
        await edge.Queue.CopyContentAsync(message, content, default);
        return Encoding.UTF8.GetString(content.ToArray());
    }
}

/// <summary>How a reply's enhanced status code names the class of its error, as Postfix's error_mask bits are set.</summary>
public class ErrorClassTests
{
    [Theory]
    [InlineData("250 2.1.5 Ok", "None")]
    [InlineData("500 5.5.2 Error: command not recognized", "Protocol")]
    [InlineData("421 4.4.2 mx.edge.test Error: timeout exceeded", "Protocol")]
    [InlineData("554 5.7.1 <a@b>: Relay access denied", "Policy")]
    [InlineData("550 5.1.1 <a@b>: Recipient address rejected: User unknown", "Policy")]
    [InlineData("451 4.3.0 Error: queue file write error", "Resource")]
    [InlineData("452 4.3.1 Insufficient system storage", "Resource")]
    [InlineData("451 4.3.5 Server configuration error", "Software")]
    [InlineData("421 4.3.2 Service shutting down", "None")]
    public void A_reply_is_classed_by_its_enhanced_status_code(string reply, string expected)
    {
        Assert.Equal(expected, Edge.Smtp.Session.SessionTranscript.Classify(Encoding.ASCII.GetBytes(reply)[..Math.Min(12, reply.Length)]).ToString());
    }
}
