using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Edge.Dns;

namespace Edge.Tests.Dns;

/// <summary>Servers that go away or never answer, and the cache that outlives them.</summary>
public class DnsResolverFailoverTests
{
    [Fact]
    public async Task A_cached_answer_comes_back_after_the_server_is_gone()
    {
        using Dnsmasq server = await Dnsmasq.StartAsync(["--host-record=cached.test,127.0.0.9", "--mx-host=cached.test,mx.cached.test,5"]);
        using var resolver = new DnsResolver([server.EndPoint], TimeSpan.FromSeconds(2), 1);
        DnsAnswer<IPAddress> first = await resolver.QueryAddressesAsync("cached.test", AddressFamily.InterNetwork);
        DnsAnswer<IPAddress> nx = await resolver.QueryAddressesAsync("missing.test", AddressFamily.InterNetwork);
        Assert.Equal(DnsStatus.Ok, first.Status);
        Assert.Equal(DnsStatus.NxDomain, nx.Status);

        server.Stop();
        DnsAnswer<IPAddress> again = await resolver.QueryAddressesAsync("CACHED.test.", AddressFamily.InterNetwork);
        Assert.Equal(DnsStatus.Ok, again.Status);
        Assert.Equal([IPAddress.Parse("127.0.0.9")], again.Records);
        Assert.True(again.Ttl <= first.Ttl && again.Ttl > TimeSpan.Zero, $"TTL {again.Ttl} after {first.Ttl}");

        // Proof that the server is really gone: what was not asked before gets no answer now.
        DnsAnswer<MxRecord> uncached = await resolver.QueryMxAsync("cached.test");
        Assert.Contains(uncached.Status, new[] { DnsStatus.Timeout, DnsStatus.ServFail });
    }

    [Fact]
    public async Task A_server_that_never_answers_times_out_after_every_attempt()
    {
        using ScriptedDnsServer silent = ScriptedDnsServer.Silent();
        using var resolver = new DnsResolver([silent.EndPoint], TimeSpan.FromMilliseconds(300), 3);
        var watch = Stopwatch.StartNew();
        DnsAnswer<IPAddress> answer = await resolver.QueryAddressesAsync("host.test", AddressFamily.InterNetwork);
        watch.Stop();
        Assert.Equal(DnsStatus.Timeout, answer.Status);
        Assert.Empty(answer.Records);
        Assert.Equal(TimeSpan.Zero, answer.Ttl);
        Assert.InRange(watch.Elapsed, TimeSpan.FromMilliseconds(850), TimeSpan.FromSeconds(3));
        Assert.Equal(3, silent.Queries.Count);
    }

    [Fact]
    public async Task The_next_server_is_asked_when_the_first_does_not_answer()
    {
        using ScriptedDnsServer silent = ScriptedDnsServer.Silent();
        using Dnsmasq server = await Dnsmasq.StartAsync(["--host-record=second.test,127.0.0.10"]);
        using var resolver = new DnsResolver([silent.EndPoint, server.EndPoint], TimeSpan.FromMilliseconds(300), 2);
        var watch = Stopwatch.StartNew();
        DnsAnswer<IPAddress> answer = await resolver.QueryAddressesAsync("second.test", AddressFamily.InterNetwork);
        watch.Stop();
        Assert.Equal(DnsStatus.Ok, answer.Status);
        Assert.Equal([IPAddress.Parse("127.0.0.10")], answer.Records);
        Assert.Single(silent.Queries);
        Assert.InRange(watch.Elapsed, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task A_closed_port_fails_at_once_instead_of_waiting()
    {
        using Dnsmasq server = await Dnsmasq.StartAsync([]);
        server.Stop();
        using var resolver = new DnsResolver([server.EndPoint], TimeSpan.FromSeconds(5), 2);
        var watch = Stopwatch.StartNew();
        DnsAnswer<IPAddress> answer = await resolver.QueryAddressesAsync("host.test", AddressFamily.InterNetwork);
        Assert.Equal(DnsStatus.ServFail, answer.Status);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task Cancellation_ends_a_query_with_an_exception()
    {
        using ScriptedDnsServer silent = ScriptedDnsServer.Silent();
        using var resolver = new DnsResolver([silent.EndPoint], TimeSpan.FromSeconds(10), 1);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => resolver.QueryMxAsync("host.test", cancel.Token));
    }

    [Fact]
    public async Task Dispose_ends_queries_in_progress_and_later_ones()
    {
        using ScriptedDnsServer silent = ScriptedDnsServer.Silent();
        var resolver = new DnsResolver([silent.EndPoint], TimeSpan.FromSeconds(10), 1);
        Task<DnsAnswer<MxRecord>> pending = resolver.QueryMxAsync("host.test");
        await Task.Delay(100);
        resolver.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => pending);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => resolver.QueryMxAsync("host.test"));
    }
}
