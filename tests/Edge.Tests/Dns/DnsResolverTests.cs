using System.Net;
using System.Net.Sockets;
using Edge.Dns;

namespace Edge.Tests.Dns;

/// <summary>The resolver against a real dnsmasq serving the zone "test".</summary>
public class DnsResolverTests(DnsmasqFixture fixture) : IClassFixture<DnsmasqFixture>
{
    private DnsResolver NewResolver() => new([fixture.Server.EndPoint], TimeSpan.FromSeconds(2), 2);

    [Theory]
    [InlineData("mail.test")]
    [InlineData("mail.test.")]
    [InlineData("MAIL.Test")]
    public async Task Mx_records_come_lowest_preference_first(string domain)
    {
        using DnsResolver resolver = NewResolver();
        DnsAnswer<MxRecord> answer = await resolver.QueryMxAsync(domain);
        Assert.Equal(DnsStatus.Ok, answer.Status);
        Assert.Equal(
            [new MxRecord(10, "mx1.mail.test"), new MxRecord(20, "mx2.mail.test"), new MxRecord(30, "mx3.mail.test")],
            answer.Records);
        Assert.Equal(TimeSpan.FromSeconds(Dnsmasq.Ttl), answer.Ttl);
    }

    [Fact]
    public async Task A_and_AAAA_records_are_found()
    {
        using DnsResolver resolver = NewResolver();
        DnsAnswer<IPAddress> v4 = await resolver.QueryAddressesAsync("host.test", AddressFamily.InterNetwork);
        DnsAnswer<IPAddress> v6 = await resolver.QueryAddressesAsync("host.test", AddressFamily.InterNetworkV6);
        Assert.Equal(DnsStatus.Ok, v4.Status);
        Assert.Equal([IPAddress.Parse("127.0.0.5")], v4.Records);
        Assert.Equal(DnsStatus.Ok, v6.Status);
        Assert.Equal([IPAddress.Parse("fd00::5")], v6.Records);
    }

    [Fact]
    public async Task Txt_strings_of_one_record_are_concatenated()
    {
        using DnsResolver resolver = NewResolver();
        DnsAnswer<string> spf = await resolver.QueryTxtAsync("txt.test");
        DnsAnswer<string> multi = await resolver.QueryTxtAsync("multi.test");
        Assert.Equal(DnsStatus.Ok, spf.Status);
        Assert.Equal(["v=spf1 ip4:192.0.2.0/24 -all"], spf.Records);
        Assert.Equal(["part one part two"], multi.Records);
    }

    [Fact]
    public async Task A_reply_too_big_for_udp_is_fetched_over_tcp()
    {
        // First show that dnsmasq really truncates this answer over UDP, so the TCP path is what is tested.
        ushort id = DnsQuery.NewId();
        byte[] query = DnsQuery.Build(id, new DnsQuestion("big.test", DnsRecordType.TXT), edns: true);
        using (var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp))
        {
            udp.Connect(fixture.Server.EndPoint);
            await udp.SendAsync(query);
            byte[] buffer = new byte[65535];
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            int received = await udp.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            Assert.True(DnsMessage.IsReplyTo(buffer.AsSpan(0, received), id, new DnsQuestion("big.test", DnsRecordType.TXT), out bool truncated));
            Assert.True(truncated, "dnsmasq did not set TC for the big answer");
            Assert.True(received <= DnsQuery.UdpPayloadSize);
        }

        using DnsResolver resolver = NewResolver();
        DnsAnswer<string> answer = await resolver.QueryTxtAsync("big.test");
        Assert.Equal(DnsStatus.Ok, answer.Status);
        Assert.Equal(DnsmasqFixture.BigTxt.Order(), answer.Records.Order());
    }

    [Theory]
    [InlineData("127.0.0.5", "host.test")]
    [InlineData("127.0.0.7", "ptr.test")]
    [InlineData("::ffff:127.0.0.7", "ptr.test")]
    public async Task Ptr_records_are_found(string address, string name)
    {
        using DnsResolver resolver = NewResolver();
        DnsAnswer<string> answer = await resolver.QueryPtrAsync(IPAddress.Parse(address));
        Assert.Equal(DnsStatus.Ok, answer.Status);
        Assert.Equal([name], answer.Records);
    }

    [Theory]
    [InlineData("alias.test")]
    [InlineData("alias2.test")]
    public async Task A_cname_chain_is_followed_to_the_address(string alias)
    {
        using DnsResolver resolver = NewResolver();
        DnsAnswer<IPAddress> answer = await resolver.QueryAddressesAsync(alias, AddressFamily.InterNetwork);
        Assert.Equal(DnsStatus.Ok, answer.Status);
        Assert.Equal([IPAddress.Parse("127.0.0.5")], answer.Records);
    }

    [Fact]
    public async Task A_name_missing_from_the_zone_is_nxdomain()
    {
        using DnsResolver resolver = NewResolver();
        DnsAnswer<IPAddress> answer = await resolver.QueryAddressesAsync("nothere.test", AddressFamily.InterNetwork);
        Assert.Equal(DnsStatus.NxDomain, answer.Status);
        Assert.Empty(answer.Records);
        DnsAnswer<MxRecord> mx = await resolver.QueryMxAsync("nothere.test");
        Assert.Equal(DnsStatus.NxDomain, mx.Status);
    }

    [Fact]
    public async Task A_name_without_the_type_is_nodata()
    {
        using DnsResolver resolver = NewResolver();
        DnsAnswer<IPAddress> v4 = await resolver.QueryAddressesAsync("v4only.test", AddressFamily.InterNetwork);
        DnsAnswer<IPAddress> v6 = await resolver.QueryAddressesAsync("v4only.test", AddressFamily.InterNetworkV6);
        Assert.Equal(DnsStatus.Ok, v4.Status);
        Assert.Equal(DnsStatus.NoData, v6.Status);
        Assert.Empty(v6.Records);
    }

    [Fact]
    public async Task A_unicode_name_is_asked_for_in_its_ascii_form()
    {
        using DnsResolver resolver = NewResolver();
        DnsAnswer<IPAddress> answer = await resolver.QueryAddressesAsync("bücher.test", AddressFamily.InterNetwork);
        Assert.Equal(DnsStatus.Ok, answer.Status);
        Assert.Equal([IPAddress.Parse("127.0.0.8")], answer.Records);
    }

    [Theory]
    [InlineData("a..test")]
    [InlineData("has space.test")]
    [InlineData("back\\slash.test")]
    public async Task A_name_that_cannot_be_queried_is_a_format_error(string name)
    {
        using DnsResolver resolver = NewResolver();
        DnsAnswer<IPAddress> answer = await resolver.QueryAddressesAsync(name, AddressFamily.InterNetwork);
        Assert.Equal(DnsStatus.FormatError, answer.Status);
    }

    [Fact]
    public async Task Concurrent_queries_all_get_their_own_answer()
    {
        using DnsResolver resolver = NewResolver();
        Task<DnsAnswer<IPAddress>>[] hosts = Enumerable.Range(0, 50)
            .Select(i => resolver.QueryAddressesAsync(i % 2 == 0 ? "host.test" : "v4only.test", AddressFamily.InterNetwork))
            .ToArray();
        DnsAnswer<IPAddress>[] answers = await Task.WhenAll(hosts);
        for (int i = 0; i < answers.Length; i++)
        {
            Assert.Equal(DnsStatus.Ok, answers[i].Status);
            Assert.Equal([IPAddress.Parse(i % 2 == 0 ? "127.0.0.5" : "127.0.0.6")], answers[i].Records);
        }
    }
}
