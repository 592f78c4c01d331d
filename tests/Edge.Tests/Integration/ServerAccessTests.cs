using Edge.Tests.Dns;
using Edge.Tests.Support;

namespace Edge.Tests.Integration;

/// <summary>
/// check_*_mx_access, check_*_ns_access and check_*_a_access, and reject_unknown_helo_hostname, against a real DNS
/// server (dnsmasq) on loopback: the access table judges a domain by its mail servers, name servers or addresses.
/// </summary>
public class ServerAccessTests : IClassFixture<ServerAccessTests.Zone>
{
    /// <summary>NS records are raw (--dns-rr type 2): the name in DNS wire form.</summary>
    public sealed class Zone() : DnsZone([
        "--mx-host=dirtymx.test,mx.dirty.test,10",
        "--host-record=mx.dirty.test,198.51.100.66",
        "--mx-host=hidden.test,relay.hoster.test,10",
        "--host-record=relay.hoster.test,203.0.113.9",
        "--host-record=nomx.test,203.0.113.10",
        "--mx-host=clean.test,mx.clean.test,10",
        "--host-record=mx.clean.test,192.0.2.20",
        "--mx-host=friendly.test,mx.friend.test,10",
        "--host-record=mx.friend.test,192.0.2.21",
        "--dns-rr=parked.test,2,026e73056469727479047465737400",
        "--host-record=ns.dirty.test,198.51.100.53",
        "--dns-rr=clean.test,2,036e733105636c65616e047465737400",
        "--host-record=ns1.clean.test,192.0.2.53",
        "--host-record=known.test,192.0.2.30",
        "--mx-host=onlymx.test,mx.clean.test,10",
    ]);

    private readonly Zone _zone;

    public ServerAccessTests(Zone zone) => _zone = zone;

    private const string Table =
        "inline:{ { dirty.test=REJECT Dirty servers }, { 203.0.113=550 Bad hoster }, mx.friend.test=OK, 198.51.100.53=DUNNO }";

    private Task<EdgeInstance> StartAsync(string restrictions) => EdgeInstance.StartAsync(
        $"edge_dns_servers = {_zone.Server.EndPoint}\n{restrictions}");

    private static async Task<string> RcptAsync(EdgeInstance edge, string sender, string recipient = "user@edge.test", string helo = "client.example")
    {
        await using var c = await edge.ConnectAsync();
        await c.CommandAsync($"EHLO {helo}");
        Assert.StartsWith("250 ", await c.CommandAsync($"MAIL FROM:<{sender}>"));
        return await c.CommandAsync($"RCPT TO:<{recipient}>");
    }

    [Theory]
    [InlineData("a@dirtymx.test", "554 5.7.1 <a@dirtymx.test>: Sender address rejected: Dirty servers")]
    [InlineData("a@hidden.test", "550 5.7.1 <a@hidden.test>: Sender address rejected: Bad hoster")]
    [InlineData("a@nomx.test", "550 5.7.1 <a@nomx.test>: Sender address rejected: Bad hoster")]
    [InlineData("a@clean.test", "250 2.1.5 Ok")]
    [InlineData("a@nowhere.test", "250 2.1.5 Ok")]
    [InlineData("a@[203.0.113.5]", "550 5.7.1 <a@[203.0.113.5]>: Sender address rejected: Bad hoster")]
    [InlineData("a@friendly.test", "451 4.3.5 Server configuration error")]
    public async Task Mx_access_judges_the_sender_domain_by_its_mail_servers(string sender, string reply)
    {
        await using var edge = await StartAsync($"smtpd_sender_restrictions = check_sender_mx_access {Table}");
        Assert.Equal(reply, await RcptAsync(edge, sender));
    }

    [Theory]
    [InlineData("a@parked.test", "554 5.7.1 <a@parked.test>: Sender address rejected: Dirty servers")]
    [InlineData("a@deep.sub.parked.test", "554 5.7.1 <a@deep.sub.parked.test>: Sender address rejected: Dirty servers")]
    [InlineData("a@clean.test", "250 2.1.5 Ok")]
    public async Task Ns_access_walks_up_to_the_zone_with_name_servers(string sender, string reply)
    {
        await using var edge = await StartAsync($"smtpd_sender_restrictions = check_sender_ns_access {Table}");
        Assert.Equal(reply, await RcptAsync(edge, sender));
    }

    [Theory]
    [InlineData("user@nomx.test", "550 5.7.1 <user@nomx.test>: Recipient address rejected: Bad hoster")]
    [InlineData("user@hidden.test", "250 2.1.5 Ok")]
    public async Task A_access_judges_the_recipient_domain_by_its_own_addresses(string recipient, string reply)
    {
        // hidden.test has no address of its own (its MX has): only nomx.test's address is in the bad network.
        await using var edge = await StartAsync(
            $"relay_domains = nomx.test, hidden.test\nsmtpd_recipient_restrictions = check_recipient_a_access {Table}, reject_unauth_destination");
        Assert.Equal(reply, await RcptAsync(edge, "a@clean.test", recipient));
    }

    /// <summary>VRFY waits for DNS as RCPT TO does, without holding a thread.</summary>
    [Fact]
    public async Task Vrfy_waits_for_the_dns_its_checks_need()
    {
        await using var edge = await StartAsync(
            $"relay_domains = nomx.test, hidden.test\nsmtpd_recipient_restrictions = check_recipient_a_access {Table}, reject_unauth_destination");
        await using var c = await edge.ConnectAsync();
        await c.CommandAsync("EHLO client.example");
        Assert.Equal("550 5.7.1 <user@nomx.test>: Recipient address rejected: Bad hoster", await c.CommandAsync("VRFY user@nomx.test"));
        Assert.Equal("252 2.0.0 user@hidden.test", await c.CommandAsync("VRFY user@hidden.test"));
    }

    [Fact]
    public async Task Helo_mx_access_judges_the_helo_name()
    {
        await using var edge = await StartAsync($"smtpd_helo_restrictions = check_helo_mx_access {Table}");
        Assert.Equal("554 5.7.1 <dirtymx.test>: Helo command rejected: Dirty servers", await RcptAsync(edge, "a@clean.test", helo: "dirtymx.test"));
        Assert.Equal("250 2.1.5 Ok", await RcptAsync(edge, "a@clean.test", helo: "clean.test"));
    }

    [Theory]
    [InlineData("known.test", "250 2.1.5 Ok")]
    [InlineData("onlymx.test", "250 2.1.5 Ok")]
    [InlineData("unknown.test", "450 4.7.1 <unknown.test>: Helo command rejected: Host not found")]
    [InlineData("[192.0.2.1]", "250 2.1.5 Ok")]
    [InlineData("[192.0.2.300]", "501 5.5.2 <[192.0.2.300]>: Helo command rejected: invalid ip address")]
    public async Task Unknown_helo_hostnames_are_refused(string helo, string reply)
    {
        await using var edge = await StartAsync("smtpd_helo_restrictions = reject_unknown_helo_hostname");
        Assert.Equal(reply, await RcptAsync(edge, "a@clean.test", helo: helo));
    }

    [Fact]
    public async Task Unknown_hostname_reject_code_sets_the_code()
    {
        await using var edge = await StartAsync("unknown_hostname_reject_code = 550\nsmtpd_helo_restrictions = reject_unknown_hostname");
        Assert.Equal("550 5.7.1 <unknown.test>: Helo command rejected: Host not found", await RcptAsync(edge, "a@clean.test", helo: "unknown.test"));
    }
}
