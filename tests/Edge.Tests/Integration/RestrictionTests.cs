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
}
