using System.Text.RegularExpressions;
using Edge.Config;
using Edge.Tests.Dns;
using Edge.Tests.Support;

namespace Edge.Tests.Screen;

/// <summary>
/// postscreen in front of smtpd, as POSTSCREEN_README sets it up: "smtp inet … postscreen" and "smtpd pass … smtpd" in
/// master.cf. A client that talks before its turn, is listed in DNSBLs, is denied by the access list or breaks the
/// protocol is rejected by postscreen's own engine or dropped; a patient one reaches smtpd, once tested, at once.
/// </summary>
public class PostscreenTests
{
    internal const string MasterCf = """
        127.0.0.1:0 inet  n       -       n       -       1       postscreen
        smtpd       pass  -       -       n       -       -       smtpd
        dnsblog     unix  -       -       n       -       0       dnsblog
        tlsproxy    unix  -       -       n       -       0       tlsproxy
        """;

    /// <summary>Clients come from 127.0.0.1, which mynetworks holds: the access list is emptied so that postscreen tests them.</summary>
    internal static TempDirectory Config(string mainCf, string masterCf = MasterCf)
    {
        var directory = new TempDirectory();
        directory.Write("main.cf", EdgeInstance.BaseMainCf(directory) + "\npostscreen_access_list =\npostscreen_greet_wait = 1s\n" + mainCf + "\n");
        directory.Write("master.cf", masterCf + "\n");
        return directory;
    }

    private static string Quoted(string text) => Regex.Escape(text);

    [Fact]
    public async Task A_pregreeting_client_is_rejected_while_a_patient_one_reaches_smtpd()
    {
        using TempDirectory config = Config("postscreen_greet_action = enforce");
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);

        // A client that speaks first is caught, and answered by postscreen's engine, which takes no mail.
        await using (var eager = await SmtpConnection.OpenAsync(edge.Port, readGreeting: false))
        {
            await eager.SendAsync("EHLO eager.example\r\n");
            // The engine greets a client that spoke first with nothing more: the teaser runs on into the reply to EHLO.
            string reply = await eager.ReadReplyAsync();
            Assert.StartsWith("220-mx.edge.test ESMTP Edge\n250-mx.edge.test\n", reply);
            Assert.DoesNotContain("PIPELINING", reply);
            Assert.Equal("250 2.1.0 Ok", await eager.CommandAsync("MAIL FROM:<spam@example.org>"));
            Assert.Equal("550 5.5.1 Protocol error", await eager.CommandAsync("RCPT TO:<postmaster@localhost>"));
            Assert.Equal("221 2.0.0 Bye", await eager.CommandAsync("QUIT"));
        }
        await edge.WaitForLogAsync(@"postscreen\[\d+\]: PREGREET 20 after [\d.]+ from \[127\.0\.0\.1\]:\d+: EHLO eager\.example\\r\\n");
        await edge.WaitForLogAsync(@"postscreen\[\d+\]: NOQUEUE: reject: RCPT from \[127\.0\.0\.1\]:\d+: 550 5\.5\.1 Protocol error; " +
            @"from=<spam@example\.org>, to=<postmaster@localhost>, proto=ESMTP, helo=<eager\.example>");
        // A patient client from the same address is tested afresh (a failure is not remembered): it hears the teaser,
        // waits, and is handed to smtpd, whose greeting completes the reply.
        await using (var patient = await SmtpConnection.OpenAsync(edge.Port, readGreeting: false))
        {
            Assert.Equal("220-mx.edge.test ESMTP Edge\n220 mx.edge.test ESMTP Edge", await patient.ReadReplyAsync());
            Assert.Contains("250-PIPELINING", await patient.CommandAsync("EHLO client.example"));
            Assert.Equal("250 2.1.0 Ok", await patient.CommandAsync("MAIL FROM:<sender@example.org>"));
            Assert.Equal("250 2.1.5 Ok", await patient.CommandAsync("RCPT TO:<postmaster@localhost>"));
        }
        await edge.WaitForLogAsync(@"postscreen\[\d+\]: CONNECT from \[127\.0\.0\.1\]:\d+ to \[127\.0\.0\.1\]:" + edge.Port);
        await edge.WaitForLogAsync(@"postscreen\[\d+\]: PASS NEW \[127\.0\.0\.1\]:\d+");

        // Its pass is remembered: the next connection goes to smtpd at once.
        await using (var again = await SmtpConnection.OpenAsync(edge.Port, readGreeting: false))
        {
            Assert.Equal("220 mx.edge.test ESMTP Edge", await again.ReadReplyAsync());
        }
        await edge.WaitForLogAsync(@"postscreen\[\d+\]: PASS OLD \[127\.0\.0\.1\]:\d+");
        Assert.Equal(2, edge.Log.Count(line => Regex.IsMatch(line, @"smtpd\[\d+\]: connect from")));
    }

    [Fact]
    public async Task A_pregreeting_client_is_dropped_with_greet_action_drop()
    {
        using TempDirectory config = Config("postscreen_greet_action = drop");
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        await using var eager = await SmtpConnection.OpenAsync(edge.Port, readGreeting: false);
        await eager.SendAsync("HELO eager.example\r\n");
        // The teaser's "220-" makes the refusal the last line of one reply.
        Assert.Equal("220-mx.edge.test ESMTP Edge\n521 5.5.1 Protocol error", await eager.ReadReplyAsync());
        Assert.True(await eager.IsClosedAsync());
        await edge.WaitForLogAsync(@"postscreen\[\d+\]: DISCONNECT \[127\.0\.0\.1\]:\d+");
    }

    [Fact]
    public async Task Dnsbl_sites_add_their_weights_and_the_action_decides()
    {
        using Dnsmasq dns = await Dnsmasq.StartAsync(["--host-record=1.0.0.127.black.test,127.0.0.2", "--host-record=1.0.0.127.grey.test,127.0.0.4",
            "--local=/black.test/", "--local=/grey.test/"]);
        // black.test lists with 127.0.0.2 (weight 2), grey.test with 127.0.0.4, which its filter does not count.
        using TempDirectory config = Config($"""
            edge_dns_servers = {dns.EndPoint}
            postscreen_dnsbl_sites = black.test=127.0.0.2*2, grey.test=127.0.0.[2;3]*5, grey.test*1
            postscreen_dnsbl_threshold = 3
            postscreen_dnsbl_action = enforce
            """);
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        await using var listed = await SmtpConnection.OpenAsync(edge.Port, readGreeting: false);
        Assert.Equal("220-mx.edge.test ESMTP Edge\n220 mx.edge.test ESMTP Edge", await listed.ReadReplyAsync());
        Assert.DoesNotContain("PIPELINING", await listed.CommandAsync("EHLO client.example"));
        Assert.Equal("250 2.1.0 Ok", await listed.CommandAsync("MAIL FROM:<sender@example.org>"));
        Assert.Equal("550 5.7.1 Service unavailable; client [127.0.0.1] blocked using black.test",
            await listed.CommandAsync("RCPT TO:<postmaster@localhost>"));
        await edge.WaitForLogAsync(@"postscreen\[\d+\]: DNSBL rank 3 for \[127\.0\.0\.1\]:\d+");
        await edge.WaitForLogAsync(@"dnsblog\[\d+\]: addr 127\.0\.0\.1 listed by domain black\.test as 127\.0\.0\.2");
    }

    [Fact]
    public async Task A_client_listed_above_the_threshold_is_dropped_and_an_allowlisted_one_skips_the_wait()
    {
        using Dnsmasq dns = await Dnsmasq.StartAsync(["--host-record=1.0.0.127.black.test,127.0.0.2", "--host-record=1.0.0.127.white.test,127.0.0.5",
            "--local=/black.test/", "--local=/white.test/"]);
        using (TempDirectory config = Config($"edge_dns_servers = {dns.EndPoint}\npostscreen_dnsbl_sites = black.test\npostscreen_dnsbl_action = drop"))
        {
            await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
            await using var listed = await SmtpConnection.OpenAsync(edge.Port, readGreeting: false);
            Assert.Equal("220-mx.edge.test ESMTP Edge\n521 5.7.1 Service unavailable; client [127.0.0.1] blocked using black.test",
                await listed.ReadReplyAsync());
            Assert.True(await listed.IsClosedAsync());
        }
        // With a greet wait far longer than the test waits, only the allowlisting can let the client through in time.
        using (TempDirectory config = Config($"""
            edge_dns_servers = {dns.EndPoint}
            postscreen_greet_wait = 60s
            postscreen_dnsbl_sites = white.test*-2
            postscreen_dnsbl_allowlist_threshold = -1
            """))
        {
            await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
            await using var vouched = await SmtpConnection.OpenAsync(edge.Port, readGreeting: false);
            string greeting = await vouched.ReadReplyAsync().WaitAsync(TimeSpan.FromSeconds(20));
            Assert.Equal("220-mx.edge.test ESMTP Edge\n220 mx.edge.test ESMTP Edge", greeting);
            await edge.WaitForLogAsync(@"postscreen\[\d+\]: PASS NEW \[127\.0\.0\.1\]:\d+");
        }
    }

    [Fact]
    public async Task The_access_list_allows_or_denies_the_client_a_proxy_names()
    {
        using TempDirectory config = Config("""
            postscreen_access_list = permit_mynetworks, cidr:$config_directory/postscreen_access.cidr
            postscreen_denylist_action = drop
            postscreen_upstream_proxy_protocol = haproxy
            smtpd_recipient_restrictions = check_policy_script $config_directory/policy.js
            """);
        config.Write("postscreen_access.cidr", "192.0.2.0/24 reject\n198.51.100.7 permit\n");
        config.Write("policy.js", "function policy(r) { return `REJECT ${r.client_address} to ${r.server_address} port ${r.server_port}`; }");
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);

        await using (var denied = await SmtpConnection.OpenAsync(edge.Port, readGreeting: false))
        {
            await denied.SendAsync("PROXY TCP4 192.0.2.9 127.0.0.1 40000 25\r\n");
            Assert.Equal("521 5.3.2 Service currently unavailable", await denied.ReadReplyAsync());
            Assert.True(await denied.IsClosedAsync());
        }
        await edge.WaitForLogAsync(@"postscreen\[\d+\]: DENYLISTED \[192\.0\.2\.9\]:40000");

        await using (var allowed = await SmtpConnection.OpenAsync(edge.Port, readGreeting: false))
        {
            await allowed.SendAsync("PROXY TCP4 198.51.100.7 203.0.113.25 40001 2525\r\n");
            Assert.Equal("220 mx.edge.test ESMTP Edge", await allowed.ReadReplyAsync());
            Assert.StartsWith("250", await allowed.CommandAsync("EHLO client.example"));
            await allowed.CommandAsync("MAIL FROM:<sender@example.org>");
            // smtpd sees the client and the address it connected to as the header named them.
            Assert.Equal("554 5.7.1 <postmaster@localhost>: Recipient address rejected: 198.51.100.7 to 203.0.113.25 port 2525",
                await allowed.CommandAsync("RCPT TO:<postmaster@localhost>"));
        }
        // The address the client connected to is the header's too, as postscreen logs it.
        await edge.WaitForLogAsync(@"postscreen\[\d+\]: CONNECT from \[198\.51\.100\.7\]:40001 to \[203\.0\.113\.25\]:2525");
        await edge.WaitForLogAsync(@"postscreen\[\d+\]: ALLOWLISTED \[198\.51\.100\.7\]:40001");
        await edge.WaitForLogAsync(@"smtpd\[\d+\]: connect from unknown\[198\.51\.100\.7\]");
    }

    [Fact]
    public async Task Deep_protocol_tests_hold_a_new_client_until_it_connects_again()
    {
        using TempDirectory config = Config("postscreen_pipelining_enable = yes\npostscreen_non_smtp_command_enable = yes\npostscreen_bare_newline_enable = yes");
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        await using (var first = await SmtpConnection.OpenAsync(edge.Port, readGreeting: false))
        {
            Assert.Equal("220-mx.edge.test ESMTP Edge\n220 mx.edge.test ESMTP Edge", await first.ReadReplyAsync());
            string ehlo = await first.CommandAsync("EHLO client.example");
            Assert.DoesNotContain("PIPELINING", ehlo);
            Assert.EndsWith("250 CHUNKING", ehlo);
            Assert.Equal("250 2.1.0 Ok", await first.CommandAsync("MAIL FROM:<sender@example.org>"));
            Assert.Equal("450 4.3.2 Service currently unavailable", await first.CommandAsync("RCPT TO:<postmaster@localhost>"));
            Assert.Equal("221 2.0.0 Bye", await first.CommandAsync("QUIT"));
        }
        await edge.WaitForLogAsync(@"postscreen\[\d+\]: PASS NEW \[127\.0\.0\.1\]:\d+");
        await using (var second = await SmtpConnection.OpenAsync(edge.Port, readGreeting: false))
        {
            Assert.Equal("220 mx.edge.test ESMTP Edge", await second.ReadReplyAsync());
            Assert.Contains("250-PIPELINING", await second.CommandAsync("EHLO client.example"));
        }
        await edge.WaitForLogAsync(@"postscreen\[\d+\]: PASS OLD \[127\.0\.0\.1\]:\d+");
    }

    /// <summary>With greet_action ignore a client that spoke first is let off: the engine greets it as any other.</summary>
    [Fact]
    public async Task A_client_let_off_for_pregreeting_is_greeted_by_the_engine()
    {
        using TempDirectory config = Config("postscreen_pipelining_enable = yes");
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        await using var eager = await SmtpConnection.OpenAsync(edge.Port, readGreeting: false);
        await eager.SendAsync("EHLO eager.example\r\n");
        Assert.Equal("220-mx.edge.test ESMTP Edge\n220 mx.edge.test ESMTP Edge", await eager.ReadReplyAsync());
        Assert.StartsWith("250-mx.edge.test\n", await eager.ReadReplyAsync());
        Assert.Equal("250 2.1.0 Ok", await eager.CommandAsync("MAIL FROM:<sender@example.org>"));
        Assert.Equal("450 4.3.2 Service currently unavailable", await eager.CommandAsync("RCPT TO:<postmaster@localhost>"));
        await edge.WaitForLogAsync(@"postscreen\[\d+\]: PREGREET 20 after [\d.]+ from \[127\.0\.0\.1\]:\d+");
    }

    /// <summary>
    /// A failure let off (a DNSBL listing with action ignore) does not let off another failure: a client caught
    /// pregreeting remembers no pass, and its next connection is tested again in the engine rather than handed to smtpd.
    /// </summary>
    [Fact]
    public async Task An_ignored_failure_does_not_excuse_an_enforced_one()
    {
        using Dnsmasq dns = await Dnsmasq.StartAsync(["--host-record=1.0.0.127.black.test,127.0.0.2", "--local=/black.test/"]);
        using TempDirectory config = Config($"""
            edge_dns_servers = {dns.EndPoint}
            postscreen_dnsbl_sites = black.test
            postscreen_greet_action = enforce
            postscreen_pipelining_enable = yes
            """);
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        await using (var eager = await SmtpConnection.OpenAsync(edge.Port, readGreeting: false))
        {
            await eager.SendAsync("EHLO eager.example\r\n");
            Assert.StartsWith("220-mx.edge.test ESMTP Edge\n250-mx.edge.test\n", await eager.ReadReplyAsync());
            Assert.Equal("250 2.1.0 Ok", await eager.CommandAsync("MAIL FROM:<sender@example.org>"));
            Assert.Equal("550 5.5.1 Protocol error", await eager.CommandAsync("RCPT TO:<postmaster@localhost>"));
            Assert.Equal("221 2.0.0 Bye", await eager.CommandAsync("QUIT"));
        }
        await edge.WaitForLogAsync(@"postscreen\[\d+\]: DISCONNECT \[127\.0\.0\.1\]:\d+");
        await using var again = await SmtpConnection.OpenAsync(edge.Port, readGreeting: false);
        Assert.Equal("220-mx.edge.test ESMTP Edge\n220 mx.edge.test ESMTP Edge", await again.ReadReplyAsync());
        Assert.DoesNotContain("PIPELINING", await again.CommandAsync("EHLO client.example"));
        Assert.Equal("250 2.1.0 Ok", await again.CommandAsync("MAIL FROM:<sender@example.org>"));
        Assert.Equal("450 4.3.2 Service currently unavailable", await again.CommandAsync("RCPT TO:<postmaster@localhost>"));
    }

    /// <summary>
    /// A command that ends in a bare newline fails the bare newline test; with enforce the engine goes on and refuses the
    /// recipient. Its own rules meanwhile: no MAIL before HELO (postscreen_helo_required), no VRFY
    /// (postscreen_disable_vrfy_command).
    /// </summary>
    [Fact]
    public async Task A_bare_newline_is_caught_and_the_engine_asks_for_helo_and_refuses_vrfy()
    {
        using TempDirectory config = Config("""
            postscreen_bare_newline_enable = yes
            postscreen_bare_newline_action = enforce
            postscreen_helo_required = yes
            postscreen_disable_vrfy_command = yes
            """);
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        await using (var client = await SmtpConnection.OpenAsync(edge.Port, readGreeting: false))
        {
            Assert.Equal("220-mx.edge.test ESMTP Edge\n220 mx.edge.test ESMTP Edge", await client.ReadReplyAsync());
            Assert.Equal("503 5.5.1 Error: send HELO/EHLO first", await client.CommandAsync("MAIL FROM:<sender@example.org>"));
            Assert.Equal("502 5.5.1 VRFY command is disabled", await client.CommandAsync("VRFY postmaster"));
            await client.SendAsync("HELO client.example\n");
            Assert.Equal("250 mx.edge.test", await client.ReadReplyAsync());
            Assert.Equal("250 2.1.0 Ok", await client.CommandAsync("MAIL FROM:<sender@example.org>"));
            Assert.Equal("550 5.5.1 Protocol error", await client.CommandAsync("RCPT TO:<postmaster@localhost>"));
        }
        await edge.WaitForLogAsync(@"postscreen\[\d+\]: BARE NEWLINE from \[127\.0\.0\.1\]:\d+ after HELO client\.example");
        await edge.WaitForLogAsync(@"postscreen\[\d+\]: NOQUEUE: reject: RCPT from \[127\.0\.0\.1\]:\d+: 550 5\.5\.1 Protocol error");
    }

    /// <summary>
    /// A postscreen_access_list table a server answers is asked without holding a thread: its verdicts apply, and
    /// the metrics count its lookups as answered by the server, none as waited for on a thread.
    /// </summary>
    [Fact]
    public async Task An_access_list_a_server_answers_allows_and_denies_without_holding_a_thread()
    {
        await using var server = new SocketmapServer
        {
            Answer = request => request switch
            {
                "screen 192.0.2.9" => "OK reject",
                "screen 198.51.100.7" => "OK permit",
                _ => "NOTFOUND ",
            },
            Delay = TimeSpan.FromMilliseconds(20),
        };
        int metricsPort = FreePorts.Tcp();
        using TempDirectory config = Config($"""
            postscreen_access_list = socketmap:inet:127.0.0.1:{server.Port}:screen
            postscreen_denylist_action = drop
            postscreen_upstream_proxy_protocol = haproxy
            edge_metrics_listen = 127.0.0.1:{metricsPort}
            """);
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        await using (var denied = await SmtpConnection.OpenAsync(edge.Port, readGreeting: false))
        {
            await denied.SendAsync("PROXY TCP4 192.0.2.9 127.0.0.1 40000 25\r\n");
            Assert.Equal("521 5.3.2 Service currently unavailable", await denied.ReadReplyAsync());
        }
        await using (var allowed = await SmtpConnection.OpenAsync(edge.Port, readGreeting: false))
        {
            await allowed.SendAsync("PROXY TCP4 198.51.100.7 127.0.0.1 40001 25\r\n");
            Assert.Equal("220 mx.edge.test ESMTP Edge", await allowed.ReadReplyAsync());
        }
        await edge.WaitForLogAsync(@"postscreen\[\d+\]: ALLOWLISTED \[198\.51\.100\.7\]:40001");
        string[] lookups = await TableLookupMeter.ScrapeAsync(metricsPort);
        Assert.Contains(lookups, line => line.Contains("source=\"server\"", StringComparison.Ordinal));
        Assert.DoesNotContain(lookups, line => line.Contains("server_blocking", StringComparison.Ordinal));
    }

    /// <summary>postscreen_dnsbl_reply_map: the reply names the list as the administrator wants it seen (a list's secret query name hidden).</summary>
    [Fact]
    public async Task The_dnsbl_reply_map_gives_the_name_the_reply_shows()
    {
        using Dnsmasq dns = await Dnsmasq.StartAsync(["--host-record=1.0.0.127.secret-key.black.test,127.0.0.2", "--local=/black.test/"]);
        using TempDirectory config = Config($$"""
            edge_dns_servers = {{dns.EndPoint}}
            postscreen_dnsbl_sites = secret-key.black.test
            postscreen_dnsbl_action = enforce
            postscreen_dnsbl_reply_map = inline:{ secret-key.black.test=black.test }
            """);
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        await using var listed = await SmtpConnection.OpenAsync(edge.Port, readGreeting: false);
        Assert.Equal("220-mx.edge.test ESMTP Edge\n220 mx.edge.test ESMTP Edge", await listed.ReadReplyAsync());
        await listed.CommandAsync("EHLO client.example");
        Assert.Equal("250 2.1.0 Ok", await listed.CommandAsync("MAIL FROM:<sender@example.org>"));
        Assert.Equal("550 5.7.1 Service unavailable; client [127.0.0.1] blocked using black.test",
            await listed.CommandAsync("RCPT TO:<postmaster@localhost>"));
    }

    [Fact]
    public async Task Pipelining_without_permission_and_http_are_caught_by_the_deep_tests()
    {
        using TempDirectory config = Config("postscreen_pipelining_enable = yes\npostscreen_non_smtp_command_enable = yes");
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        await using (var pipelining = await SmtpConnection.OpenAsync(edge.Port, readGreeting: false))
        {
            Assert.EndsWith("220 mx.edge.test ESMTP Edge", await pipelining.ReadReplyAsync());
            await pipelining.SendAsync("HELO client.example\r\nMAIL FROM:<sender@example.org>\r\n");
            Assert.Equal("250 mx.edge.test", await pipelining.ReadReplyAsync());
            Assert.Equal("250 2.1.0 Ok", await pipelining.ReadReplyAsync());
            Assert.Equal("550 5.5.1 Protocol error", await pipelining.CommandAsync("RCPT TO:<postmaster@localhost>"));
        }
        await edge.WaitForLogAsync(@"postscreen\[\d+\]: COMMAND PIPELINING from \[127\.0\.0\.1\]:\d+ after HELO: MAIL FROM:<sender@example\.org>\\r\\n");
        await using (var http = await SmtpConnection.OpenAsync(edge.Port, readGreeting: false))
        {
            Assert.EndsWith("220 mx.edge.test ESMTP Edge", await http.ReadReplyAsync());
            await http.SendAsync("GET / HTTP/1.0\r\n");
            Assert.Equal("521 5.7.0 Error: I can break rules, too. Goodbye.", await http.ReadReplyAsync());
            Assert.True(await http.IsClosedAsync());
        }
        await edge.WaitForLogAsync(@"postscreen\[\d+\]: NON-SMTP COMMAND from \[127\.0\.0\.1\]:\d+ after CONNECT: GET / HTTP/1\.0");
    }

    [Fact]
    public async Task The_engine_ends_a_session_past_the_command_count_limit_and_refuses_a_client_past_its_connection_limit()
    {
        using TempDirectory config = Config("postscreen_pipelining_enable = yes\npostscreen_command_count_limit = 3\npostscreen_client_connection_count_limit = 1");
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        await using (var first = await SmtpConnection.OpenAsync(edge.Port, readGreeting: false))
        {
            // Counted once postscreen has logged it: then, while it waits for its greeting, a second connection from the
            // same client is one too many.
            await edge.WaitForLogAsync(@"postscreen\[\d+\]: CONNECT from \[127\.0\.0\.1\]");
            await using (var second = await SmtpConnection.OpenAsync(edge.Port, readGreeting: false))
            {
                Assert.Equal("421 4.7.0 Error: too many connections", await second.ReadReplyAsync());
                Assert.True(await second.IsClosedAsync());
            }
            Assert.Equal("220-mx.edge.test ESMTP Edge\n220 mx.edge.test ESMTP Edge", await first.ReadReplyAsync());
            for (int i = 0; i < 3; i++)
            {
                Assert.Equal("250 2.0.0 Ok", await first.CommandAsync("NOOP"));
            }
            Assert.Equal("421 mx.edge.test Service unavailable - try again later", await first.CommandAsync("NOOP"));
            Assert.True(await first.IsClosedAsync());
        }
        await edge.WaitForLogAsync(@"postscreen\[\d+\]: NOQUEUE: reject: CONNECT from \[127\.0\.0\.1\]:\d+: too many connections");
        await edge.WaitForLogAsync(@"postscreen\[\d+\]: COMMAND COUNT LIMIT from \[127\.0\.0\.1\]:\d+ after NOOP");
    }

    /// <summary>A pass outlives a restart in the default store, and servers sharing a Redis store share it.</summary>
    [Fact]
    public async Task The_temporary_allowlist_outlives_a_restart_and_is_shared_through_redis()
    {
        using (TempDirectory config = Config(""))
        {
            await using (var edge = await EdgeProcess.StartAsync(config.Path, config.Path))
            {
                await using (var first = await SmtpConnection.OpenAsync(edge.Port, readGreeting: false))
                {
                    Assert.Equal("220-mx.edge.test ESMTP Edge\n220 mx.edge.test ESMTP Edge", await first.ReadReplyAsync());
                }
                await edge.WaitForLogAsync(@"postscreen\[\d+\]: PASS NEW \[127\.0\.0\.1\]:\d+");
                // Stopped, the store takes its last checkpoint.
                Assert.Equal(0, await edge.TerminateAsync());
            }
            await using var restarted = await EdgeProcess.StartAsync(config.Path, config.Path);
            await using var again = await SmtpConnection.OpenAsync(restarted.Port, readGreeting: false);
            Assert.Equal("220 mx.edge.test ESMTP Edge", await again.ReadReplyAsync());
            await restarted.WaitForLogAsync(@"postscreen\[\d+\]: PASS OLD \[127\.0\.0\.1\]:\d+");
        }
        await using RedisServer redis = await RedisServer.StartAsync();
        string shared = $"edge_policy_store = redis:127.0.0.1:{redis.Port}";
        using TempDirectory configA = Config(shared);
        using TempDirectory configB = Config(shared);
        await using var a = await EdgeProcess.StartAsync(configA.Path, configA.Path);
        await using var b = await EdgeProcess.StartAsync(configB.Path, configB.Path);
        await using (var viaA = await SmtpConnection.OpenAsync(a.Port, readGreeting: false))
        {
            Assert.Equal("220-mx.edge.test ESMTP Edge\n220 mx.edge.test ESMTP Edge", await viaA.ReadReplyAsync());
        }
        await a.WaitForLogAsync(@"postscreen\[\d+\]: PASS NEW \[127\.0\.0\.1\]:\d+");
        await using var viaB = await SmtpConnection.OpenAsync(b.Port, readGreeting: false);
        Assert.Equal("220 mx.edge.test ESMTP Edge", await viaB.ReadReplyAsync());
    }

    [Fact]
    public async Task Postscreen_without_its_smtpd_or_with_a_setting_edge_lacks_does_not_start()
    {
        using (TempDirectory config = Config("", "127.0.0.1:0 inet n - n - 1 postscreen"))
        {
            var e = await Assert.ThrowsAsync<ConfigException>(() => Hosting.EdgeServer.StartAsync(config.Path));
            Assert.Equal($"{config.File("master.cf")}, line 1: service 127.0.0.1:0: postscreen hands the clients it passes to the service smtpd " +
                "(smtpd_service_name), and master.cf has no \"smtpd pass - - n - - smtpd\" line", e.Message);
        }
        using (TempDirectory config = Config("postscreen_command_filter = pcre:/etc/postfix/command_filter"))
        {
            var e = await Assert.ThrowsAsync<ConfigException>(() => Hosting.EdgeServer.StartAsync(config.Path));
            Assert.Contains("postscreen_command_filter", e.Message);
            Assert.Contains("is not implemented by Edge yet", e.Message);
        }
    }
}
