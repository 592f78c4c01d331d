using Edge.Tests.Support;

namespace Edge.Tests.Integration;

/// <summary>Built-in restrictions on names and addresses, and smtpd_data_restrictions, over a real socket.</summary>
public class RestrictionTests
{
    private static async Task<string> RcptAsync(EdgeInstance edge, string helo, string sender, string recipient)
    {
        await using var c = await edge.ConnectAsync();
        Assert.StartsWith("250", await c.CommandAsync($"EHLO {helo}"));
        Assert.StartsWith("250 ", await c.CommandAsync($"MAIL FROM:<{sender}>"));
        return await c.CommandAsync($"RCPT TO:<{recipient}>");
    }

    [Theory]
    [InlineData("bad_name!", "501 5.5.2 <bad_name!>: Helo command rejected: Invalid name")]
    [InlineData("localhost", "504 5.5.2 <localhost>: Helo command rejected: need fully-qualified hostname")]
    [InlineData("[192.0.2.1]", "250 2.1.5 Ok")]
    [InlineData("[IPv6:2001:db8::1]", "250 2.1.5 Ok")]
    [InlineData("mail.example.org", "250 2.1.5 Ok")]
    public async Task Helo_names_must_be_valid_and_fully_qualified(string helo, string reply)
    {
        await using var edge = await EdgeInstance.StartAsync(
            "smtpd_helo_restrictions = reject_invalid_helo_hostname, reject_non_fqdn_helo_hostname");
        Assert.Equal(reply, await RcptAsync(edge, helo, "a@example.org", "postmaster@localhost"));
    }

    [Theory]
    [InlineData("user@localhost", "postmaster@edge.test", "504 5.5.2 <user@localhost>: Sender address rejected: need fully-qualified address")]
    [InlineData("", "postmaster@edge.test", "250 2.1.5 Ok")]
    [InlineData("a@example.org", "user@localhost", "504 5.5.2 <user@localhost>: Recipient address rejected: need fully-qualified address")]
    [InlineData("a@example.org", "postmaster", "250 2.1.5 Ok")]
    public async Task Addresses_must_name_fully_qualified_domains(string sender, string recipient, string reply)
    {
        await using var edge = await EdgeInstance.StartAsync(
            "non_fqdn_reject_code = 504\nsmtpd_sender_restrictions = reject_non_fqdn_sender\nsmtpd_recipient_restrictions = reject_non_fqdn_recipient");
        Assert.Equal(reply, await RcptAsync(edge, "client.example", sender, recipient));
    }

    [Fact]
    public async Task Data_restrictions_answer_the_data_command_and_nothing_is_queued()
    {
        await using var edge = await EdgeInstance.StartAsync("smtpd_data_restrictions = reject");
        await using var c = await edge.ConnectAsync();
        await c.CommandAsync("EHLO client.example");
        await c.EnvelopeAsync();
        Assert.Equal("554 5.7.1 <DATA>: Data command rejected: Access denied", await c.CommandAsync("DATA"));
        Assert.Equal("554 5.7.1 <DATA>: Data command rejected: Access denied", await c.BdatAsync("Subject: x\r\n\r\nx\r\n", last: true));
        Assert.Equal("250 2.0.0 Ok", await c.CommandAsync("RSET"));
        Assert.Empty(await edge.QueuedAsync());
    }

    [Fact]
    public async Task Data_restrictions_see_the_recipient_of_a_single_recipient_transaction_only()
    {
        await using var edge = await EdgeInstance.StartAsync(
            "smtpd_data_restrictions = check_recipient_access inline:{ { nodata@edge.test = REJECT no data for you } }");
        await using var c = await edge.ConnectAsync();
        await c.CommandAsync("EHLO client.example");
        await c.EnvelopeAsync(to: "nodata@edge.test");
        Assert.Equal("554 5.7.1 <nodata@edge.test>: Recipient address rejected: no data for you", await c.CommandAsync("DATA"));
        Assert.Equal("250 2.1.5 Ok", await c.CommandAsync("RCPT TO:<postmaster@localhost>"));
        Assert.StartsWith("354 ", await c.CommandAsync("DATA"));
        Assert.StartsWith("250 2.0.0 Ok: queued", await c.CommandAsync("Subject: two\r\n\r\nx\r\n."));
    }

    /// <summary>A HELO client cannot pipeline; reject_unauth_pipelining refuses what it sends after doing so.</summary>
    [Fact]
    public async Task Reject_unauth_pipelining_refuses_a_client_that_talked_ahead()
    {
        await using var edge = await EdgeInstance.StartAsync(
            "smtpd_forbid_unauth_pipelining = no\nsmtpd_recipient_restrictions = reject_unauth_pipelining, reject_unauth_destination");
        await using (var polite = await edge.ConnectAsync())
        {
            await polite.CommandAsync("HELO client.example");
            Assert.Equal("250 2.1.0 Ok", await polite.CommandAsync("MAIL FROM:<a@example.org>"));
            Assert.Equal("250 2.1.5 Ok", await polite.CommandAsync("RCPT TO:<user@edge.test>"));
        }
        await using var hasty = await edge.ConnectAsync();
        await hasty.SendAsync("HELO client.example\r\nMAIL FROM:<a@example.org>\r\n");
        Assert.StartsWith("250 ", await hasty.ReadReplyAsync());
        Assert.Equal("250 2.1.0 Ok", await hasty.ReadReplyAsync());
        Assert.Equal("503 5.5.0 <user@edge.test>: Recipient address rejected: Improper use of SMTP command pipelining",
            await hasty.CommandAsync("RCPT TO:<user@edge.test>"));
    }

    /// <summary>A bounce (null sender) has one recipient: the second is refused at RCPT TO, and DATA with two at DATA.</summary>
    [Fact]
    public async Task Reject_multi_recipient_bounce_allows_one_recipient_for_the_null_sender()
    {
        await using var edge = await EdgeInstance.StartAsync("""
            smtpd_recipient_restrictions = reject_multi_recipient_bounce, reject_unauth_destination
            smtpd_data_restrictions = reject_multi_recipient_bounce
            multi_recipient_bounce_reject_code = 554
            """);
        await using var c = await edge.ConnectAsync();
        await c.CommandAsync("EHLO client.example");
        Assert.Equal("250 2.1.0 Ok", await c.CommandAsync("MAIL FROM:<>"));
        Assert.Equal("250 2.1.5 Ok", await c.CommandAsync("RCPT TO:<one@edge.test>"));
        Assert.Equal("554 5.5.3 <two@edge.test>: Recipient address rejected: Multi-recipient bounce", await c.CommandAsync("RCPT TO:<two@edge.test>"));
        Assert.StartsWith("354 ", await c.CommandAsync("DATA"));
        Assert.StartsWith("250 ", await c.CommandAsync("Subject: bounce\r\n\r\nx\r\n."));
        Assert.Equal("250 2.1.0 Ok", await c.CommandAsync("MAIL FROM:<a@example.org>"));
        Assert.Equal("250 2.1.5 Ok", await c.CommandAsync("RCPT TO:<one@edge.test>"));
        Assert.Equal("250 2.1.5 Ok", await c.CommandAsync("RCPT TO:<two@edge.test>"));
    }

    [Fact]
    public async Task Reject_multi_recipient_bounce_at_data_counts_the_accepted_recipients()
    {
        await using var edge = await EdgeInstance.StartAsync("smtpd_data_restrictions = reject_multi_recipient_bounce");
        await using var c = await edge.ConnectAsync();
        await c.CommandAsync("EHLO client.example");
        Assert.Equal("250 2.1.0 Ok", await c.CommandAsync("MAIL FROM:<>"));
        Assert.Equal("250 2.1.5 Ok", await c.CommandAsync("RCPT TO:<one@edge.test>"));
        Assert.Equal("250 2.1.5 Ok", await c.CommandAsync("RCPT TO:<two@edge.test>"));
        Assert.Equal("550 5.5.3 <DATA>: Data command rejected: Multi-recipient bounce", await c.CommandAsync("DATA"));
    }
}
