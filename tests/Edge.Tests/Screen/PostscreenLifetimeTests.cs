using System.Net;
using System.Text.RegularExpressions;
using Edge.Tests.Dns;
using Edge.Tests.Support;

namespace Edge.Tests.Screen;

/// <summary>
/// How long postscreen remembers a pass (postscreen_greet_ttl, the DNSBL answers' TTLs between dnsbl_min_ttl and
/// dnsbl_max_ttl, postscreen_cache_retention_time) and how long it waits (dnsbl_timeout, upstream_proxy_timeout,
/// command_time_limit). The lifetimes are seconds, as Postfix keeps them: each test waits whole seconds past one.
/// </summary>
public class PostscreenLifetimeTests
{
    private static readonly TimeSpan PastOneSecond = TimeSpan.FromSeconds(1.2);

    private static int Count(EdgeProcess edge, string pattern) => edge.Log.Count(line => Regex.IsMatch(line, pattern));

    /// <summary>Connects and returns the greeting: a teaser ("220-") first means the client is being tested.</summary>
    private static async Task<string> GreetingAsync(EdgeProcess edge)
    {
        await using var client = await SmtpConnection.OpenAsync(edge.Port, readGreeting: false);
        return await client.ReadReplyAsync();
    }

    [Fact]
    public async Task A_pass_lasts_greet_ttl_and_an_expired_record_is_kept_for_the_retention_time()
    {
        using TempDirectory config = PostscreenTests.Config("""
            postscreen_greet_ttl = 2s
            postscreen_cache_retention_time = 3s
            postscreen_cache_cleanup_interval = 1s
            """);
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        const string Tested = "220-mx.edge.test ESMTP Edge\n220 mx.edge.test ESMTP Edge";
        const string Passed = "220 mx.edge.test ESMTP Edge";
        Assert.Equal(Tested, await GreetingAsync(edge));
        await edge.WaitForLogAsync(@"postscreen\[\d+\]: PASS NEW ");
        Assert.Equal(Passed, await GreetingAsync(edge));

        // Expired after 2 s: tested again, but its record is still kept (2 s + 3 s of retention), so it is not new.
        await Task.Delay(TimeSpan.FromSeconds(2) + PastOneSecond);
        Assert.Equal(Tested, await GreetingAsync(edge));
        await edge.WaitForLogAsync(@"postscreen\[\d+\]: PASS OLD ");
        Assert.Equal(1, Count(edge, @"PASS NEW "));

        // That pass expires 2 s later and its record 3 s after that: the client is new again.
        await Task.Delay(TimeSpan.FromSeconds(5) + PastOneSecond);
        Assert.Equal(Tested, await GreetingAsync(edge));
        await edge.WaitForLogLinesAsync(@"postscreen\[\d+\]: PASS NEW ", 2);
    }

    [Fact]
    public async Task A_dnsbl_verdict_lasts_its_answers_ttl_within_min_and_max_ttl()
    {
        // 127.0.0.1 is listed, below the threshold: each lookup is logged, so the log counts the tests taken.
        string[] listing = ["--host-record=1.0.0.127.grey.test,127.0.0.2", "--local=/grey.test/"];
        const string Lookup = @"dnsblog\[\d+\]: addr 127\.0\.0\.1 listed by domain grey\.test";
        string settings(IPEndPoint dns, string ttls) => $"""
            edge_dns_servers = {dns}
            postscreen_greet_banner =
            postscreen_dnsbl_sites = grey.test
            postscreen_dnsbl_threshold = 2
            {ttls}
            """;

        // An hour's TTL, cut to dnsbl_max_ttl: the client is looked up again after 2 s.
        using (Dnsmasq dns = await Dnsmasq.StartAsync(listing, ttl: 3600))
        using (TempDirectory config = PostscreenTests.Config(settings(dns.EndPoint, "postscreen_dnsbl_min_ttl = 1s\npostscreen_dnsbl_max_ttl = 2s")))
        {
            await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
            await GreetingAsync(edge);
            await edge.WaitForLogAsync(@"postscreen\[\d+\]: PASS NEW ");
            await GreetingAsync(edge);
            await edge.WaitForLogAsync(@"postscreen\[\d+\]: PASS OLD ");
            Assert.Equal(1, Count(edge, Lookup));
            await Task.Delay(TimeSpan.FromSeconds(2) + PastOneSecond);
            await GreetingAsync(edge);
            await edge.WaitForLogLinesAsync(Lookup, 2);
        }

        // A TTL of 1 s, raised to dnsbl_min_ttl: 2.2 s later the verdict still holds.
        using (Dnsmasq dns = await Dnsmasq.StartAsync(listing, ttl: 1))
        using (TempDirectory config = PostscreenTests.Config(settings(dns.EndPoint, "postscreen_dnsbl_min_ttl = 60s")))
        {
            await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
            await GreetingAsync(edge);
            await edge.WaitForLogAsync(@"postscreen\[\d+\]: PASS NEW ");
            await Task.Delay(TimeSpan.FromSeconds(1) + PastOneSecond);
            await GreetingAsync(edge);
            await edge.WaitForLogAsync(@"postscreen\[\d+\]: PASS OLD ");
            Assert.Equal(1, Count(edge, Lookup));
        }
    }

    [Fact]
    public async Task A_dnsbl_that_does_not_answer_is_given_up_after_dnsbl_timeout()
    {
        using ScriptedDnsServer silent = ScriptedDnsServer.Silent();
        using TempDirectory config = PostscreenTests.Config($"""
            edge_dns_servers = {silent.EndPoint}
            postscreen_greet_banner =
            postscreen_greet_wait = 30s
            postscreen_dnsbl_sites = black.test
            postscreen_dnsbl_timeout = 1s
            """);
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        // Without the pregreet test, the wait ends with the lookups: here after dnsbl_timeout, long before greet_wait.
        Assert.Equal("220 mx.edge.test ESMTP Edge", await GreetingAsync(edge).WaitAsync(TimeSpan.FromSeconds(15)));
        await edge.WaitForLogAsync(@"postscreen\[\d+\]: warning: dnsblog reply timeout 1s for black\.test");
    }

    [Fact]
    public async Task A_proxy_that_sends_no_header_is_answered_after_upstream_proxy_timeout()
    {
        using TempDirectory config = PostscreenTests.Config("postscreen_upstream_proxy_protocol = haproxy\npostscreen_upstream_proxy_timeout = 1s");
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        await using var silent = await SmtpConnection.OpenAsync(edge.Port, readGreeting: false);
        Assert.Equal("421 4.3.2 No system resources", await silent.ReadReplyAsync().WaitAsync(TimeSpan.FromSeconds(15)));
        await edge.WaitForLogAsync(@"postscreen\[\d+\]: warning: haproxy read: time limit exceeded");
    }

    [Fact]
    public async Task The_engine_waits_command_time_limit_for_a_command()
    {
        using TempDirectory config = PostscreenTests.Config("postscreen_pipelining_enable = yes\npostscreen_command_time_limit = 2s");
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        await using var idle = await SmtpConnection.OpenAsync(edge.Port, readGreeting: false);
        Assert.Equal("220-mx.edge.test ESMTP Edge\n220 mx.edge.test ESMTP Edge", await idle.ReadReplyAsync());
        Assert.StartsWith("250", await idle.CommandAsync("HELO client.example"));
        Assert.Equal("421 4.4.2 mx.edge.test Error: timeout exceeded", await idle.ReadReplyAsync().WaitAsync(TimeSpan.FromSeconds(15)));
        Assert.True(await idle.IsClosedAsync());
        await edge.WaitForLogAsync(@"postscreen\[\d+\]: COMMAND TIME LIMIT from \[127\.0\.0\.1\]:\d+ after HELO");
    }
}
