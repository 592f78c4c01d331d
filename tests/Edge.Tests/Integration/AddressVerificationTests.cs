using Edge.Tests.Support;

namespace Edge.Tests.Integration;

/// <summary>
/// reject_unverified_recipient and reject_unverified_sender (ADDRESS_VERIFICATION_README): a relay MX without the
/// next hop's user list asks the next hop. The front Edge runs as `edge run` with a queue manager and relays
/// edge.test to a second Edge that knows alice only; a probe goes as far as the next hop's answer to RCPT TO, so the
/// next hop never queues anything.
/// </summary>
public class AddressVerificationTests
{
    private static async Task<(EdgeProcess Front, TempDirectory Config)> StartFrontAsync(EdgeInstance nextHop, string mainCf, TempDirectory? reuse = null)
    {
        TempDirectory config = reuse ?? new TempDirectory();
        config.Write("transport", $"edge.test relay:[127.0.0.1]:{nextHop.Port}\n");
        config.Write("main.cf", EdgeInstance.BaseMainCf(config) + $"""

            mydestination = localhost
            relay_domains = edge.test
            transport_maps = texthash:{config.File("transport")}
            {mainCf}

            """);
        config.Write("master.cf", """
            127.0.0.1:0 inet n - n - - smtpd
            qmgr      unix  n       -       n       300     1       qmgr
            relay     unix  -       -       n       -       -       smtp
            """);
        return (await EdgeProcess.StartAsync(config.Path, config.Path), config);
    }

    private static Task<EdgeInstance> StartNextHopAsync() => EdgeInstance.StartAsync("local_recipient_maps = inline:{ alice=x }");

    private static Task<string> RcptAsync(EdgeProcess front, string recipient, string sender = "sender@example.org") =>
        RcptAsync(front.Port, recipient, sender);

    private static async Task<string> RcptAsync(int port, string recipient, string sender = "sender@example.org")
    {
        await using var c = await SmtpConnection.OpenAsync(port);
        Assert.StartsWith("250", await c.CommandAsync("HELO client.example"));
        string mail = await c.CommandAsync($"MAIL FROM:<{sender}>");
        return mail.StartsWith("250", StringComparison.Ordinal) ? await c.CommandAsync($"RCPT TO:<{recipient}>") : mail;
    }

    private const string UnknownAtNextHop = "550 5.1.1 <bob@edge.test>: Recipient address rejected: undeliverable address: " +
        "host 127.0.0.1[127.0.0.1] said: 550 5.1.1 <bob@edge.test>: Recipient address rejected: User unknown in local recipient table " +
        "(in reply to RCPT TO command)";

    /// <summary>
    /// With one poll (address_verify_poll_count = 1) the first RCPT TO of an unknown address is told to come back, as
    /// Postfix answers while the probe is on its way; then the cache answers: 550 for the user the next hop refuses,
    /// nothing against the one it takes. The cache (FasterKV under the queue directory) survives a restart: with the
    /// next hop gone, the answers stay.
    /// </summary>
    [Fact]
    public async Task An_unknown_user_gets_450_then_550_a_known_one_250_and_the_cache_survives_a_restart()
    {
        TempDirectory config;
        const string MainCf = """
            smtpd_recipient_restrictions = reject_unauth_destination, reject_unverified_recipient
            unverified_recipient_reject_code = 550
            address_verify_poll_count = 1
            """;
        await using (EdgeInstance nextHop = await StartNextHopAsync())
        {
            (EdgeProcess front, config) = await StartFrontAsync(nextHop, MainCf);
            await using (front)
            {
                Assert.Equal(["450 4.1.1 <bob@edge.test>: Recipient address rejected: unverified address: Address verification in progress",
                    UnknownAtNextHop,
                    "450 4.1.1 <alice@edge.test>: Recipient address rejected: unverified address: Address verification in progress",
                    "250 2.1.5 Ok"], await AnswersAsync(front.Port));
                await front.WaitForLogAsync(@"edge/smtp\[\d+\]: \w+: to=<bob@edge\.test>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:\d+, .*dsn=5\.1\.1, status=undeliverable \(host 127\.0\.0\.1");
                await front.WaitForLogAsync(@"edge/smtp\[\d+\]: \w+: to=<alice@edge\.test>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:\d+, .*dsn=2\.1\.5, status=deliverable \(250 2\.1\.5 Ok\)");
                Assert.Empty(await nextHop.QueuedAsync());
                Assert.Equal(0, await front.TerminateAsync());
            }
        }
        using (config)
        {
            await using EdgeInstance gone = await StartNextHopAsync();
            await gone.StopAsync();
            (EdgeProcess again, _) = await StartFrontAsync(gone, MainCf, config);
            await using (again)
            {
                Assert.Equal(UnknownAtNextHop, await RcptAsync(again, "bob@edge.test"));
                Assert.Equal("250 2.1.5 Ok", await RcptAsync(again, "alice@edge.test"));
                Assert.DoesNotContain(again.Log, line => line.Contains("status=undeliverable") || line.Contains("status=deliverable"));
            }
        }
    }

    /// <summary>
    /// With Postfix's default of three polls, the first RCPT TO waits for a quick next hop's answer. A sender is verified
    /// the same way, with 4.1.7/5.1.7 and the sender's words.
    /// </summary>
    [Fact]
    public async Task The_first_rcpt_waits_for_the_probe_and_a_sender_is_verified_too()
    {
        await using EdgeInstance nextHop = await StartNextHopAsync();
        (EdgeProcess front, TempDirectory config) = await StartFrontAsync(nextHop, """
            smtpd_recipient_restrictions = reject_unauth_destination, reject_unverified_recipient
            smtpd_sender_restrictions = reject_unverified_sender
            unverified_sender_reject_code = 550
            """);
        using (config)
        await using (front)
        {
            Assert.Equal("250 2.1.5 Ok", await RcptAsync(front, "alice@edge.test", sender: "alice@edge.test"));
            Assert.Equal("550 5.1.7 <bob@edge.test>: Sender address rejected: undeliverable address: host 127.0.0.1[127.0.0.1] said: " +
                "550 5.1.1 <bob@edge.test>: Recipient address rejected: User unknown in local recipient table (in reply to RCPT TO command)",
                await RcptAsync(front, "alice@edge.test", sender: "bob@edge.test"));
            Assert.Empty(await nextHop.QueuedAsync());
        }
    }

    /// <summary>
    /// A probe's address goes through the canonical maps first, as a message's would; a canonical table a server
    /// answers is asked without holding a thread (the metrics count no lookup that waited on one).
    /// </summary>
    [Fact]
    public async Task A_probe_is_rewritten_by_a_canonical_table_a_server_answers_without_holding_a_thread()
    {
        await using var server = new SocketmapServer
        {
            Answer = request => request == "canonical ann@edge.test" ? "OK alice@edge.test" : "NOTFOUND ",
            Delay = TimeSpan.FromMilliseconds(20),
        };
        await using EdgeInstance nextHop = await StartNextHopAsync();
        int metricsPort = FreePorts.Tcp();
        (EdgeProcess front, TempDirectory config) = await StartFrontAsync(nextHop, $"""
            smtpd_recipient_restrictions = reject_unauth_destination, reject_unverified_recipient
            canonical_maps = socketmap:inet:127.0.0.1:{server.Port}:canonical
            address_verify_poll_count = 3
            edge_metrics_listen = 127.0.0.1:{metricsPort}
            """);
        using (config)
        await using (front)
        {
            Assert.Equal("250 2.1.5 Ok", await RcptAsync(front, "ann@edge.test"));
            Assert.Contains("canonical ann@edge.test", server.Requests);
            string[] lookups = await TableLookupMeter.ScrapeAsync(metricsPort);
            Assert.Contains(lookups, line => line.Contains("source=\"server\"", StringComparison.Ordinal));
            Assert.DoesNotContain(lookups, line => line.Contains("server_blocking", StringComparison.Ordinal));
        }
    }

    /// <summary>
    /// A next hop that cannot be reached is a temporary failure: 450 with the reason, as DEFER_IF_PERMIT, so a later
    /// reject still wins; unverified_recipient_reject_reason replaces the text the client sees.
    /// </summary>
    [Fact]
    public async Task An_unreachable_next_hop_defers_and_the_reject_reason_replaces_the_text()
    {
        EdgeInstance gone = await StartNextHopAsync();
        await gone.StopAsync();
        (EdgeProcess front, TempDirectory config) = await StartFrontAsync(gone, """
            smtpd_recipient_restrictions = reject_unauth_destination, reject_unverified_recipient, check_recipient_access inline:{ carol@edge.test=REJECT }
            address_verify_poll_delay = 1s
            """);
        using (config)
        await using (front)
        await using (gone)
        {
            Assert.Matches(@"^450 4\.1\.1 <bob@edge\.test>: Recipient address rejected: unverified address: connect to 127\.0\.0\.1\[127\.0\.0\.1\]:\d+: Connection refused$",
                await RcptAsync(front, "bob@edge.test"));
            Assert.Equal("554 5.7.1 <carol@edge.test>: Recipient address rejected: Access denied", await RcptAsync(front, "carol@edge.test"));
        }
        using var reasoned = new TempDirectory();
        (EdgeProcess second, _) = await StartFrontAsync(gone, """
            smtpd_recipient_restrictions = reject_unauth_destination, reject_unverified_recipient
            unverified_recipient_reject_reason = Address lookup failed
            address_verify_poll_delay = 1s
            """, reasoned);
        await using (second)
        {
            Assert.Equal("450 4.1.1 <bob@edge.test>: Recipient address rejected: unverified address: Address lookup failed",
                await RcptAsync(second, "bob@edge.test"));
        }
    }

    /// <summary>
    /// The same main.cf in Debian's Postfix (with its qmgr, verify and smtp daemons) and in Edge, both asking the same
    /// next hop: every reply agrees, the first ("in progress") and the one after the probe, word for word.
    /// </summary>
    [Fact]
    public async Task Postfix_and_edge_answer_alike()
    {
        await using EdgeInstance nextHop = await StartNextHopAsync();
        const string MainCf = """
            smtpd_recipient_restrictions = reject_unauth_destination, reject_unverified_recipient
            unverified_recipient_reject_code = 550
            address_verify_poll_count = 1
            """;
        (EdgeProcess edge, TempDirectory config) = await StartFrontAsync(nextHop, MainCf);
        using (config)
        await using (edge)
        await using (PostfixServer postfix = await PostfixServer.StartAsync($"""
            myhostname = mx.edge.test
            mydestination = localhost
            relay_domains = edge.test
            transport_maps = texthash:{config.File("transport")}
            {MainCf}
            """, """
            qmgr      unix n - n 300 1 qmgr
            relay     unix - - n - - smtp
            """))
        {
            string[] edgeAnswers = await AnswersAsync(edge.Port);
            string[] postfixAnswers = await AnswersAsync(postfix.Port);
            Assert.True(postfixAnswers.SequenceEqual(edgeAnswers),
                $"postfix:\n{string.Join("\n", postfixAnswers)}\nedge:\n{string.Join("\n", edgeAnswers)}\n{postfix.Log}");
            Assert.Equal(UnknownAtNextHop, edgeAnswers[1]);
            Assert.Empty(await nextHop.QueuedAsync());
        }
    }

    /// <summary>Each address's first answer, and the one that follows once the probe is back (asked again until it changes).</summary>
    private static async Task<string[]> AnswersAsync(int port)
    {
        var answers = new List<string>();
        foreach (string recipient in new[] { "bob@edge.test", "alice@edge.test" })
        {
            string first = await RcptAsync(port, recipient);
            string next = first;
            for (int i = 0; i < 100 && next == first; i++)
            {
                await Task.Delay(200);
                next = await RcptAsync(port, recipient);
            }
            answers.Add(first);
            answers.Add(next);
        }
        return [.. answers];
    }
}
