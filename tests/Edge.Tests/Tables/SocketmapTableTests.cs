using System.Text;
using Edge.Tests.Support;

namespace Edge.Tests.Tables;

/// <summary>
/// socketmap: tables against a server written here: answers found and not found, a server that says it cannot answer,
/// one that is down, slow or garbled (each defers, as Postfix does, and never rejects or accepts by accident), and the
/// cache that keeps a busy MX from asking for every RCPT TO.
/// </summary>
public class SocketmapTableTests
{
    private static async Task<EdgeInstance> StartAsync(SocketmapServer server, string more = "") =>
        await EdgeInstance.StartAsync($"""
            smtpd_recipient_restrictions = check_recipient_access socketmap:inet:127.0.0.1:{server.Port}:access, reject_unauth_destination
            relay_domains = relay.example
            relay_recipient_maps = socketmap:inet:127.0.0.1:{server.Port}:relay
            {more}
            """);

    private static async Task<string> RcptAsync(EdgeInstance edge, string recipient)
    {
        await using SmtpConnection c = await edge.ConnectAsync();
        Assert.StartsWith("250", await c.CommandAsync("EHLO client.example"));
        Assert.StartsWith("250 ", await c.CommandAsync("MAIL FROM:<sender@example.org>"));
        return await c.CommandAsync($"RCPT TO:<{recipient}>");
    }

    private static Func<string, string> Directory(Dictionary<string, string> entries) =>
        request => entries.TryGetValue(request, out string? value) ? value : "NOTFOUND ";

    [Fact]
    public async Task Recipients_are_checked_against_the_server()
    {
        await using var server = new SocketmapServer
        {
            Answer = Directory(new() { ["access closed@edge.test"] = "OK REJECT Mailbox closed", ["relay user@relay.example"] = "OK exists" }),
        };
        await using EdgeInstance edge = await StartAsync(server);
        Assert.Equal("554 5.7.1 <closed@edge.test>: Recipient address rejected: Mailbox closed", await RcptAsync(edge, "closed@edge.test"));
        Assert.Equal("250 2.1.5 Ok", await RcptAsync(edge, "open@edge.test"));
        Assert.Equal("250 2.1.5 Ok", await RcptAsync(edge, "user@relay.example"));
        Assert.Equal("550 5.1.1 <nobody@relay.example>: Recipient address rejected: User unknown in relay recipient table",
            await RcptAsync(edge, "nobody@relay.example"));
        // As Postfix asks a socketmap: the whole address, once (it is a pattern table to access checks).
        Assert.Contains("access closed@edge.test", server.Requests);
        Assert.DoesNotContain("access edge.test", server.Requests);
        Assert.Contains("relay nobody@relay.example", server.Requests);
    }

    [Theory]
    [InlineData("TEMP directory restarting", "451 4.3.0 <user@relay.example>: Temporary lookup failure")]
    [InlineData("TIMEOUT", "451 4.3.0 <user@relay.example>: Temporary lookup failure")]
    [InlineData("WHAT is this", "451 4.3.0 <user@relay.example>: Temporary lookup failure")]
    [InlineData("PERM no such map", "451 4.3.5 Server configuration error")]
    [InlineData("OK", "550 5.1.1 <user@relay.example>: Recipient address rejected: User unknown in relay recipient table")]
    public async Task A_server_that_cannot_answer_defers(string answer, string expected)
    {
        await using var server = new SocketmapServer { Answer = request => request.StartsWith("relay ") ? answer : "NOTFOUND " };
        await using EdgeInstance edge = await StartAsync(server);
        Assert.Equal(expected, await RcptAsync(edge, "user@relay.example"));
    }

    [Fact]
    public async Task An_access_table_that_cannot_answer_is_a_server_configuration_error()
    {
        // Postfix's check_access(): the failed lookup's result is "451 4.3.5 Server configuration error".
        await using var server = new SocketmapServer { Answer = _ => "TEMP down" };
        await using EdgeInstance edge = await StartAsync(server);
        Assert.Equal("451 4.3.5 <user@edge.test>: Recipient address rejected: Server configuration error", await RcptAsync(edge, "user@edge.test"));
    }

    [Fact]
    public async Task A_server_that_is_down_defers()
    {
        var server = new SocketmapServer();
        int port = server.Port;
        await server.DisposeAsync();
        await using EdgeInstance edge = await EdgeInstance.StartAsync($"""
            relay_domains = relay.example
            relay_recipient_maps = socketmap:inet:127.0.0.1:{port}:relay
            """);
        Assert.Equal("451 4.3.0 <user@relay.example>: Temporary lookup failure", await RcptAsync(edge, "user@relay.example"));
        Assert.Equal("250 2.1.5 Ok", await RcptAsync(edge, "user@edge.test"));
    }

    [Fact]
    public async Task A_slow_server_defers_at_edge_table_timeout()
    {
        await using var server = new SocketmapServer { Answer = _ => "OK exists", Delay = TimeSpan.FromSeconds(30) };
        await using EdgeInstance edge = await EdgeInstance.StartAsync($"""
            relay_domains = relay.example
            relay_recipient_maps = socketmap:inet:127.0.0.1:{server.Port}:relay
            edge_table_timeout = 1s
            """);
        Task<string> reply = RcptAsync(edge, "user@relay.example");
        Assert.Same(reply, await Task.WhenAny(reply, Task.Delay(TimeSpan.FromSeconds(20))));
        Assert.Equal("451 4.3.0 <user@relay.example>: Temporary lookup failure", await reply);
    }

    [Theory]
    [InlineData("nonsense")]
    [InlineData("5:OK x;")]
    [InlineData("999999:OK")]
    public async Task A_garbled_reply_defers(string raw)
    {
        await using var server = new SocketmapServer { Raw = Encoding.ASCII.GetBytes(raw) };
        await using EdgeInstance edge = await EdgeInstance.StartAsync($"""
            relay_domains = relay.example
            relay_recipient_maps = socketmap:inet:127.0.0.1:{server.Port}:relay
            edge_table_timeout = 2s
            """);
        Assert.Equal("451 4.3.0 <user@relay.example>: Temporary lookup failure", await RcptAsync(edge, "user@relay.example"));
    }

    [Theory]
    [InlineData("60s", 1)]
    [InlineData("0", 3)]
    public async Task Answers_are_kept_for_edge_table_cache_time(string lifetime, int asked)
    {
        await using var server = new SocketmapServer { Answer = request => request == "relay user@relay.example" ? "OK exists" : "NOTFOUND " };
        await using EdgeInstance edge = await StartAsync(server, $"edge_table_cache_time = {lifetime}\nedge_table_negative_cache_time = {lifetime}");
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal("250 2.1.5 Ok", await RcptAsync(edge, "user@relay.example"));
        }
        Assert.Equal(asked, server.Requests.Count(r => r == "relay user@relay.example"));
        Assert.Equal(asked, server.Requests.Count(r => r == "access user@relay.example"));
    }

    [Fact]
    public async Task A_header_check_that_cannot_answer_keeps_the_message_out_of_the_queue()
    {
        await using var server = new SocketmapServer { Answer = _ => "TEMP down" };
        await using EdgeInstance edge = await EdgeInstance.StartAsync($"header_checks = socketmap:inet:127.0.0.1:{server.Port}:headers");
        await using SmtpConnection c = await edge.ConnectAsync();
        await c.EnvelopeAsync(to: "user@edge.test");
        Assert.StartsWith("354", await c.CommandAsync("DATA"));
        Assert.Equal("451 4.3.0 Error: queue file write error", await c.CommandAsync("Subject: hello\r\n\r\ntext\r\n."));
        // The first header asked (Edge's own Received:) failed, and nothing after it was asked, as in Postfix.
        Assert.StartsWith("headers Received: from client.example", Assert.Single(server.Requests));
        Assert.Empty(await edge.Queue.ListAsync());
    }

    /// <summary>
    /// edge.table.lookups counts each lookup once, however it is answered: the same message twice makes as many lookups
    /// of canonical_maps and check_recipient_access, from the server the first time and from the cache the second (a
    /// cache hit was counted again by the work a prefetch had asked ahead for, and by a check run again after a lookup
    /// it waited for).
    /// </summary>
    [Fact]
    public async Task A_lookup_the_cache_answers_is_counted_once()
    {
        await using var server = new SocketmapServer
        {
            Answer = request => request switch
            {
                "canonical sender@example.org" => "OK Sender.Name@example.org",
                "access user@edge.test" => "OK OK",
                _ => "NOTFOUND ",
            },
        };
        string canonical = $"socketmap:inet:127.0.0.1:{server.Port}:canonical";
        string access = $"socketmap:inet:127.0.0.1:{server.Port}:access";
        using var canonicalMeter = new TableLookupMeter(canonical);
        using var accessMeter = new TableLookupMeter(access);
        // Two lookups in one check: the second waits after the first was answered.
        await using EdgeInstance edge = await EdgeInstance.StartAsync($"""
            canonical_maps = {canonical}
            smtpd_recipient_restrictions = check_sender_access {access}, check_recipient_access {access}, permit_mynetworks, reject
            """);

        async Task SendAsync(int queued)
        {
            await SmtpConnection.SendMessageAsync(edge.Port, "From: sender@example.org\r\nTo: user@edge.test\r\nSubject: hello\r\n\r\ntext", "user@edge.test");
            Assert.Equal(queued, (await edge.Queue.ListAsync()).Count);
        }

        await SendAsync(1);
        Assert.Equal(0, canonicalMeter["cache"] + accessMeter["cache"]);
        long canonicalLookups = canonicalMeter["server"], accessLookups = accessMeter["server"];
        Assert.True(canonicalLookups > 0 && accessLookups > 1, $"{canonicalMeter}; {accessMeter}");
        await SendAsync(2);

        Assert.Equal(canonicalLookups, canonicalMeter["server"]);
        Assert.Equal(canonicalLookups, canonicalMeter["cache"]);
        Assert.Equal(accessLookups, accessMeter["server"]);
        Assert.Equal(accessLookups, accessMeter["cache"]);
        Assert.Equal(0, canonicalMeter["server_blocking"] + accessMeter["server_blocking"]);
    }

    /// <summary>
    /// relay_domains in a database: RCPT TO, VRFY and smtpd_data_restrictions resolve the recipient's class with the
    /// session's lookups, which wait for the server without holding a thread (edge.table.lookups says how each waited).
    /// </summary>
    [Fact]
    public async Task A_domain_list_a_server_answers_is_asked_without_holding_a_thread()
    {
        await using var server = new SocketmapServer
        {
            Answer = request => request == "domains relay.example" ? "OK relay" : "NOTFOUND ",
            Delay = TimeSpan.FromMilliseconds(50),
        };
        string table = $"socketmap:inet:127.0.0.1:{server.Port}:domains";
        using var meter = new TableLookupMeter(table);
        await using EdgeInstance edge = await EdgeInstance.StartAsync($"""
            relay_domains = {table}
            mynetworks = 192.0.2.0/24
            smtpd_data_restrictions = reject_unauth_pipelining
            edge_table_cache_time = 0
            edge_table_negative_cache_time = 0
            """);
        await using SmtpConnection c = await edge.ConnectAsync();
        Assert.StartsWith("250", await c.CommandAsync("EHLO client.example"));
        Assert.Equal("252 2.0.0 user@relay.example", await c.CommandAsync("VRFY user@relay.example"));
        Assert.Equal("454 4.7.1 <user@other.example>: Relay access denied", await c.CommandAsync("VRFY user@other.example"));
        Assert.StartsWith("250 ", await c.CommandAsync("MAIL FROM:<sender@example.org>"));
        Assert.Equal("454 4.7.1 <user@other.example>: Relay access denied", await c.CommandAsync("RCPT TO:<user@other.example>"));
        Assert.Equal("250 2.1.5 Ok", await c.CommandAsync("RCPT TO:<user@relay.example>"));
        Assert.StartsWith("354", await c.CommandAsync("DATA"));
        Assert.StartsWith("250 2.0.0 Ok: queued as ", await c.CommandAsync("Subject: hello\r\n\r\ntext\r\n."));

        Assert.True(meter["server"] >= 5, meter.ToString());
        Assert.Equal(0, meter["server_blocking"]);
    }

    /// <summary>
    /// Canonical maps, header checks and body checks in a database: cleanup holds the content while the session
    /// fetches what a line or address needs, so no thread waits for the server (edge.table.lookups), and what the tables
    /// say is carried out as with a file: addresses rewritten in the envelope and the headers, a header or body line
    /// rejected, a header changed.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Cleanup_asks_canonical_maps_and_content_checks_a_server_answers_without_holding_a_thread(bool bdat)
    {
        await using var server = new SocketmapServer
        {
            Answer = request => request switch
            {
                "canonical sender@example.org" => "OK Sender.Name@example.org",
                "canonical user@edge.test" => "OK mailbox@edge.test",
                "canonical copy@example.net" => "OK archive@example.net",
                "headers Subject: spam" => "OK REJECT no spam here",
                "headers X-Mood: grumpy" => "OK REPLACE X-Mood: content",
                "body buy now" => "OK REJECT no sales here",
                _ => "NOTFOUND ",
            },
            Delay = TimeSpan.FromMilliseconds(20),
        };
        string canonical = $"socketmap:inet:127.0.0.1:{server.Port}:canonical";
        using var meter = new TableLookupMeter(canonical);
        using var checks = new TableLookupMeter($"socketmap:inet:127.0.0.1:{server.Port}:headers");
        using var body = new TableLookupMeter($"socketmap:inet:127.0.0.1:{server.Port}:body");
        const string bccInline = "inline:{ { user@edge.test = BCC copy@example.net } }";
        await using EdgeInstance edge = await EdgeInstance.StartAsync($"""
            canonical_maps = {canonical}
            header_checks = socketmap:inet:127.0.0.1:{server.Port}:headers
            body_checks = socketmap:inet:127.0.0.1:{server.Port}:body
            local_header_rewrite_clients = static:all
            smtpd_recipient_restrictions = check_recipient_access {bccInline}
            edge_table_cache_time = 0
            edge_table_negative_cache_time = 0
            """);

        async Task<string> SendAsync(string content)
        {
            await using SmtpConnection c = await edge.ConnectAsync();
            Assert.StartsWith("250", await c.CommandAsync("EHLO client.example"));
            Assert.StartsWith("250 ", await c.CommandAsync("MAIL FROM:<sender@example.org>"));
            Assert.StartsWith("250 ", await c.CommandAsync("RCPT TO:<user@edge.test>"));
            if (bdat)
            {
                return await c.BdatAsync(content, last: true);
            }
            Assert.StartsWith("354", await c.CommandAsync("DATA"));
            return await c.CommandAsync(content + ".");
        }

        Assert.Equal("550 5.7.1 no spam here", await SendAsync("From: sender@example.org\r\nSubject: spam\r\n\r\ntext\r\n"));
        Assert.Equal("550 5.7.1 no sales here", await SendAsync("Subject: offer\r\n\r\nhello\r\nbuy now\r\n"));
        // A body line straight after the headers (no empty line between) is checked as body.
        Assert.Equal("550 5.7.1 no sales here", await SendAsync("Subject: offer\r\nbuy now\r\n"));
        if (bdat)
        {
            // BDAT content may end without a line end: its last header is checked too.
            Assert.Equal("550 5.7.1 no spam here", await SendAsync("From: sender@example.org\r\nSubject: spam"));
        }
        Assert.StartsWith("250 2.0.0 Ok: ", await SendAsync(
            "From: Sender <sender@example.org>\r\nTo: user@edge.test\r\nX-Mood: grumpy\r\nSubject: hello\r\n\r\n" +
            string.Concat(Enumerable.Range(0, 50).Select(i => $"line {i}\r\n"))));

        (var message, _) = Assert.Single(await edge.Queue.ListAsync());
        Assert.Equal("Sender.Name@example.org", message.Sender);
        Assert.Equal(["archive@example.net", "mailbox@edge.test"], message.Recipients.Select(r => r.Address).Order());
        string content = await edge.SingleMessageContentAsync();
        Assert.Contains("\r\nFrom: Sender <Sender.Name@example.org>\r\nTo: mailbox@edge.test\r\nX-Mood: content\r\nSubject: hello\r\n", content);
        Assert.Contains("\r\n\r\nline 0\r\nline 1\r\n", content);
        Assert.EndsWith("line 49\r\n", content);
        Assert.Contains("body line 49", server.Requests);

        foreach (TableLookupMeter table in new[] { meter, checks, body })
        {
            Assert.True(table["server"] > 0, table.ToString());
            Assert.Equal(0, table["server_blocking"]);
        }
    }

    /// <summary>
    /// relay_domains and transport_maps in a database route a message to the next hop they name; the queue manager
    /// fetches what routing asks before it delivers, and records the outcome without asking again: the metrics count
    /// no lookup a thread waited for.
    /// </summary>
    [Fact]
    public async Task Delivery_routes_by_tables_a_server_answers_without_holding_a_thread()
    {
        await using var sink = await Edge.Tests.Delivery.SmtpSink.StartAsync();
        await using var server = new SocketmapServer
        {
            Answer = request => request switch
            {
                "domains relay.example" => "OK relay",
                "transport relay.example" => $"OK smtp:[127.0.0.1]:{sink.Port}",
                _ => "NOTFOUND ",
            },
            Delay = TimeSpan.FromMilliseconds(20),
        };
        int metricsPort = FreePorts.Tcp();
        using var config = new TempDirectory();
        config.Write("main.cf", EdgeInstance.BaseMainCf(config) + $"""

            relay_domains = socketmap:inet:127.0.0.1:{server.Port}:domains
            transport_maps = socketmap:inet:127.0.0.1:{server.Port}:transport
            edge_table_cache_time = 0
            edge_table_negative_cache_time = 0
            edge_metrics_listen = 127.0.0.1:{metricsPort}

            """);
        config.Write("master.cf", """
            127.0.0.1:0 inet n - n - - smtpd
            qmgr      unix  n       -       n       300     1       qmgr
            smtp      unix  -       -       n       -       -       smtp
            """);
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string id = await SmtpConnection.SendMessageAsync(edge.Port, "Subject: routed\r\n\r\ntext\r\n", "user@relay.example");
        await edge.WaitForLogAsync($@"{id}: to=<user@relay\.example>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:{sink.Port}, .*status=sent");
        Assert.Single(await sink.DumpsAsync(1));

        string[] lookups = await TableLookupMeter.ScrapeAsync(metricsPort);
        Assert.Contains(lookups, line => line.Contains("transport", StringComparison.Ordinal) && line.Contains("source=\"server\"", StringComparison.Ordinal));
        Assert.DoesNotContain(lookups, line => line.Contains("server_blocking", StringComparison.Ordinal));
    }

    /// <summary>
    /// Canonical maps in a file still ask the domain lists (is the "user" key one of ours?): with relay_domains in a
    /// database, cleanup fetches those answers too, without holding a thread.
    /// </summary>
    [Fact]
    public async Task A_file_canonical_map_asks_a_domain_list_a_server_answers_without_holding_a_thread()
    {
        await using var server = new SocketmapServer { Answer = _ => "NOTFOUND ", Delay = TimeSpan.FromMilliseconds(20) };
        string domains = $"socketmap:inet:127.0.0.1:{server.Port}:domains";
        using var meter = new TableLookupMeter(domains);
        await using EdgeInstance edge = await EdgeInstance.StartAsync($$"""
            relay_domains = {{domains}}
            sender_canonical_maps = inline:{ sender@example.org=renamed@example.org }
            edge_table_cache_time = 0
            edge_table_negative_cache_time = 0
            """);
        Assert.StartsWith("250 2.0.0 Ok", await edge.SendAsync("Subject: x\r\n\r\nbody\r\n", bdat: false));
        (var message, _) = Assert.Single(await edge.Queue.ListAsync());
        Assert.Equal("renamed@example.org", message.Sender);
        Assert.Contains("domains example.org", server.Requests);
        Assert.Equal(0, meter["server_blocking"]);
    }

    [Fact]
    public async Task A_domain_list_that_fails_at_bdat_refuses_the_chunk_without_reading_it_as_commands()
    {
        await using var server = new SocketmapServer { Answer = _ => "OK relay" };
        await using EdgeInstance edge = await EdgeInstance.StartAsync($"""
            relay_domains = socketmap:inet:127.0.0.1:{server.Port}:domains
            smtpd_data_restrictions = reject_unauth_pipelining
            edge_table_cache_time = 0
            edge_table_negative_cache_time = 0
            """);
        await using SmtpConnection c = await edge.ConnectAsync();
        Assert.StartsWith("250", await c.CommandAsync("EHLO client.example"));
        Assert.StartsWith("250 ", await c.CommandAsync("MAIL FROM:<sender@example.org>"));
        Assert.Equal("250 2.1.5 Ok", await c.CommandAsync("RCPT TO:<user@relay.example>"));
        // The directory stops answering between RCPT TO and the message.
        server.Answer = _ => "TEMP down";
        Assert.Equal("451 4.3.0 <user@relay.example>: Temporary lookup failure", await c.BdatAsync("MAIL FROM:<smuggled@example.org>\r\n", last: true));
        Assert.Equal("250 2.0.0 Ok", await c.CommandAsync("NOOP"));
        Assert.Empty(await edge.Queue.ListAsync());
    }

    /// <summary>
    /// local_header_rewrite_clients in a database is decided at MAIL FROM, as Postfix's smtpd does, without holding a
    /// thread: a client the table lists gets its headers completed, and a table that cannot answer refuses MAIL FROM for
    /// now with Postfix's reply (the message is never taken with headers rewritten in the wrong context). MAIL FROM
    /// runs on after the wait without counting twice against smtpd_client_message_rate_limit.
    /// </summary>
    [Fact]
    public async Task A_rewrite_client_table_decides_at_mail_from_without_holding_a_thread()
    {
        await using var server = new SocketmapServer { Answer = _ => "OK local", Delay = TimeSpan.FromMilliseconds(20) };
        string table = $"socketmap:inet:127.0.0.1:{server.Port}:clients";
        using var meter = new TableLookupMeter(table);
        await using EdgeInstance edge = await EdgeInstance.StartAsync($"""
            local_header_rewrite_clients = {table}
            mynetworks = 192.0.2.0/24
            smtpd_client_message_rate_limit = 3
            edge_table_cache_time = 0
            """);
        await using (SmtpConnection c = await edge.ConnectAsync())
        {
            await c.EnvelopeAsync(to: "user@edge.test");
            Assert.StartsWith("354", await c.CommandAsync("DATA"));
            Assert.StartsWith("250 2.0.0 Ok: ", await c.CommandAsync("From: someone\r\nSubject: hello\r\n\r\ntext\r\n."));
            Assert.StartsWith("250 ", await c.CommandAsync("MAIL FROM:<sender@example.org>"));
        }
        string content = await edge.SingleMessageContentAsync();
        Assert.Contains("\r\nFrom: someone@mx.edge.test\r\n", content);
        Assert.Contains("\r\nMessage-Id: <", content);
        Assert.Contains("clients 127.0.0.1", server.Requests);
        Assert.Equal(2, meter["server"]);
        Assert.Equal(0, meter["server_blocking"]);

        server.Answer = _ => "TEMP down";
        await using SmtpConnection refused = await edge.ConnectAsync();
        Assert.StartsWith("250", await refused.CommandAsync("EHLO client.example"));
        Assert.Equal("451 4.3.0 Temporary lookup error", await refused.CommandAsync("MAIL FROM:<sender@example.org>"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("smtpd_milters = inet:127.0.0.1:1\nmilter_default_action = accept")]
    public async Task Virtual_aliases_a_server_answers_are_expanded_into_the_queue(string more)
    {
        await using var server = new SocketmapServer
        {
            Answer = request => request switch
            {
                "aliases team@edge.test" => "OK alice@edge.test, bob@elsewhere.example",
                "aliases alice@edge.test" => "OK alice@mbox.example",
                _ => "NOTFOUND ",
            },
        };
        await using EdgeInstance edge = await EdgeInstance.StartAsync($"""
            virtual_alias_maps = socketmap:inet:127.0.0.1:{server.Port}:aliases
            edge_table_cache_time = 0
            edge_table_negative_cache_time = 0
            {more}
            """);
        await using SmtpConnection c = await edge.ConnectAsync();
        await c.EnvelopeAsync(to: "team@edge.test");
        Assert.StartsWith("354", await c.CommandAsync("DATA"));
        Assert.StartsWith("250 2.0.0 Ok: queued as ", await c.CommandAsync("Subject: hello\r\n\r\ntext\r\n."));
        (var message, _) = Assert.Single(await edge.Queue.ListAsync());
        Assert.Equal(["alice@mbox.example", "bob@elsewhere.example"], message.Recipients.Select(r => r.Address).Order());
    }

    [Fact]
    public async Task Postmap_asks_the_server_as_postfixs_postmap_does()
    {
        await using var server = new SocketmapServer
        {
            Answer = request => request switch { "names Known" => "OK value one", "names temp" => "TEMP later", _ => "NOTFOUND " },
        };
        using var config = new TempDirectory();
        config.Write("main.cf", "");
        string map = $"socketmap:inet:127.0.0.1:{server.Port}:names";
        foreach (string key in new[] { "Known", "unknown", "temp" })
        {
            PostmapQuery.Answers answers = await PostmapQuery.AskAsync(config.Path, key, map);
            Assert.True(answers.Agree, answers.ToString());
            if (key == "temp")
            {
                Assert.Contains($"postmap: fatal: table {map}: query error: socketmap server temporary error: later", answers.EdgeError);
            }
        }
        // Each key reached the server from both: Edge's postmap asks as Postfix's does ("name key", the key as given).
        Assert.Equal(2, server.Requests.Count(r => r == "names Known"));
    }
}
