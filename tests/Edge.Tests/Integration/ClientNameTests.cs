using System.Text;
using Edge.Tests.Dns;
using Edge.Tests.Support;

namespace Edge.Tests.Integration;

/// <summary>
/// smtpd_peername_lookup against a real DNS server (dnsmasq): a proxied client is named by its PTR record
/// when the name's address confirms it, and that name is what logs, Received: headers and restrictions see.
/// </summary>
public class ClientNameTests : IClassFixture<ClientNameTests.Zone>
{
    /// <summary>
    /// 198.51.100.9 is mail.client.test both ways; 198.51.100.10 claims a name whose address is another's;
    /// the others of 198.51.100.0/24 have no PTR record (NXDOMAIN, as from the network's real DNS).
    /// </summary>
    public sealed class Zone() : DnsZone([
        "--local=/100.51.198.in-addr.arpa/",
        "--host-record=mail.client.test,198.51.100.9",
        "--ptr-record=10.100.51.198.in-addr.arpa,forged.client.test",
        "--host-record=forged.client.test,192.0.2.99",
    ]);

    private readonly Zone _zone;

    public ClientNameTests(Zone zone) => _zone = zone;

    private async Task<EdgeInstance> StartAsync(string mainCf = "")
    {
        var directory = new TempDirectory();
        directory.Write("policy.js", "function policy(r) { return `REJECT ${r.client_name} ${r.reverse_client_name}`; }");
        return await EdgeInstance.StartAsync($"""
            edge_dns_servers = {_zone.Server.EndPoint}
            smtpd_upstream_proxy_protocol = haproxy
            smtpd_client_restrictions = check_client_access inline:{"{"} {"{"} mail.client.test = REJECT known by name {"}"} {"}"}
            smtpd_recipient_restrictions = check_policy_script {directory.File("policy.js")}
            {mainCf}
            """, reuse: directory, disposeDirectory: true);
    }

    private static async Task<string> RcptFromAsync(EdgeInstance edge, string client)
    {
        await using var c = await SmtpConnection.OpenAsync(edge.Port, readGreeting: false);
        await c.SendAsync(Encoding.ASCII.GetBytes($"PROXY TCP4 {client} 192.0.2.1 40000 25\r\n"));
        Assert.StartsWith("220 ", await c.ReadReplyAsync());
        await c.CommandAsync("EHLO client.example");
        await c.CommandAsync("MAIL FROM:<a@example.org>");
        return await c.CommandAsync("RCPT TO:<postmaster@localhost>");
    }

    [Theory]
    [InlineData("198.51.100.9", "554 5.7.1 <mail.client.test[198.51.100.9]>: Client host rejected: known by name")]
    [InlineData("198.51.100.10", "554 5.7.1 <postmaster@localhost>: Recipient address rejected: unknown forged.client.test")]
    [InlineData("198.51.100.11", "554 5.7.1 <postmaster@localhost>: Recipient address rejected: unknown unknown")]
    public async Task A_client_is_named_by_its_confirmed_ptr_record(string client, string reply)
    {
        await using var edge = await StartAsync();
        Assert.Equal(reply, await RcptFromAsync(edge, client));
    }

    [Fact]
    public async Task The_received_header_names_the_client()
    {
        await using var edge = await StartAsync("smtpd_client_restrictions =\nsmtpd_recipient_restrictions =");
        await using var c = await SmtpConnection.OpenAsync(edge.Port, readGreeting: false);
        await c.SendAsync("PROXY TCP4 198.51.100.9 192.0.2.1 40000 25\r\n"u8.ToArray());
        Assert.StartsWith("220 ", await c.ReadReplyAsync());
        await c.CommandAsync("EHLO client.example");
        await c.EnvelopeAsync();
        Assert.StartsWith("354 ", await c.CommandAsync("DATA"));
        Assert.StartsWith("250 2.0.0 Ok: queued", await c.CommandAsync("Subject: x\r\n\r\nx\r\n."));
        Assert.StartsWith("Received: from client.example (mail.client.test [198.51.100.9])", await edge.SingleMessageContentAsync());
    }

    [Fact]
    public async Task Without_peername_lookup_the_client_stays_unknown()
    {
        await using var edge = await StartAsync("smtpd_peername_lookup = no");
        Assert.Equal("554 5.7.1 <postmaster@localhost>: Recipient address rejected: unknown unknown", await RcptFromAsync(edge, "198.51.100.9"));
    }

    [Theory]
    [InlineData("reject_unknown_client_hostname", "198.51.100.10", "450 4.7.25 Client host rejected: cannot find your hostname, [198.51.100.10]")]
    [InlineData("reject_unknown_client_hostname", "198.51.100.9", "554 5.7.1 <postmaster@localhost>: Recipient address rejected: mail.client.test mail.client.test")]
    [InlineData("reject_unknown_reverse_client_hostname", "198.51.100.11", "450 4.7.25 Client host rejected: cannot find your reverse hostname, [198.51.100.11]")]
    [InlineData("reject_unknown_reverse_client_hostname", "198.51.100.10", "554 5.7.1 <postmaster@localhost>: Recipient address rejected: unknown forged.client.test")]
    public async Task Clients_without_a_name_can_be_refused(string restriction, string client, string reply)
    {
        await using var edge = await StartAsync($"smtpd_client_restrictions = {restriction}");
        Assert.Equal(reply, await RcptFromAsync(edge, client));
    }

    [Fact]
    public async Task A_permanent_code_becomes_temporary_when_dns_did_not_answer()
    {
        await using var known = await StartAsync("smtpd_client_restrictions = reject_unknown_client_hostname\nunknown_client_reject_code = 550");
        Assert.Equal("550 5.7.25 Client host rejected: cannot find your hostname, [198.51.100.11]", await RcptFromAsync(known, "198.51.100.11"));

        // A DNS server that does not exist: the name may well exist, so the client is only told to come back.
        await using var failing = await StartAsync($"""
            smtpd_client_restrictions = reject_unknown_client_hostname
            unknown_client_reject_code = 550
            edge_dns_servers = 127.0.0.1:{Delivery.ListeningPort.Free()}
            """);
        Assert.Equal("450 4.7.25 Client host rejected: cannot find your hostname, [198.51.100.11]", await RcptFromAsync(failing, "198.51.100.11"));
    }
}
