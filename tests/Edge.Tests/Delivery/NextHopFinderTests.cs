using Edge.Delivery;
using Edge.Dns;
using Edge.Tests.Dns;

namespace Edge.Tests.Delivery;

/// <summary>Next hops that cannot work: said why, to bounce or to wait, never thrown.</summary>
public class NextHopFinderTests
{
    [Fact]
    public async Task A_null_mx_bounces_with_5_1_10()
    {
        using var server = new ScriptedDnsServer(query =>
            [new(TestPackets.Reply(query, answers: [TestRecord.Mx("nullmx.test", 0, ".")]))]);
        using var dns = new DnsResolver([server.EndPoint], TimeSpan.FromSeconds(5), 1);
        var (servers, failure) = await new NextHopFinder(dns).FindAsync("nullmx.test", 25, 5, CancellationToken.None);
        Assert.Empty(servers);
        Assert.Equal(new NextHopFinder.Failure(true, "5.1.10", "Domain nullmx.test does not accept mail (nullMX)"), failure);
    }

    [Fact]
    public async Task Smtp_mx_address_limit_caps_the_addresses_an_mx_lookup_gives()
    {
        using var server = new ScriptedDnsServer(query =>
        {
            string name = TestPackets.QuestionName(query);
            var type = (DnsRecordType)System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(query.AsSpan(12 + TestPackets.Name(name).Length));
            TestRecord[] answers = (name, type) switch
            {
                ("limit.test", DnsRecordType.MX) => [TestRecord.Mx(name, 10, "mx1.limit.test"), TestRecord.Mx(name, 20, "mx2.limit.test"), TestRecord.Mx(name, 30, "mx3.limit.test")],
                ("mx1.limit.test", DnsRecordType.A) => [TestRecord.A(name, "127.0.0.1")],
                ("mx2.limit.test", DnsRecordType.A) => [TestRecord.A(name, "127.0.0.2")],
                ("mx3.limit.test", DnsRecordType.A) => [TestRecord.A(name, "127.0.0.3")],
                _ => [],
            };
            return [new(TestPackets.Reply(query, answers: answers))];
        });
        using var dns = new DnsResolver([server.EndPoint], TimeSpan.FromSeconds(5), 1);
        var (limited, _) = await new NextHopFinder(dns).FindAsync("limit.test", 25, 2, CancellationToken.None);
        Assert.Equal(["mx1.limit.test", "mx2.limit.test"], limited.Select(s => s.HostName));
        var (all, _) = await new NextHopFinder(dns).FindAsync("limit.test", 25, 0, CancellationToken.None);
        Assert.Equal(3, all.Count);
    }

    [Theory]
    [InlineData("[127.0.0.1]:99999", "bad port number in next hop [127.0.0.1]:99999")]
    [InlineData("[127.0.0.1]:smtpx", "bad port number in next hop [127.0.0.1]:smtpx")]
    [InlineData("relay.test:0", "bad port number in next hop relay.test:0")]
    public async Task A_bad_port_waits_as_a_configuration_error(string nexthop, string reason)
    {
        using var dns = new DnsResolver([new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 9)], TimeSpan.FromSeconds(1), 1);
        var (servers, failure) = await new NextHopFinder(dns).FindAsync(nexthop, 25, 5, CancellationToken.None);
        Assert.Empty(servers);
        Assert.Equal(new NextHopFinder.Failure(false, "4.3.5", $"mail system configuration error: {reason}"), failure);
    }

    [Theory]
    [InlineData("[127.0.0.1]:submission", 587)]
    [InlineData("127.0.0.1:smtp", 25)]
    [InlineData("[::1]:2525", 2525)]
    [InlineData("[127.0.0.1]", 25)]
    public async Task Ports_are_numbers_or_mail_service_names(string nexthop, int port)
    {
        using var dns = new DnsResolver([new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 9)], TimeSpan.FromSeconds(1), 1);
        var (servers, failure) = await new NextHopFinder(dns).FindAsync(nexthop, 25, 5, CancellationToken.None);
        Assert.Null(failure);
        Assert.Equal(port, ((System.Net.IPEndPoint)Assert.Single(servers).Endpoint).Port);
    }

    [Fact]
    public async Task A_socket_path_longer_than_the_system_allows_waits_as_a_configuration_error()
    {
        using var dns = new DnsResolver([new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 9)], TimeSpan.FromSeconds(1), 1);
        string nexthop = "unix:/" + new string('x', 200);
        var (_, failure) = await new NextHopFinder(dns).FindAsync(nexthop, 24, 5, CancellationToken.None);
        Assert.False(failure!.Permanent);
        Assert.StartsWith("mail system configuration error: bad socket path in next hop unix:/xxx", failure.Reason);
    }
}
