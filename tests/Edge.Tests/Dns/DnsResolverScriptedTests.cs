using System.Net;
using System.Net.Sockets;
using Edge.Dns;

namespace Edge.Tests.Dns;

/// <summary>
/// Replies no well-behaved server sends — forgeries, garbage, half-resolved chains — from a scripted server,
/// and the cache's clock.
/// </summary>
public class DnsResolverScriptedTests
{
    // Five seconds: the scripted server answers at once, but a test on a busy machine must not time out.
    private static DnsResolver Resolver(ScriptedDnsServer server, TimeProvider? clock = null, int timeoutMs = 5000) =>
        new([server.EndPoint], TimeSpan.FromMilliseconds(timeoutMs), 1, clock ?? TimeProvider.System);

    private static ScriptedReply[] Answer(byte[] query, params TestRecord[] records) =>
        [new(TestPackets.Reply(query, answers: records))];

    [Fact]
    public async Task Forged_replies_are_ignored_and_the_real_one_is_taken()
    {
        using var server = new ScriptedDnsServer(query =>
        {
            ushort id = (ushort)((query[0] << 8 | query[1]) ^ 0x5555);
            byte[] otherQuestion = DnsQuery.Build(0, new DnsQuestion("evil.test", DnsRecordType.A), edns: true);
            otherQuestion[0] = query[0];
            otherQuestion[1] = query[1];
            return
            [
                new(TestPackets.Reply(query, answers: [TestRecord.A("host.test", "192.0.2.66")], id: id)),
                new(TestPackets.Reply(otherQuestion, answers: [TestRecord.A("evil.test", "192.0.2.66")])),
                new(TestPackets.Reply(query, answers: [TestRecord.A("host.test", "192.0.2.66")]), FromOtherPort: true),
                new([0x12]),
                new(TestPackets.Reply(query, answers: [TestRecord.A("host.test", "192.0.2.1")])),
            ];
        });
        using DnsResolver resolver = Resolver(server);
        DnsAnswer<IPAddress> answer = await resolver.QueryAddressesAsync("host.test", AddressFamily.InterNetwork);
        Assert.Equal(DnsStatus.Ok, answer.Status);
        Assert.Equal([IPAddress.Parse("192.0.2.1")], answer.Records);
    }

    [Fact]
    public async Task Only_forged_replies_is_a_timeout()
    {
        using var server = new ScriptedDnsServer(query =>
            [new(TestPackets.Reply(query, answers: [TestRecord.A("host.test", "192.0.2.66")], id: (ushort)((query[0] << 8 | query[1]) ^ 1)))]);
        using DnsResolver resolver = Resolver(server, timeoutMs: 300);
        DnsAnswer<IPAddress> answer = await resolver.QueryAddressesAsync("host.test", AddressFamily.InterNetwork);
        Assert.Equal(DnsStatus.Timeout, answer.Status);
    }

    [Fact]
    public async Task Each_query_has_its_own_random_id_and_source_port()
    {
        using ScriptedDnsServer silent = ScriptedDnsServer.Silent();
        using var resolver = new DnsResolver([silent.EndPoint], TimeSpan.FromMilliseconds(50), 5);
        await resolver.QueryAddressesAsync("host.test", AddressFamily.InterNetwork);
        await resolver.QueryAddressesAsync("host.test", AddressFamily.InterNetwork);
        Assert.Equal(10, silent.Queries.Count);
        // Ten draws from 65536 IDs (and from the kernel's ephemeral ports) collide rarely; allow one collision.
        int ids = silent.Queries.Select(q => q[0] << 8 | q[1]).Distinct().Count();
        int ports = silent.SourcePorts.Distinct().Count();
        Assert.True(ids >= 9, $"{ids} distinct IDs in 10 queries");
        Assert.True(ports >= 9, $"{ports} distinct source ports in 10 queries");
    }

    [Fact]
    public async Task The_query_advertises_edns_and_drops_it_for_a_server_that_rejects_it()
    {
        using var server = new ScriptedDnsServer(query =>
            TestPackets.AdditionalCount(query) > 0
                ? [new(TestPackets.Reply(query, rcode: 1))]
                : Answer(query, TestRecord.A("old.test", "192.0.2.2")));
        using DnsResolver resolver = Resolver(server);
        DnsAnswer<IPAddress> answer = await resolver.QueryAddressesAsync("old.test", AddressFamily.InterNetwork);
        Assert.Equal(DnsStatus.Ok, answer.Status);
        Assert.Equal(2, server.Queries.Count);
        // The OPT record: root owner, type 41, class = the payload size.
        byte[] first = server.Queries[0];
        Assert.Equal(new byte[] { 0, 0, 41, 0x04, 0xD0 }, first[^11..^6]);
        Assert.Equal(0, TestPackets.AdditionalCount(server.Queries[1]));
    }

    [Theory]
    [InlineData(2, "ServFail")]
    [InlineData(5, "Refused")]
    [InlineData(4, "ServFail")]
    public async Task An_error_rcode_from_every_server_is_the_status(int rcode, string status)
    {
        using var server = new ScriptedDnsServer(query => [new(TestPackets.Reply(query, rcode: rcode))]);
        using var resolver = new DnsResolver([server.EndPoint], TimeSpan.FromSeconds(1), 3);
        DnsAnswer<MxRecord> answer = await resolver.QueryMxAsync("x.test");
        Assert.Equal(Enum.Parse<DnsStatus>(status), answer.Status);
        Assert.Single(server.Queries); // a server that answered is not asked again
    }

    [Fact]
    public async Task A_failing_server_is_followed_by_the_next()
    {
        using var failing = new ScriptedDnsServer(query => [new(TestPackets.Reply(query, rcode: 2))]);
        using var good = new ScriptedDnsServer(query => Answer(query, TestRecord.A("x.test", "192.0.2.3")));
        using var resolver = new DnsResolver([failing.EndPoint, good.EndPoint], TimeSpan.FromSeconds(1), 2);
        DnsAnswer<IPAddress> answer = await resolver.QueryAddressesAsync("x.test", AddressFamily.InterNetwork);
        Assert.Equal(DnsStatus.Ok, answer.Status);
        Assert.Equal([IPAddress.Parse("192.0.2.3")], answer.Records);
    }

    [Theory]
    [InlineData("answer record cut short")]
    [InlineData("compression loop")]
    [InlineData("A record of 5 bytes")]
    public async Task A_malformed_reply_is_a_format_error(string kind)
    {
        using var server = new ScriptedDnsServer(query =>
        {
            byte[] reply = kind == "A record of 5 bytes"
                ? TestPackets.Reply(query, answers: [new TestRecord("x.test", DnsRecordType.A, 60, [1, 2, 3, 4, 5])])
                : TestPackets.Reply(query, answers: [TestRecord.A("x.test", "192.0.2.4")]);
            if (kind == "answer record cut short")
            {
                reply = reply[..^2];
            }
            else if (kind == "compression loop")
            {
                // The answer's owner name becomes a pointer to itself.
                int owner = query.Length - (TestPackets.AdditionalCount(query) > 0 ? 11 : 0);
                reply[owner] = 0xC0;
                reply[owner + 1] = (byte)owner;
            }
            return [new(reply)];
        });
        using DnsResolver resolver = Resolver(server);
        DnsAnswer<IPAddress> answer = await resolver.QueryAddressesAsync("x.test", AddressFamily.InterNetwork);
        Assert.Equal(DnsStatus.FormatError, answer.Status);
        Assert.Empty(answer.Records);
    }

    [Fact]
    public async Task A_reply_with_only_the_cname_makes_the_target_asked_for()
    {
        using var server = new ScriptedDnsServer(query => TestPackets.QuestionName(query) switch
        {
            "www.test" => Answer(query, TestRecord.Cname("www.test", "web.test", 100)),
            "web.test" => Answer(query, TestRecord.A("web.test", "192.0.2.5", 200)),
            _ => [new(TestPackets.Reply(query, rcode: 3))],
        });
        using DnsResolver resolver = Resolver(server);
        DnsAnswer<IPAddress> answer = await resolver.QueryAddressesAsync("www.test", AddressFamily.InterNetwork);
        Assert.Equal(DnsStatus.Ok, answer.Status);
        Assert.Equal([IPAddress.Parse("192.0.2.5")], answer.Records);
        Assert.Equal(TimeSpan.FromSeconds(100), answer.Ttl); // the chain's smallest TTL
        Assert.Equal(["www.test", "web.test"], server.Queries.Select(TestPackets.QuestionName));
    }

    [Fact]
    public async Task Endless_cname_referrals_give_up()
    {
        int n = 0;
        using var server = new ScriptedDnsServer(query => Answer(query,
            TestRecord.Cname(TestPackets.QuestionName(query), $"n{Interlocked.Increment(ref n)}.test")));
        using DnsResolver resolver = Resolver(server);
        DnsAnswer<IPAddress> answer = await resolver.QueryAddressesAsync("start.test", AddressFamily.InterNetwork);
        Assert.Equal(DnsStatus.ServFail, answer.Status);
        Assert.Equal(1 + DnsResolver.MaxCnameRequeries, server.Queries.Count);
    }

    [Fact]
    public async Task A_cname_loop_inside_one_reply_is_a_failure()
    {
        using var server = new ScriptedDnsServer(query => Answer(query,
            TestRecord.Cname("a.test", "b.test"), TestRecord.Cname("b.test", "a.test")));
        using DnsResolver resolver = Resolver(server);
        DnsAnswer<IPAddress> answer = await resolver.QueryAddressesAsync("a.test", AddressFamily.InterNetwork);
        Assert.Equal(DnsStatus.ServFail, answer.Status);
    }

    [Fact]
    public async Task Records_of_other_names_in_the_reply_are_ignored()
    {
        using var server = new ScriptedDnsServer(query => Answer(query,
            TestRecord.A("victim.example", "192.0.2.66"), TestRecord.A("x.test", "192.0.2.6")));
        using DnsResolver resolver = Resolver(server);
        DnsAnswer<IPAddress> answer = await resolver.QueryAddressesAsync("x.test", AddressFamily.InterNetwork);
        Assert.Equal([IPAddress.Parse("192.0.2.6")], answer.Records);
        DnsAnswer<IPAddress> victim = await resolver.QueryAddressesAsync("victim.example", AddressFamily.InterNetwork);
        Assert.Equal(DnsStatus.Ok, victim.Status);
        Assert.Equal(2, server.Queries.Count); // the stray record was not cached either
    }

    [Fact]
    public async Task A_negative_answer_is_cached_for_the_soa_minimum()
    {
        var clock = new ManualClock();
        using var server = new ScriptedDnsServer(query =>
            [new(TestPackets.Reply(query, rcode: 3, authority: [TestRecord.Soa("test", ttl: 600, minimum: 60)]))]);
        using DnsResolver resolver = Resolver(server, clock);
        DnsAnswer<MxRecord> first = await resolver.QueryMxAsync("gone.test");
        Assert.Equal(DnsStatus.NxDomain, first.Status);
        Assert.Equal(TimeSpan.FromSeconds(60), first.Ttl);

        clock.Advance(TimeSpan.FromSeconds(59));
        DnsAnswer<MxRecord> cached = await resolver.QueryMxAsync("Gone.Test.");
        Assert.Equal(DnsStatus.NxDomain, cached.Status);
        Assert.Equal(TimeSpan.FromSeconds(1), cached.Ttl);
        Assert.Single(server.Queries);

        clock.Advance(TimeSpan.FromSeconds(1));
        await resolver.QueryMxAsync("gone.test");
        Assert.Equal(2, server.Queries.Count);
    }

    [Fact]
    public async Task Nodata_uses_the_soa_ttl_when_it_is_smaller()
    {
        using var server = new ScriptedDnsServer(query =>
            [new(TestPackets.Reply(query, authority: [TestRecord.Soa("test", ttl: 30, minimum: 3600)]))]);
        using DnsResolver resolver = Resolver(server);
        DnsAnswer<string> answer = await resolver.QueryTxtAsync("empty.test");
        Assert.Equal(DnsStatus.NoData, answer.Status);
        Assert.Equal(TimeSpan.FromSeconds(30), answer.Ttl);
    }

    [Fact]
    public async Task A_negative_answer_without_soa_is_not_cached()
    {
        using var server = new ScriptedDnsServer(query => [new(TestPackets.Reply(query, rcode: 3))]);
        using DnsResolver resolver = Resolver(server);
        Assert.Equal(DnsStatus.NxDomain, (await resolver.QueryTxtAsync("gone.test")).Status);
        Assert.Equal(DnsStatus.NxDomain, (await resolver.QueryTxtAsync("gone.test")).Status);
        Assert.Equal(2, server.Queries.Count);
    }

    [Fact]
    public async Task A_long_ttl_is_capped_and_ages_with_the_clock()
    {
        var clock = new ManualClock();
        using var server = new ScriptedDnsServer(query => Answer(query, TestRecord.Txt("t.test", "hello", ttl: 86400)));
        using DnsResolver resolver = Resolver(server, clock);
        DnsAnswer<string> first = await resolver.QueryTxtAsync("t.test");
        Assert.Equal(DnsResolver.MaxCacheTtl, first.Ttl);
        clock.Advance(TimeSpan.FromMinutes(10));
        DnsAnswer<string> later = await resolver.QueryTxtAsync("t.test");
        Assert.Equal(["hello"], later.Records);
        Assert.Equal(TimeSpan.FromMinutes(50), later.Ttl);
        Assert.Single(server.Queries);
        clock.Advance(TimeSpan.FromMinutes(50));
        await resolver.QueryTxtAsync("t.test");
        Assert.Equal(2, server.Queries.Count);
    }

    [Fact]
    public async Task A_zero_ttl_answer_is_not_cached()
    {
        using var server = new ScriptedDnsServer(query => Answer(query, TestRecord.A("z.test", "192.0.2.7", ttl: 0)));
        using DnsResolver resolver = Resolver(server);
        await resolver.QueryAddressesAsync("z.test", AddressFamily.InterNetwork);
        await resolver.QueryAddressesAsync("z.test", AddressFamily.InterNetwork);
        Assert.Equal(2, server.Queries.Count);
    }
}
