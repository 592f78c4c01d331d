using Edge.Tests.Dns;
using Edge.Tests.Support;

namespace Edge.Tests.Integration;

/// <summary>
/// Restrictions that ask DNS, against a real DNS server (dnsmasq) on loopback: DNS lists for clients and
/// domains, and domains that cannot receive mail. The client address comes from XCLIENT.
/// </summary>
public class DnsRestrictionTests : IClassFixture<DnsRestrictionTests.Zone>
{
    /// <summary>The zone "test": list entries for a few clients and domains, and mail domains with and without records.</summary>
    public sealed class Zone() : DnsZone([
        "--host-record=9.100.51.198.rbl.test,127.0.0.2",
        "--txt-record=9.100.51.198.rbl.test,Listed for spam; see https://rbl.test/198.51.100.9",
        "--host-record=10.100.51.198.rbl.test,127.0.0.10",
        "--host-record=5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.rbl.test,127.0.0.3",
        "--host-record=7.113.0.203.wl.test,127.0.10.1",
        "--host-record=7.113.0.203.rbl.test,127.0.0.2",
        "--host-record=spammy.test.rhsbl.test,127.0.0.2",
        "--mx-host=mail.test,mx.mail.test,10",
        "--host-record=addressonly.test,192.0.2.25",
        "--host-record=spammy.test,192.0.2.26",
    ]);

    private readonly Zone _zone;

    public DnsRestrictionTests(Zone zone) => _zone = zone;

    private Task<EdgeInstance> StartAsync(string restrictions) => EdgeInstance.StartAsync(
        $"edge_dns_servers = {_zone.Server.EndPoint}\nsmtpd_authorized_xclient_hosts = 127.0.0.0/8\nmynetworks = 127.0.0.0/8\n{restrictions}");

    private static async Task<string> RcptAsync(EdgeInstance edge, string client, string sender, string recipient = "postmaster@localhost")
    {
        await using var c = await edge.ConnectAsync();
        await c.CommandAsync("EHLO proxy.example");
        Assert.StartsWith("220 ", await c.CommandAsync($"XCLIENT NAME=[UNAVAILABLE] ADDR={client}"));
        await c.CommandAsync("EHLO client.example");
        Assert.StartsWith("250 ", await c.CommandAsync($"MAIL FROM:<{sender}>"));
        return await c.CommandAsync($"RCPT TO:<{recipient}>");
    }

    [Theory]
    [InlineData("198.51.100.9", "554 5.7.1 Service unavailable; Client host [198.51.100.9] blocked using rbl.test; Listed for spam; see https://rbl.test/198.51.100.9")]
    [InlineData("198.51.100.10", "250 2.1.5 Ok")]
    [InlineData("IPV6:2001:db8::25", "554 5.7.1 Service unavailable; Client host [2001:db8::25] blocked using rbl.test")]
    [InlineData("203.0.113.7", "250 2.1.5 Ok")]
    [InlineData("192.0.2.1", "250 2.1.5 Ok")]
    public async Task Dns_lists_reject_listed_clients_unless_an_allow_list_comes_first(string client, string reply)
    {
        await using var edge = await StartAsync("smtpd_client_restrictions = permit_dnswl_client wl.test, reject_rbl_client rbl.test=127.0.0.[2..9]");
        Assert.Equal(reply, await RcptAsync(edge, client, "a@mail.test"));
    }

    /// <summary>smtpd_delay_reject = no: HELO itself waits for the DNS list (without holding a thread) and is refused.</summary>
    [Fact]
    public async Task With_delay_reject_no_a_dns_list_answers_helo_itself()
    {
        await using var edge = await StartAsync("smtpd_delay_reject = no\nmaps_rbl_reject_code = 554\nsmtpd_helo_restrictions = reject_rhsbl_helo rhsbl.test");
        await using var c = await edge.ConnectAsync();
        Assert.Equal("554 5.7.1 Service unavailable; Helo command [spammy.test] blocked using rhsbl.test", await c.CommandAsync("EHLO spammy.test"));
        Assert.StartsWith("250-", await c.CommandAsync("EHLO mail.test"));
        Assert.Equal("250 2.1.0 Ok", await c.CommandAsync("MAIL FROM:<a@mail.test>"));
    }

    [Theory]
    [InlineData("someone@spammy.test", "554 5.7.1 Service unavailable; Sender address [someone@spammy.test] blocked using rhsbl.test")]
    [InlineData("someone@mail.test", "250 2.1.5 Ok")]
    public async Task Rhsbl_checks_the_sender_domain(string sender, string reply)
    {
        await using var edge = await StartAsync("maps_rbl_reject_code = 554\nsmtpd_sender_restrictions = reject_rhsbl_sender rhsbl.test");
        Assert.Equal(reply, await RcptAsync(edge, "192.0.2.1", sender));
    }

    [Theory]
    [InlineData("a@mail.test", "250 2.1.5 Ok")]
    [InlineData("a@addressonly.test", "250 2.1.5 Ok")]
    [InlineData("a@nowhere.test", "450 4.1.8 <a@nowhere.test>: Sender address rejected: Domain not found")]
    [InlineData("a@elsewhere.example", "450 4.4.3 <a@elsewhere.example>: Sender address rejected: Domain not found")]
    [InlineData("a@edge.test", "250 2.1.5 Ok")]
    [InlineData("", "250 2.1.5 Ok")]
    public async Task Unknown_sender_domains_are_refused_and_unanswered_lookups_deferred(string sender, string reply)
    {
        await using var edge = await StartAsync("smtpd_sender_restrictions = reject_unknown_sender_domain");
        Assert.Equal(reply, await RcptAsync(edge, "192.0.2.1", sender));
    }

    [Fact]
    public async Task Unknown_recipient_domains_are_refused_with_the_configured_code_and_pipelined_commands_wait()
    {
        await using var edge = await StartAsync("unknown_address_reject_code = 550\nrelay_domains = mail.test\n" +
            "smtpd_relay_restrictions = reject_unknown_recipient_domain, permit_auth_destination, reject");
        await using var c = await edge.ConnectAsync();
        await c.CommandAsync("EHLO proxy.example");
        Assert.StartsWith("220 ", await c.CommandAsync("XCLIENT NAME=[UNAVAILABLE] ADDR=192.0.2.1"));
        await c.CommandAsync("EHLO client.example");
        // One write: the lookups of the first two recipients must not let the later replies overtake theirs.
        await c.SendAsync("MAIL FROM:<a@mail.test>\r\nRCPT TO:<x@nowhere.test>\r\nRCPT TO:<x@mail.test>\r\nRCPT TO:<postmaster@localhost>\r\nDATA\r\n");
        Assert.Equal("250 2.1.0 Ok", await c.ReadReplyAsync());
        Assert.Equal("550 5.1.2 <x@nowhere.test>: Recipient address rejected: Domain not found", await c.ReadReplyAsync());
        Assert.Equal("250 2.1.5 Ok", await c.ReadReplyAsync());
        Assert.Equal("250 2.1.5 Ok", await c.ReadReplyAsync());
        Assert.StartsWith("354 ", await c.ReadReplyAsync());
        Assert.StartsWith("250 2.0.0 Ok: queued", await c.CommandAsync("Subject: after lookups\r\n\r\nx\r\n."));
        Assert.Equal(["x@mail.test", "postmaster@localhost"], Assert.Single(await edge.QueuedAsync()).Recipients.Select(r => r.Address));
    }

    [Fact]
    public async Task Dns_lists_in_data_restrictions_are_refused_at_start_up()
    {
        var e = await Assert.ThrowsAsync<Edge.Config.ConfigException>(() => StartAsync("smtpd_data_restrictions = reject_rbl_client rbl.test"));
        Assert.Contains("smtpd_data_restrictions: DNS list checks (reject_rbl_client) are not supported here yet", e.Message);
    }
}
