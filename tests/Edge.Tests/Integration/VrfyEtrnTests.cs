using Edge.Tests.Support;

namespace Edge.Tests.Integration;

/// <summary>
/// VRFY answers from the recipient checks of RCPT TO, and ETRN passes smtpd_etrn_restrictions, as Postfix's smtpd
/// does (the flush itself: FlushTests).
/// </summary>
public class VrfyEtrnTests
{
    [Theory]
    [InlineData("VRFY nosuchuser@localhost", "550 5.1.1 <nosuchuser@localhost>: Recipient address rejected: User unknown in local recipient table")]
    [InlineData("VRFY <alice@localhost>", "252 2.0.0 <alice@localhost>")]
    [InlineData("VRFY alice", "252 2.0.0 alice")]
    [InlineData("VRFY bob", "550 5.1.1 <bob>: Recipient address rejected: User unknown in local recipient table")]
    [InlineData("VRFY someone@example.net", "454 4.7.1 <someone@example.net>: Relay access denied")]
    [InlineData("VRFY postmaster", "252 2.0.0 postmaster")]
    [InlineData("VRFY <>", "501 5.1.3 Bad recipient address syntax")]
    [InlineData("VRFY", "501 5.5.4 Syntax: VRFY address [SMTPUTF8]")]
    public async Task Vrfy_answers_what_rcpt_to_would(string command, string reply)
    {
        await using var edge = await EdgeInstance.StartAsync("local_recipient_maps = inline:{ alice=x }\nmynetworks = 192.0.2.0/24\nmyorigin = edge.test");
        await using var c = await edge.ConnectAsync();
        await c.CommandAsync("EHLO client.example");
        Assert.Equal(reply, await c.CommandAsync(command));
    }

    [Fact]
    public async Task Vrfy_runs_the_client_restrictions_and_skips_the_sender_outside_a_transaction()
    {
        await using var edge = await EdgeInstance.StartAsync(
            "smtpd_sender_restrictions = reject\nsmtpd_client_restrictions = check_client_access inline:{ 127.0.0.1=DUNNO }");
        await using var c = await edge.ConnectAsync();
        await c.CommandAsync("EHLO client.example");
        Assert.Equal("252 2.0.0 user@edge.test", await c.CommandAsync("VRFY user@edge.test"));
        Assert.Equal("250 2.1.0 Ok", await c.CommandAsync("MAIL FROM:<a@example.org>"));
        Assert.Equal("554 5.7.1 <a@example.org>: Sender address rejected: Access denied", await c.CommandAsync("VRFY user@edge.test"));
    }

    [Fact]
    public async Task Disabled_vrfy_is_502_and_not_advertised()
    {
        await using var edge = await EdgeInstance.StartAsync("disable_vrfy_command = yes");
        await using var c = await edge.ConnectAsync();
        Assert.DoesNotContain("VRFY", await c.CommandAsync("EHLO client.example"));
        Assert.Equal("502 5.5.1 VRFY command is disabled", await c.CommandAsync("VRFY user@edge.test"));
    }

    [Theory]
    [InlineData("ETRN bad.example", "554 5.7.1 <bad.example>: Etrn command rejected: Access denied")]
    [InlineData("ETRN @deferred.example", "450 4.7.1 <deferred.example>: Etrn command rejected: Not now")]
    [InlineData("ETRN sub.bad.example", "554 5.7.1 <sub.bad.example>: Etrn command rejected: Access denied")]
    [InlineData("ETRN [192.0.2.1]", "458 Unable to queue messages")]
    [InlineData("ETRN", "500 Syntax: ETRN domain")]
    [InlineData("ETRN a b", "500 Syntax: ETRN domain")]
    [InlineData("ETRN bad_name!", "501 Error: invalid parameter syntax")]
    public async Task Etrn_passes_the_etrn_restrictions_first(string command, string reply)
    {
        // No qmgr in this master.cf: what passes the restrictions gets Postfix's reply for a flush service that cannot be reached.
        await using var edge = await EdgeInstance.StartAsync(
            "smtpd_etrn_restrictions = check_etrn_access inline:{ bad.example=REJECT, { deferred.example=DEFER Not now } }");
        await using var c = await edge.ConnectAsync();
        await c.CommandAsync("EHLO client.example");
        Assert.Equal(reply, await c.CommandAsync(command));
    }

    [Fact]
    public async Task Etrn_needs_helo_when_required_and_no_transaction()
    {
        await using var edge = await EdgeInstance.StartAsync("smtpd_helo_required = yes");
        await using var c = await edge.ConnectAsync();
        Assert.Equal("503 Error: send HELO/EHLO first", await c.CommandAsync("ETRN example.net"));
        await c.CommandAsync("EHLO client.example");
        Assert.Equal("250 2.1.0 Ok", await c.CommandAsync("MAIL FROM:<a@example.org>"));
        Assert.Equal("503 Error: MAIL transaction in progress", await c.CommandAsync("ETRN example.net"));
    }
}
