using Edge.Queue;
using Edge.Tests.Support;

namespace Edge.Tests.Integration;

/// <summary>Which recipients are accepted: address classes and the default relay restrictions.</summary>
public class RelayTests
{
    // The test client is 127.0.0.1; moving mynetworks elsewhere makes it an unauthorized internet client.
    private const string Outsider = "mynetworks = 192.0.2.0/24\nrelay_domains = relayed.example, .sub.example";

    private static async Task<string> RcptAsync(EdgeInstance edge, string recipient)
    {
        await using var c = await edge.ConnectAsync();
        await c.CommandAsync("EHLO client.example");
        await c.CommandAsync("MAIL FROM:<a@example.org>");
        return await c.CommandAsync($"RCPT TO:<{recipient}>");
    }

    [Theory]
    [InlineData("postmaster@localhost")]
    [InlineData("user@edge.test")]
    [InlineData("USER@EDGE.TEST")]
    [InlineData("postmaster")]
    [InlineData("user@relayed.example")]
    [InlineData("user@deep.sub.example")]
    [InlineData("user@mx.relayed.example")]
    public async Task Local_and_relay_domains_are_accepted_from_anyone(string recipient)
    {
        await using var edge = await EdgeInstance.StartAsync(Outsider);
        Assert.Equal("250 2.1.5 Ok", await RcptAsync(edge, recipient));
    }

    [Theory]
    [InlineData("user@elsewhere.example")]
    [InlineData("user@sub.example")]
    [InlineData("user@edge.test.evil.example")]
    [InlineData("user@host.edge.test")]
    [InlineData("user@xrelayed.example")]
    public async Task Other_domains_are_deferred_by_default(string recipient)
    {
        await using var edge = await EdgeInstance.StartAsync(Outsider);
        Assert.Equal($"454 4.7.1 <{recipient}>: Relay access denied", await RcptAsync(edge, recipient));
    }

    /// <summary>
    /// Addresses whose local part routes them on from a relay or local domain: the percent hack, a bang path, a
    /// quoted address, a quoted source route, in both cases; Postfix defers each (allow_untrusted_routing = no).
    /// </summary>
    [Theory]
    [InlineData("victim%other.test@relayed.example")]
    [InlineData("VICTIM%OTHER.TEST@RELAYED.EXAMPLE")]
    [InlineData("other.test!victim@relayed.example")]
    [InlineData("OTHER.TEST!VICTIM@RELAYED.EXAMPLE")]
    [InlineData("\"victim@other.test\"@relayed.example")]
    [InlineData("\"VICTIM@OTHER.TEST\"@RELAYED.EXAMPLE")]
    [InlineData("\"@other.test:victim@third.test\"@relayed.example")]
    [InlineData("\"victim%other.test\"@deep.sub.example")]
    [InlineData("victim%other.test@edge.test")]
    [InlineData("VICTIM%OTHER.TEST@EDGE.TEST")]
    [InlineData("other.test!victim@localhost")]
    [InlineData("\"victim@other.test\"@edge.test")]
    [InlineData("a%b%other.test@edge.test")]
    public async Task Routed_addresses_from_outside_are_relay_access_denied(string recipient)
    {
        await using var edge = await EdgeInstance.StartAsync(Outsider);
        Assert.Equal($"454 4.7.1 <{recipient}>: Relay access denied", await RcptAsync(edge, recipient));
    }

    [Theory]
    [InlineData("victim%other.test@relayed.example")]
    [InlineData("other.test!victim@relayed.example")]
    [InlineData("\"victim@other.test\"@relayed.example")]
    public async Task Allow_untrusted_routing_lets_routed_relay_recipients_through(string recipient)
    {
        await using var edge = await EdgeInstance.StartAsync(Outsider + "\nallow_untrusted_routing = yes");
        Assert.Equal("250 2.1.5 Ok", await RcptAsync(edge, recipient));
    }

    [Theory]
    [InlineData("\"john doe\"@relayed.example")]
    [InlineData("\"john doe\"@edge.test")]
    [InlineData("user+tag@relayed.example")]
    public async Task Quoted_local_parts_without_routing_are_ordinary_recipients(string recipient)
    {
        await using var edge = await EdgeInstance.StartAsync(Outsider);
        Assert.Equal("250 2.1.5 Ok", await RcptAsync(edge, recipient));
    }

    [Fact]
    public async Task Without_the_percent_hack_a_local_percent_address_is_still_routed()
    {
        // With allow_percent_hack = no the address stays local, but its "%" may mean something to another host.
        await using var edge = await EdgeInstance.StartAsync(Outsider + "\nallow_percent_hack = no");
        Assert.Equal("454 4.7.1 <victim%other.test@edge.test>: Relay access denied", await RcptAsync(edge, "victim%other.test@edge.test"));
        Assert.Equal("250 2.1.5 Ok", await RcptAsync(edge, "user@edge.test"));
    }

    [Fact]
    public async Task An_access_table_OK_does_not_let_a_routed_recipient_through()
    {
        await using var edge = await EdgeInstance.StartAsync(Outsider + """

            smtpd_relay_restrictions = check_recipient_access inline:{ relayed.example=OK }, defer_unauth_destination
            """);
        Assert.Equal("454 4.7.1 <victim%other.test@relayed.example>: Relay access denied", await RcptAsync(edge, "victim%other.test@relayed.example"));
        Assert.Equal("250 2.1.5 Ok", await RcptAsync(edge, "victim@relayed.example"));
    }

    [Fact]
    public async Task Reject_unauth_destination_refuses_with_554()
    {
        await using var edge = await EdgeInstance.StartAsync(Outsider + "\nsmtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination");
        Assert.Equal("554 5.7.1 <user@elsewhere.example>: Relay access denied", await RcptAsync(edge, "user@elsewhere.example"));
    }

    [Fact]
    public async Task Clients_in_mynetworks_may_relay()
    {
        await using var edge = await EdgeInstance.StartAsync("mynetworks = 127.0.0.0/8");
        Assert.Equal("250 2.1.5 Ok", await RcptAsync(edge, "user@elsewhere.example"));
    }

    [Fact]
    public async Task A_transaction_with_only_denied_recipients_has_no_valid_recipients()
    {
        await using var edge = await EdgeInstance.StartAsync(Outsider);
        await using var c = await edge.ConnectAsync();
        await c.CommandAsync("EHLO client.example");
        await c.CommandAsync("MAIL FROM:<a@example.org>");
        Assert.StartsWith("454 4.7.1", await c.CommandAsync("RCPT TO:<x@elsewhere.example>"));
        Assert.Equal("554 5.5.1 Error: no valid recipients", await c.CommandAsync("DATA"));
    }

    /// <summary>
    /// Postfix refuses to start when neither smtpd_relay_restrictions nor smtpd_recipient_restrictions can refuse a
    /// recipient before an unconditional permit (an open relay); so does Edge, with Postfix's words.
    /// </summary>
    [Theory]
    [InlineData("smtpd_relay_restrictions = permit_mynetworks")]
    [InlineData("smtpd_relay_restrictions =")]
    [InlineData("smtpd_relay_restrictions = permit_mynetworks, permit, reject_unauth_destination")]
    [InlineData("smtpd_relay_restrictions =\nsmtpd_recipient_restrictions = permit_mynetworks, check_recipient_access inline:{ x=OK }")]
    [InlineData("smtpd_restriction_classes = outer, inner\nouter = inner, permit\ninner = permit, reject_unauth_destination\nsmtpd_relay_restrictions = outer")]
    public async Task Restrictions_that_could_never_refuse_relaying_stop_start_up(string setting)
    {
        var e = await Assert.ThrowsAsync<Edge.Config.ConfigException>(() => EdgeInstance.StartAsync(Outsider + "\n" + setting));
        Assert.EndsWith("in parameter smtpd_relay_restrictions or smtpd_recipient_restrictions, specify at least one working instance of: " +
            "reject_unauth_destination, defer_unauth_destination, reject, defer or defer_if_permit", e.Message);
    }

    [Theory]
    [InlineData("smtpd_relay_restrictions =\nsmtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination", "554 5.7.1 <victim@elsewhere.example>: Relay access denied")]
    [InlineData("smtpd_relay_restrictions = permit_mynetworks, defer_if_permit", "450 4.7.0 <victim@elsewhere.example>: Recipient address rejected: defer_if_permit requested")]
    [InlineData("smtpd_restriction_classes = outer, inner\nouter = inner\ninner = reject_unauth_destination\nsmtpd_relay_restrictions = permit_mynetworks, outer",
        "554 5.7.1 <victim@elsewhere.example>: Relay access denied")]
    public async Task A_list_that_can_refuse_relaying_is_enough(string setting, string reply)
    {
        await using var edge = await EdgeInstance.StartAsync(Outsider + "\n" + setting);
        Assert.Equal(reply, await RcptAsync(edge, "victim@elsewhere.example"));
    }

    /// <summary>
    /// append_at_myorigin (default yes): an address without a domain is name@$myorigin, for the relay checks and in the
    /// queue, as trivial-rewrite makes it; "postmaster" alone is always accepted (RFC 2821 3.6, as Postfix's smtpd).
    /// </summary>
    [Fact]
    public async Task Addresses_without_a_domain_are_at_myorigin()
    {
        // The tests' myorigin (mx.edge.test) is no local domain: alice@mx.edge.test is someone else's.
        await using (var edge = await EdgeInstance.StartAsync(Outsider))
        {
            // Postfix 3.7 default smtpd_relay_restrictions end in defer_unauth_destination: 454.
            Assert.Equal("454 4.7.1 <alice>: Relay access denied", await RcptAsync(edge, "alice"));
            Assert.Equal("250 2.1.5 Ok", await RcptAsync(edge, "Postmaster"));
        }
        await using (var edge = await EdgeInstance.StartAsync(Outsider + "\nmyorigin = edge.test"))
        {
            await using (var c = await edge.ConnectAsync())
            {
                Assert.StartsWith("250-", await c.CommandAsync("EHLO client.example"));
                Assert.Equal("250 2.1.0 Ok", await c.CommandAsync("MAIL FROM:<bob>"));
                Assert.Equal("250 2.1.5 Ok", await c.CommandAsync("RCPT TO:<alice>"));
                await c.CommandAsync("DATA");
                Assert.StartsWith("250 2.0.0 Ok: queued", await c.CommandAsync("Subject: x\r\n\r\nx\r\n."));
            }
            QueuedMessage queued = Assert.Single(await edge.QueuedAsync());
            Assert.Equal("bob@edge.test", queued.Sender);
            Assert.Equal(["alice@edge.test"], queued.Recipients.Select(r => r.Address));
        }
        await using (var edge = await EdgeInstance.StartAsync("append_at_myorigin = no"))
        {
            Assert.StartsWith("250 2.0.0 Ok: queued", await edge.SendAsync("Subject: x\r\n\r\nx\r\n", false, "alice"));
            Assert.Equal(["alice"], Assert.Single(await edge.QueuedAsync()).Recipients.Select(r => r.Address));
        }
    }
}
