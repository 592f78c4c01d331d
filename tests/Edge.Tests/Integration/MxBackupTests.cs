using Edge.Tests.Dns;
using Edge.Tests.Support;

namespace Edge.Tests.Integration;

/// <summary>
/// permit_mx_backup against a real DNS server (dnsmasq): Edge (myhostname mx.edge.test, listening on 127.0.0.1)
/// relays for a domain that names it as a backup MX, not for one that names it as primary or not at all; and
/// DEFER_IF_REJECT, which a lookup that DNS did not answer leaves behind. The client is outside mynetworks.
/// </summary>
public class MxBackupTests : IClassFixture<MxBackupTests.Zone>
{
    public sealed class Zone() : DnsZone([
        "--host-record=primary.test,192.0.2.10",
        "--host-record=self.test,127.0.0.1",
        "--host-record=other.test,192.0.2.20",
        "--host-record=other2.test,192.0.2.21",
        "--mx-host=backup.test,primary.test,10",
        "--mx-host=backup.test,self.test,20",
        "--mx-host=primaryme.test,self.test,10",
        "--mx-host=notus.test,other.test,10",
        "--mx-host=notus.test,other2.test,20",
        "--mx-host=byname.test,primary.test,10",
        "--mx-host=byname.test,mx.edge.test,20",
        "--mx-host=lostbackup.test,primary.test,10",
        "--mx-host=lostbackup.test,mx.elsewhere.invalid,20",
        "--host-record=nomx.test,192.0.2.30",
    ]);

    private readonly Zone _zone;

    public MxBackupTests(Zone zone) => _zone = zone;

    private Task<EdgeInstance> StartAsync(string more = "") => EdgeInstance.StartAsync(
        $"edge_dns_servers = {_zone.Server.EndPoint}\nmynetworks = 192.0.2.0/24\n" +
        $"smtpd_relay_restrictions = permit_mx_backup, reject_unauth_destination\n{more}");

    private static async Task<string> RcptAsync(EdgeInstance edge, string recipient)
    {
        await using var c = await edge.ConnectAsync();
        await c.CommandAsync("EHLO client.example");
        Assert.StartsWith("250 ", await c.CommandAsync("MAIL FROM:<a@example.org>"));
        return await c.CommandAsync($"RCPT TO:<{recipient}>");
    }

    [Theory]
    [InlineData("user@backup.test", "250 2.1.5 Ok")]
    [InlineData("user@byname.test", "250 2.1.5 Ok")]
    [InlineData("user@primaryme.test", "554 5.7.1 <user@primaryme.test>: Relay access denied")]
    [InlineData("user@notus.test", "554 5.7.1 <user@notus.test>: Relay access denied")]
    [InlineData("user@nomx.test", "554 5.7.1 <user@nomx.test>: Relay access denied")]
    [InlineData("user@[192.0.2.10]", "554 5.7.1 <user@[192.0.2.10]>: Relay access denied")]
    [InlineData("victim%other.test@backup.test", "554 5.7.1 <victim%other.test@backup.test>: Relay access denied")]
    [InlineData("\"victim@other.test\"@backup.test", "554 5.7.1 <\"victim@other.test\"@backup.test>: Relay access denied")]
    [InlineData("user@edge.test", "250 2.1.5 Ok")]
    public async Task Domains_that_name_this_host_as_a_backup_mx_are_relayed(string recipient, string reply)
    {
        await using var edge = await StartAsync();
        Assert.Equal(reply, await RcptAsync(edge, recipient));
    }

    [Theory]
    [InlineData("192.0.2.0/24", "250 2.1.5 Ok")]
    [InlineData("198.51.100.0/24", "554 5.7.1 <user@backup.test>: Relay access denied")]
    public async Task Permit_mx_backup_networks_must_hold_the_primary_mx(string networks, string reply)
    {
        await using var edge = await StartAsync($"permit_mx_backup_networks = {networks}");
        Assert.Equal(reply, await RcptAsync(edge, "user@backup.test"));
    }

    [Theory]
    [InlineData("user@lostbackup.test", "450 4.4.4 <user@lostbackup.test>: Recipient address rejected: Unable to look up mail exchanger host mx.elsewhere.invalid: Host not found, try again")]
    [InlineData("user@elsewhere.invalid", "450 4.4.4 <user@elsewhere.invalid>: Recipient address rejected: Unable to look up mail exchanger information: Host not found, try again")]
    public async Task A_lookup_without_answer_defers_what_would_be_rejected(string recipient, string reply)
    {
        await using var edge = await StartAsync();
        Assert.Equal(reply, await RcptAsync(edge, recipient));
    }

    [Fact]
    public async Task Defer_if_reject_turns_a_later_reject_into_a_deferral_and_leaves_a_permit_alone()
    {
        await using var edge = await StartAsync("""
            smtpd_relay_restrictions = check_recipient_access inline:{ { elsewhere.example = DEFER_IF_REJECT try later }, relayed.example=DEFER_IF_REJECT }, defer_if_reject, permit_mx_backup, reject_unauth_destination
            """);
        Assert.Equal("450 4.7.1 <user@elsewhere.example>: Recipient address rejected: try later", await RcptAsync(edge, "user@elsewhere.example"));
        Assert.Equal("450 4.7.1 <user@relayed.example>: Recipient address rejected: Service unavailable", await RcptAsync(edge, "user@relayed.example"));
        Assert.Equal("450 4.7.0 <user@notus.test>: Recipient address rejected: defer_if_reject requested", await RcptAsync(edge, "user@notus.test"));
        Assert.Equal("250 2.1.5 Ok", await RcptAsync(edge, "user@backup.test"));
    }

    [Fact]
    public async Task Permit_mx_backup_in_data_restrictions_is_refused_at_start_up()
    {
        var e = await Assert.ThrowsAsync<Edge.Config.ConfigException>(() => StartAsync("smtpd_data_restrictions = permit_mx_backup"));
        Assert.Contains("smtpd_data_restrictions: DNS lookups (permit_mx_backup) are not supported here yet", e.Message);
    }
}
