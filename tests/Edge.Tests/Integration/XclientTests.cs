using Edge.Tests.Support;

namespace Edge.Tests.Integration;

/// <summary>XCLIENT (Postfix XCLIENT_README) over a real socket: who may use it, what it changes.</summary>
public class XclientTests
{
    private const string Authorized = "smtpd_authorized_xclient_hosts = 127.0.0.0/8\nmynetworks = 127.0.0.0/8";

    [Fact]
    public async Task Authorized_clients_see_it_offered_and_become_another_client()
    {
        await using var edge = await EdgeInstance.StartAsync(Authorized);
        await using var c = await edge.ConnectAsync();
        Assert.Contains("250-XCLIENT NAME ADDR PROTO HELO REVERSE_NAME PORT LOGIN DESTADDR DESTPORT", await c.CommandAsync("EHLO proxy.example"));
        Assert.Equal("220 mx.edge.test ESMTP Edge",
            await c.CommandAsync("XCLIENT NAME=mail.outside.example ADDR=198.51.100.9 PORT=4711 HELO=outside.example PROTO=ESMTP"));
        await c.CommandAsync("MAIL FROM:<a@outside.example>");
        // 198.51.100.9 is not in mynetworks: relaying is refused now.
        Assert.Equal("454 4.7.1 <x@elsewhere.example>: Relay access denied", await c.CommandAsync("RCPT TO:<x@elsewhere.example>"));
        await c.CommandAsync("RCPT TO:<postmaster@localhost>");
        await c.CommandAsync("DATA");
        Assert.StartsWith("250 2.0.0 Ok: queued", await c.CommandAsync("Subject: via xclient\r\n\r\nx\r\n."));
        var m = Assert.Single(await edge.QueuedAsync());
        Assert.Equal("198.51.100.9", m.ClientAddress);
        Assert.Equal("mail.outside.example", m.ClientName);
        Assert.Contains("Received: from outside.example (mail.outside.example [198.51.100.9])", await edge.SingleMessageContentAsync());
    }

    [Theory]
    [InlineData("XCLIENT ADDR=[UNAVAILABLE] NAME=[TEMPUNAVAIL]", "220 mx.edge.test ESMTP Edge")]
    [InlineData("XCLIENT ADDR=IPV6:2001:db8::1", "220 mx.edge.test ESMTP Edge")]
    [InlineData("XCLIENT NAME=bad..name", "501 5.5.4 Bad NAME syntax: bad..name")]
    [InlineData("XCLIENT ADDR=999.1.1.1", "501 5.5.4 Bad ADDR syntax: 999.1.1.1")]
    [InlineData("XCLIENT ADDR=2001:db8::1", "501 5.5.4 Bad ADDR syntax: 2001:db8::1")]
    [InlineData("XCLIENT PORT=70000", "501 5.5.4 Bad PORT syntax: 70000")]
    [InlineData("XCLIENT PROTO=HTTP", "501 5.5.4 Bad PROTO syntax: HTTP")]
    [InlineData("XCLIENT COLOR=blue", "501 5.5.4 Bad XCLIENT attribute name: COLOR")]
    [InlineData("XCLIENT NAME", "501 5.5.4 Error: attribute=value expected")]
    [InlineData("XCLIENT", "501 5.5.4 Syntax: XCLIENT attribute=value...")]
    public async Task Attribute_syntax(string command, string expected)
    {
        await using var edge = await EdgeInstance.StartAsync(Authorized);
        await using var c = await edge.ConnectAsync();
        await c.CommandAsync("EHLO proxy.example");
        Assert.Equal(expected, await c.CommandAsync(command));
    }

    [Fact]
    public async Task Unauthorized_clients_are_refused_and_not_offered_it()
    {
        await using var edge = await EdgeInstance.StartAsync();
        await using var c = await edge.ConnectAsync();
        Assert.DoesNotContain("XCLIENT", await c.CommandAsync("EHLO client.example"));
        Assert.Equal("550 5.7.0 Error: insufficient authorization", await c.CommandAsync("XCLIENT ADDR=192.0.2.1"));
    }

    [Fact]
    public async Task Not_inside_a_transaction()
    {
        await using var edge = await EdgeInstance.StartAsync(Authorized);
        await using var c = await edge.ConnectAsync();
        await c.CommandAsync("EHLO proxy.example");
        await c.CommandAsync("MAIL FROM:<a@example.org>");
        Assert.Equal("503 5.5.1 Error: MAIL transaction in progress", await c.CommandAsync("XCLIENT ADDR=192.0.2.1"));
    }

    [Fact]
    public async Task The_new_client_is_judged_by_bare_newline_exclusions_too()
    {
        // 127.0.0.1 is excluded (legacy line endings); the client XCLIENT announces is not.
        await using var edge = await EdgeInstance.StartAsync(Authorized + "\nsmtpd_forbid_bare_newline = reject");
        await using var c = await edge.ConnectAsync();
        await c.CommandAsync("EHLO proxy.example");
        await c.CommandAsync("XCLIENT ADDR=203.0.113.5");
        await c.SendAsync("NOOP\n");
        Assert.Equal("550 5.5.2 mx.edge.test Error: bare <LF> received", await c.ReadReplyAsync());
    }
}
