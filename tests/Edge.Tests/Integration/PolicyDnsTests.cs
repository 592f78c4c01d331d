using Edge.Tests.Dns;
using Edge.Tests.Support;

namespace Edge.Tests.Integration;

/// <summary>
/// The <c>dns</c> helper of policy scripts against a real DNS server (dnsmasq): awaited lookups of every type, through
/// Edge's resolver (edge_dns_servers).
/// </summary>
public class PolicyDnsTests : IClassFixture<PolicyDnsTests.Zone>
{
    public sealed class Zone() : DnsZone([
        "--host-record=a.test,192.0.2.1",
        "--host-record=v6.test,2001:db8::1",
        "--host-record=mx1.test,192.0.2.11",
        "--host-record=mx2.test,192.0.2.12",
        "--mx-host=mail.test,mx2.test,20",
        "--mx-host=mail.test,mx1.test,10",
        "--txt-record=txt.test,v=spf1 -all",
        "--ptr-record=1.2.0.192.in-addr.arpa,a.test",
    ]);

    private readonly Zone _zone;

    public PolicyDnsTests(Zone zone) => _zone = zone;

    private async Task<string> RcptAsync(string script)
    {
        using var directory = new TempDirectory();
        directory.Write("policy.js", script);
        await using var edge = await EdgeInstance.StartAsync($"edge_dns_servers = {_zone.Server.EndPoint}\n" +
            $"smtpd_recipient_restrictions = check_policy_script {directory.File("policy.js")}", reuse: directory);
        await using var c = await edge.ConnectAsync();
        await c.CommandAsync("EHLO client.example");
        Assert.StartsWith("250 ", await c.CommandAsync("MAIL FROM:<a@example.org>"));
        return await c.CommandAsync("RCPT TO:<postmaster@localhost>");
    }

    [Fact]
    public async Task A_script_awaits_every_kind_of_lookup()
    {
        Assert.Equal("554 5.7.1 <postmaster@localhost>: Recipient address rejected: " +
            "192.0.2.1 2001:db8::1 10:mx1.test,20:mx2.test v=spf1 -all a.test 0 0",
            await RcptAsync("""
                async function rcpt(request) {
                    const [a, aaaa, mx, txt, ptr, none, nodata] = await Promise.all([
                        dns.resolve('a.test', 'A'), dns.resolve('v6.test', 'AAAA'), dns.resolve('mail.test', 'MX'),
                        dns.resolve('txt.test', 'TXT'), dns.resolve('192.0.2.1', 'PTR'), dns.resolve('nothing.test'),
                        dns.resolve('a.test', 'MX')]);
                    const exchanges = mx.map(({ priority, exchange }) => `${priority}:${exchange}`).join(',');
                    return `REJECT ${a} ${aaaa} ${exchanges} ${txt} ${ptr} ${none.length} ${nodata.length}`;
                }
                """));
    }

    [Fact]
    public async Task A_lookup_in_a_loop_runs_on_after_each_answer()
    {
        Assert.Equal("554 5.7.1 <postmaster@localhost>: Recipient address rejected: 192.0.2.11,192.0.2.12",
            await RcptAsync("""
                async function rcpt(request) {
                    const addresses = [];
                    for (const { exchange } of await dns.resolve('mail.test', 'MX')) {
                        addresses.push(...await dns.resolve(exchange, 'A'));
                    }
                    return 'REJECT ' + addresses.join(',');
                }
                """));
    }

    [Theory]
    [InlineData("await dns.resolve('a.test', 'SRV')")]
    [InlineData("await dns.resolve('a.test', 'PTR')")]
    public async Task A_lookup_edge_cannot_make_is_the_scripts_error(string call)
    {
        Assert.Equal("451 4.3.5 <postmaster@localhost>: Recipient address rejected: Server configuration problem",
            await RcptAsync($"async function rcpt(r) {{ {call}; return 'OK'; }}"));
    }
}
