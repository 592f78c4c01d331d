using System.Globalization;
using System.Net;
using System.Text.Json;
using Edge.Cli;
using Edge.Tests.Support;

namespace Edge.Tests.Load;

/// <summary>
/// edge sink as a load-test target: what it counts is what the client sent, and each behaviour its options ask for
/// (delays, 4xx/5xx fractions, per-recipient answers, greylisting, disconnects, STARTTLS, CHUNKING, SMTPUTF8, PROXY,
/// policies, --keep) is what a client sees, checked with edge source and with plain SMTP dialogues.
/// </summary>
public class SinkTests
{
    private static async Task<JsonElement> SourceAsync(params string[] args)
    {
        var output = new StringWriter();
        await SourceCommand.RunAsync([.. args, "--json"], output, CancellationToken.None);
        return JsonDocument.Parse(output.ToString()).RootElement;
    }

    private static long Count(JsonElement report, string name) => report.GetProperty(name).GetInt64();

    private static long Latencies(JsonElement report, string stage) =>
        report.GetProperty("latency_ms").TryGetProperty(stage, out JsonElement figures) ? figures.GetProperty("count").GetInt64() : 0;

    /// <summary>Small messages are copied into edge source's one write, big ones (over 16 KiB) sent from where they are: both arrive whole, over TLS too.</summary>
    [Theory]
    [InlineData("--pipelining", 3000, false)]
    [InlineData("--bdat", 3000, false)]
    [InlineData("--pipelining", 100_000, false)]
    [InlineData("--bdat", 100_000, false)]
    [InlineData("--pipelining", 100_000, true)]
    [InlineData("--bdat", 100_000, true)]
    public async Task What_it_counts_is_what_edge_source_sent(string how, int size, bool tls) =>
        await CountsWhatWasSentAsync(how, size, tls, SourceAsync);

    /// <summary>
    /// What <paramref name="source"/> (edge source's run: its arguments, its JSON report) sent <c>--keep</c>ing edge sink
    /// is what the sink counted and kept.
    /// </summary>
    internal static async Task CountsWhatWasSentAsync(string how, int size, bool tls, Func<string[], Task<JsonElement>> source)
    {
        using var directory = new TempDirectory();
        await using var sink = await RunningSink.StartAsync(["--keep", directory.Path, .. tls ? new[] { "--tls" } : []]);
        JsonElement sent = await source(["-s", "4", "-m", "40", "--per-session", "5", "-l", size.ToString(CultureInfo.InvariantCulture), "-r", "2", how,
            "--pipelining", .. tls ? new[] { "--starttls" } : [], sink.Target]);
        JsonElement seen = await sink.StopAsync();

        Assert.Equal(40, Count(sent, "accepted"));
        Assert.Equal(40, Count(seen, "messages"));
        Assert.Equal(80, Count(seen, "recipients"));
        Assert.Equal(8, Count(seen, "sessions"));
        Assert.Equal(0, Count(seen, "lost"));
        Assert.Equal(0, Count(seen, "open"));
        Assert.Equal(Count(sent, "bytes"), Count(seen, "bytes"));
        Assert.InRange(Count(seen, "bytes"), 40 * (size - 200), 40 * (size + 200));
        // Each message whole and in order: the sink's lines, the generated headers, then the body's first line.
        string[] kept = [.. Directory.GetFiles(directory.Path, "*.eml").Select(File.ReadAllText)];
        Assert.Equal(40, kept.Length);
        Assert.All(kept, file => Assert.Matches(
            @"^X-Client-Addr: [^\r]+\r\n(X-[^\r]+\r\n)+From: <source@example\.com>\r\nTo: <[^>]+>\r\nSubject: edge source message \d+\r\nMessage-Id: <[^>]+>\r\n\r\n(abcdefghijklmnopqrstuvwxyz){3}\r\n", file));
        // Every reply the source counted, the sink sent, code by code.
        foreach (JsonProperty code in sent.GetProperty("replies").EnumerateObject())
        {
            Assert.Equal(code.Value.GetInt64(), seen.GetProperty("replies").GetProperty(code.Name).GetInt64());
        }
        Assert.Equal(80, Latencies(seen, "rcpt"));
        Assert.Equal(40, Latencies(seen, "content"));
    }

    /// <summary>Sample messages in turn, as they are (LF line ends made CRLF, a leading dot stuffed for DATA), counted by their own size.</summary>
    [Theory]
    [InlineData("--pipelining")]
    [InlineData("--bdat")]
    public async Task Sample_messages_arrive_as_they_are(string how)
    {
        using var samples = new TempDirectory();
        samples.Write("1.eml", "Subject: one\n\n.a line that starts with a dot\nlast line\n");
        // Over 16 KiB: sent from where it is, not copied.
        string lines = string.Concat(Enumerable.Repeat(new string('x', 48) + "\r\n", 500));
        samples.Write("2.eml", "Subject: two\r\n\r\n" + lines);
        using var directory = new TempDirectory();
        await using var sink = await RunningSink.StartAsync("--keep", directory.Path);
        JsonElement sent = await SourceAsync("-s", "1", "-m", "4", "--per-session", "4", "--messages-from", samples.Path, how, "--pipelining", sink.Target);
        JsonElement seen = await sink.StopAsync();

        Assert.Equal(4, Count(sent, "accepted"));
        long expected = 2 * ("Subject: one\r\n\r\n.a line that starts with a dot\r\nlast line\r\n".Length + "Subject: two\r\n\r\n".Length + lines.Length);
        Assert.Equal(expected, Count(sent, "bytes"));
        Assert.Equal(expected, Count(seen, "bytes"));
        string[] messages = [.. Directory.GetFiles(directory.Path, "*.eml").Select(File.ReadAllText)
            .Select(file => file[(file.IndexOf("\r\nSubject: ", StringComparison.Ordinal) + 2)..]).Order(StringComparer.Ordinal)];
        Assert.Equal(["Subject: one\r\n\r\n.a line that starts with a dot\r\nlast line\r\n", "Subject: one\r\n\r\n.a line that starts with a dot\r\nlast line\r\n",
            $"Subject: two\r\n\r\n{lines}", $"Subject: two\r\n\r\n{lines}"], messages);
    }

    [Fact]
    public async Task A_sink_answering_30_percent_4xx_is_reported_as_such()
    {
        await using var sink = await RunningSink.StartAsync("--defer", "rcpt=30%");
        JsonElement sent = await SourceAsync("-s", "10", "-m", "1000", "--per-session", "50", "--pipelining", sink.Target);
        JsonElement seen = await sink.StopAsync();

        long deferred = RunningSink.Reply(seen, 450);
        Assert.InRange(deferred / 1000.0, 0.22, 0.38);
        Assert.Equal(deferred, RunningSink.Reply(sent, 450));
        // One recipient a message: a deferred recipient is a message not sent.
        Assert.Equal(deferred, Count(sent, "refused"));
        Assert.Equal(1000 - deferred, Count(sent, "accepted"));
        Assert.Equal(1000 - deferred, Count(seen, "messages"));
    }

    [Fact]
    public async Task Fractions_refuse_at_their_stage_with_4xx_or_5xx()
    {
        await using var sink = await RunningSink.StartAsync("--reject", "content=1", "--defer", "mail=0");
        await using (var c = await SmtpConnection.OpenAsync(sink.Port))
        {
            await c.EnvelopeAsync();
            Assert.StartsWith("354", await c.CommandAsync("DATA"));
            Assert.Equal("554 5.7.1 Message rejected (edge sink)", await c.CommandAsync("Subject: x\r\n\r\nbody\r\n."));
        }
        JsonElement seen = await sink.StopAsync();
        Assert.Equal(0, Count(seen, "messages"));
        Assert.Equal(1, Count(seen, "refused"));

        await using var helo = await RunningSink.StartAsync("--defer", "helo=1", "--reject", "data=100%");
        await using var d = await SmtpConnection.OpenAsync(helo.Port);
        Assert.Equal("450 4.7.1 Helo command rejected: try again later (edge sink)", await d.CommandAsync("EHLO client.example"));
        Assert.Equal("250 2.1.0 Ok", await d.CommandAsync("MAIL FROM:<a@example.org>"));
        Assert.Equal("250 2.1.5 Ok", await d.CommandAsync("RCPT TO:<b@example.org>"));
        Assert.Equal("554 5.7.1 Data command rejected (edge sink)", await d.CommandAsync("DATA"));
        // Refused at BDAT's first chunk as at DATA: the chunk is read and thrown away, never taken as commands.
        Assert.Equal("554 5.7.1 Data command rejected (edge sink)", await d.BdatAsync("QUIT\r\n", last: true));
        Assert.Equal("250 2.0.0 Ok", await d.CommandAsync("NOOP"));
    }

    [Fact]
    public async Task Delays_are_seen_by_the_client_and_reported_by_both_sides()
    {
        await using var sink = await RunningSink.StartAsync("--greeting-delay", "0.3", "--delay", "rcpt=0.2", "--delay", "content=0.1");
        JsonElement sent = await SourceAsync("-s", "2", "-m", "2", sink.Target);
        JsonElement seen = await sink.StopAsync();

        Assert.Equal(2, Count(sent, "accepted"));
        // The runtime's timers run on a coarse clock: a wait may end a few milliseconds early by the stopwatch.
        Assert.True(sent.GetProperty("latency_ms").GetProperty("greeting").GetProperty("p50").GetDouble() >= 285, sent.ToString());
        Assert.True(sent.GetProperty("latency_ms").GetProperty("rcpt").GetProperty("p50").GetDouble() >= 190, sent.ToString());
        Assert.True(sent.GetProperty("latency_ms").GetProperty("content").GetProperty("p50").GetDouble() >= 95, sent.ToString());
        Assert.True(seen.GetProperty("latency_ms").GetProperty("greeting").GetProperty("p50").GetDouble() >= 285, seen.ToString());
        Assert.True(seen.GetProperty("latency_ms").GetProperty("mail").GetProperty("p50").GetDouble() < 100, seen.ToString());
    }

    [Fact]
    public async Task Recipients_get_the_answer_of_the_first_pattern_that_matches()
    {
        await using var sink = await RunningSink.StartAsync("--rcpt", "*@gone.example=550 5.1.1 No such user", "--rcpt", "/^full[0-9]+@/=452 4.2.2 Mailbox full",
            "--rcpt", "vip@*=250 2.1.5 Welcome", "--reject", "rcpt=1");
        await using var c = await SmtpConnection.OpenAsync(sink.Port);
        Assert.StartsWith("250-", await c.CommandAsync("EHLO client.example"));
        Assert.Equal("250 2.1.0 Ok", await c.CommandAsync("MAIL FROM:<a@example.org>"));
        Assert.Equal("550 5.1.1 No such user", await c.CommandAsync("RCPT TO:<Someone@GONE.example>"));
        Assert.Equal("452 4.2.2 Mailbox full", await c.CommandAsync("RCPT TO:<full12@example.org>"));
        Assert.Equal("250 2.1.5 Welcome", await c.CommandAsync("RCPT TO:<vip@example.org>"));
        // No pattern matches: --reject rcpt=1 answers.
        Assert.Equal("550 5.1.1 Recipient address rejected (edge sink)", await c.CommandAsync("RCPT TO:<fuller@example.org>"));
        Assert.StartsWith("354", await c.CommandAsync("DATA"));
        Assert.StartsWith("250 2.0.0 Ok: queued as ", await c.CommandAsync("Subject: x\r\n\r\nbody\r\n."));
        await c.CommandAsync("QUIT");
        JsonElement seen = await sink.StopAsync();
        Assert.Equal(1, Count(seen, "recipients"));
    }

    [Fact]
    public async Task Greylisting_defers_a_triplet_until_its_time_has_passed()
    {
        await using var sink = await RunningSink.StartAsync("--greylist", "1");
        async Task<string> TryAsync(string sender, string recipient)
        {
            await using var c = await SmtpConnection.OpenAsync(sink.Port);
            await c.CommandAsync("EHLO client.example");
            await c.CommandAsync($"MAIL FROM:<{sender}>");
            return await c.CommandAsync($"RCPT TO:<{recipient}>");
        }

        Assert.StartsWith("450 4.2.0 <b@example.org>: Recipient address rejected: Greylisted", await TryAsync("a@example.org", "b@example.org"));
        Assert.StartsWith("450 4.2.0", await TryAsync("a@example.org", "b@example.org"));
        await Task.Delay(1100);
        // The same triplet, whatever the case of its addresses, passes once its time is up.
        Assert.Equal("250 2.1.5 Ok", await TryAsync("A@EXAMPLE.org", "B@example.org"));
        // Another sender is another triplet, greylisted from its own first attempt.
        Assert.StartsWith("450 4.2.0", await TryAsync("c@example.org", "b@example.org"));
    }

    [Fact]
    public async Task A_disconnect_in_the_middle_of_the_content_leaves_the_message_unanswered()
    {
        await using var sink = await RunningSink.StartAsync("--disconnect", "1");
        await using (var c = await SmtpConnection.OpenAsync(sink.Port))
        {
            await c.EnvelopeAsync();
            Assert.StartsWith("354", await c.CommandAsync("DATA"));
            await c.SendAsync("Subject: x\r\n\r\nbody\r\n.\r\n");
            Assert.True(await c.IsClosedAsync());
        }
        JsonElement sent = await SourceAsync("-s", "2", "-m", "4", sink.Target);
        JsonElement seen = await sink.StopAsync();

        Assert.Equal(0, Count(sent, "accepted"));
        Assert.Equal(4, Count(sent, "session_errors"));
        Assert.Equal(5, Count(seen, "dropped"));
        Assert.Equal(0, Count(seen, "lost"));
        Assert.Equal(0, Count(seen, "messages"));
    }

    [Fact]
    public async Task StartTls_with_a_made_certificate_or_a_given_one()
    {
        await using (var sink = await RunningSink.StartAsync("--tls"))
        {
            JsonElement sent = await SourceAsync("-s", "2", "-m", "6", "--per-session", "3", "--starttls", "--bdat", sink.Target);
            JsonElement seen = await sink.StopAsync();
            Assert.Equal(6, Count(sent, "accepted"));
            Assert.Equal(2, Latencies(sent, "starttls"));
            Assert.Equal(2, Latencies(seen, "starttls"));
            Assert.Equal(6, Count(seen, "messages"));
        }

        using var directory = new TempDirectory();
        (string cert, string key) = TestCertificate.WritePem(directory);
        await using var given = await RunningSink.StartAsync("--tls-cert", cert, "--tls-key", key);
        await using var c = await SmtpConnection.OpenAsync(given.Port);
        Assert.Contains("250-STARTTLS", await c.CommandAsync("EHLO client.example"));
        Assert.Equal("220 2.0.0 Ready to start TLS", await c.CommandAsync("STARTTLS"));
        await c.StartTlsAsync();
        string ehlo = await c.CommandAsync("EHLO client.example");
        Assert.DoesNotContain("STARTTLS", ehlo);
        Assert.Contains("CHUNKING", ehlo);
        Assert.Equal("554 5.5.1 Error: TLS already active", await c.CommandAsync("STARTTLS"));
    }

    [Fact]
    public async Task Extensions_can_be_withheld_and_SMTPUTF8_is_taken_when_offered()
    {
        await using (var sink = await RunningSink.StartAsync())
        {
            await using var c = await SmtpConnection.OpenAsync(sink.Port);
            string ehlo = await c.CommandAsync("EHLO client.example");
            Assert.Contains("250-PIPELINING", ehlo);
            Assert.Contains("CHUNKING", ehlo);
            Assert.Contains("SMTPUTF8", ehlo);
            Assert.DoesNotContain("STARTTLS", ehlo);
            Assert.Equal("250 2.1.0 Ok", await c.CommandAsync("MAIL FROM:<jörg@bücher.example> SMTPUTF8"));
            Assert.Equal("250 2.1.5 Ok", await c.CommandAsync("RCPT TO:<ünal@example.org>"));
            Assert.Equal("502 5.5.1 Error: command not implemented", await c.CommandAsync("STARTTLS"));
        }

        await using var bare = await RunningSink.StartAsync("--no-chunking", "--no-smtputf8", "--no-pipelining");
        await using var d = await SmtpConnection.OpenAsync(bare.Port);
        string plain = await d.CommandAsync("EHLO client.example");
        Assert.DoesNotContain("CHUNKING", plain);
        Assert.DoesNotContain("SMTPUTF8", plain);
        Assert.DoesNotContain("PIPELINING", plain);
        Assert.StartsWith("555 5.5.4", await d.CommandAsync("MAIL FROM:<a@example.org> SMTPUTF8"));
        Assert.Equal("250 2.1.0 Ok", await d.CommandAsync("MAIL FROM:<a@example.org>"));
        Assert.Equal("500 5.5.2 Error: command not recognized", await d.BdatAsync("0123456789", last: true));
    }

    [Fact]
    public async Task Only_a_real_end_of_data_ends_the_content()
    {
        using var directory = new TempDirectory();
        await using var sink = await RunningSink.StartAsync("--keep", directory.Path);
        await using var c = await SmtpConnection.OpenAsync(sink.Port);
        await c.EnvelopeAsync("a@example.org", "b@example.org");
        Assert.StartsWith("354", await c.CommandAsync("DATA"));
        // A smuggled end ("\n.\n") and the commands after it are content.
        Assert.StartsWith("250 2.0.0 Ok: queued as ", await c.CommandAsync("Subject: x\r\n\r\nbody\n.\nMAIL FROM:<evil@example.org>\r\nRCPT TO:<victim@example.org>\r\n."));
        Assert.Equal("503 5.5.1 Error: need RCPT command", await c.CommandAsync("DATA"));
        string kept = File.ReadAllText(Assert.Single(Directory.GetFiles(directory.Path, "*.eml")));
        Assert.Contains("MAIL FROM:<evil@example.org>", kept);
    }

    [Fact]
    public async Task Kept_messages_name_the_client_a_proxy_header_gives()
    {
        using var directory = new TempDirectory();
        await using var sink = await RunningSink.StartAsync("--proxy", "--keep", directory.Path);
        // Without a header the connection is closed unanswered.
        using var client = new System.Net.Sockets.TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, sink.Port);
        await client.GetStream().WriteAsync("EHLO client.example\r\n"u8.ToArray());
        Assert.Equal(0, await client.GetStream().ReadAsync(new byte[100]));

        JsonElement sent = await SourceAsync("-s", "3", "-m", "6", "--per-session", "2", "-l", "500", "--proxy", "2", "--proxy-from", "198.51.100.0/30",
            "-t", "user{n}@example.org", sink.Target);
        JsonElement seen = await sink.StopAsync();

        Assert.Equal(6, Count(sent, "accepted"));
        Assert.Equal(6, Count(seen, "messages"));
        string[] kept = [.. Directory.GetFiles(directory.Path, "*.eml").Select(File.ReadAllText)];
        Assert.Equal(6, kept.Length);
        Assert.Empty(Directory.GetFiles(directory.Path, ".*"));
        Assert.All(kept, file => Assert.Matches(@"^X-Client-Addr: 198\.51\.100\.[0-3]\r\nX-Client-Proto: ESMTP\r\nX-Helo-Args: source\.example\r\nX-Mail-Args: <source@example\.com>\r\nX-Rcpt-Args: <user[1-6]@example\.org>\r\n", file));
        Assert.Equal(6, kept.Select(file => file.Split("X-Rcpt-Args: ")[1].Split("\r\n")[0]).Distinct().Count());
    }

    [Fact]
    public async Task A_policy_script_answers_at_each_stage()
    {
        using var directory = new TempDirectory();
        directory.Write("policy.js", """
            function helo(r) { return r.helo_name === "bad.example" ? "REJECT go away" : "DUNNO"; }
            function rcpt(r) {
              if (r.recipient.startsWith("later")) return "DEFER";
              if (r.recipient.startsWith("odd")) return "permit_mynetworks";
              return r.client_address === "127.0.0.1" && r.sender === "a@example.org" ? "DUNNO" : "REJECT who are you";
            }
            function endOfData(message) {
              const subject = message.headers.find(h => h.name === "Subject")?.value.trim();
              return subject === "spam" ? "REJECT 5.7.2 No spam" : subject === "bye" ? "421 4.3.2 Closing" : "OK";
            }
            """);
        directory.Write("main.cf", $"edge_policy_store = faster:{directory.File("store")}\n");
        await using var sink = await RunningSink.StartAsync("-c", directory.Path, "--policy", directory.File("policy.js"));
        Assert.Contains("edge sink keeps the policy's store in memory", sink.Errors.ToString());
        await using var c = await SmtpConnection.OpenAsync(sink.Port);
        Assert.Equal("554 5.7.1 go away", await c.CommandAsync("EHLO bad.example"));
        Assert.StartsWith("250-", await c.CommandAsync("EHLO good.example"));
        Assert.Equal("250 2.1.0 Ok", await c.CommandAsync("MAIL FROM:<a@example.org>"));
        Assert.Equal("450 4.7.1 Service unavailable", await c.CommandAsync("RCPT TO:<later@example.org>"));
        Assert.Equal("451 4.3.5 Server configuration error", await c.CommandAsync("RCPT TO:<odd@example.org>"));
        Assert.Equal("250 2.1.5 Ok", await c.CommandAsync("RCPT TO:<b@example.org>"));
        Assert.StartsWith("354", await c.CommandAsync("DATA"));
        Assert.Equal("554 5.7.2 No spam", await c.CommandAsync("Subject: spam\r\n\r\nbody\r\n."));
        Assert.Equal("250 2.1.0 Ok", await c.CommandAsync("MAIL FROM:<z@example.org>"));
        Assert.Equal("554 5.7.1 who are you", await c.CommandAsync("RCPT TO:<b@example.org>"));
        Assert.Equal("250 2.0.0 Ok", await c.CommandAsync("RSET"));
        Assert.Equal("250 2.1.0 Ok", await c.CommandAsync("MAIL FROM:<a@example.org>"));
        Assert.Equal("250 2.1.5 Ok", await c.CommandAsync("RCPT TO:<b@example.org>"));
        Assert.Equal("250 2.0.0 Ok", await c.CommandAsync("NOOP"));
        Assert.StartsWith("250 2.0.0 Ok: 22 bytes queued as ", await c.BdatAsync("Subject: ham\r\n\r\nbody\r\n", last: true));
        // A 421 at the end of the data ends the connection, pipelined commands after it unanswered.
        Assert.Equal("250 2.1.0 Ok", await c.CommandAsync("MAIL FROM:<a@example.org>"));
        Assert.Equal("250 2.1.5 Ok", await c.CommandAsync("RCPT TO:<b@example.org>"));
        Assert.StartsWith("354", await c.CommandAsync("DATA"));
        await c.SendAsync("Subject: bye\r\n\r\nbody\r\n.\r\nMAIL FROM:<a@example.org>\r\n");
        // Everything until the sink closes: the 421 and nothing after it.
        Assert.Equal("421 4.3.2 Closing\r\n", await c.ReadAvailableAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task Nothing_a_client_sends_around_chunks_and_handshakes_is_read_as_commands()
    {
        await using var sink = await RunningSink.StartAsync("--tls");
        await using (var c = await SmtpConnection.OpenAsync(sink.Port))
        {
            await c.CommandAsync("EHLO client.example");
            // Plain text pipelined after STARTTLS is thrown away, never answered after the handshake.
            await c.SendAsync("STARTTLS\r\nMAIL FROM:<smuggled@example.org>\r\n");
            Assert.Equal("220 2.0.0 Ready to start TLS", await c.ReadReplyAsync());
            await c.StartTlsAsync();
            Assert.Equal("503 5.5.1 Error: need RCPT command", await c.CommandAsync("DATA"));
            // An over-long DATA line is refused: what follows it is not content.
            Assert.Equal("501 5.5.4 Syntax: DATA", await c.CommandAsync("DATA " + new string(' ', 5000)));
            Assert.Equal("250 2.0.0 Ok", await c.CommandAsync("NOOP"));
        }

        await using (var c = await SmtpConnection.OpenAsync(sink.Port))
        {
            await c.EnvelopeAsync("a@example.org", "b@example.org");
            Assert.Equal("250 2.0.0 Ok: 12 bytes", await c.BdatAsync("RSET\r\nQUIT\r\n"));
            Assert.Equal("503 5.5.1 Error: DATA after BDAT", await c.CommandAsync("DATA"));
            Assert.Equal("551 5.7.1 Null BDAT request", await c.BdatAsync(""));
            Assert.StartsWith("250 2.0.0 Ok: 26 bytes queued as ", await c.BdatAsync("Subject: x\r\n\r\n", last: true));
            // BDAT 0 LAST without a transaction, and a chunk before any recipient: read, thrown away, refused.
            Assert.Equal("503 5.5.1 Error: need RCPT command", await c.BdatAsync("", last: true));
            Assert.Equal("250 2.1.0 Ok", await c.CommandAsync("MAIL FROM:<a@example.org>"));
            Assert.Equal("554 5.5.1 Error: no valid recipients", await c.BdatAsync("QUIT\r\n", last: true));
        }
        JsonElement seen = await sink.StopAsync();
        Assert.Equal(1, Count(seen, "messages"));
        Assert.Equal(26, Count(seen, "bytes"));

        await using var plain = await RunningSink.StartAsync("--no-chunking", "--reject", "data=1");
        await using var d = await SmtpConnection.OpenAsync(plain.Port);
        await d.EnvelopeAsync("a@example.org", "b@example.org");
        // Not offered, sent anyway: the chunk is still read as a chunk.
        Assert.Equal("500 5.5.2 Error: command not recognized", await d.BdatAsync("QUIT\r\n", last: true));
        Assert.Equal("554 5.7.1 Data command rejected (edge sink)", await d.CommandAsync("DATA"));
        Assert.Equal("250 2.0.0 Ok", await d.CommandAsync("NOOP"));
    }

    [Fact]
    public async Task Refusals_at_connect_and_421s_end_as_Postfix_ends_them()
    {
        using var directory = new TempDirectory();
        directory.Write("policy.js", """
            let connections = 0;
            function connect(r) { return connections++ % 2 === 0 ? "DEFER come back later" : "REJECT not here"; }
            """);
        await using (var sink = await RunningSink.StartAsync("--policy", directory.File("policy.js")))
        {
            var greetings = new List<string>();
            for (int i = 0; i < 2; i++)
            {
                await using var c = await SmtpConnection.OpenAsync(sink.Port, readGreeting: false);
                string greeting = await c.ReadReplyAsync();
                greetings.Add(greeting[..3]);
                if (greeting.StartsWith("421", StringComparison.Ordinal))
                {
                    Assert.Equal("421 4.7.1 come back later", greeting);
                    Assert.True(await c.IsClosedAsync());
                    continue;
                }
                // RFC 5321 3.1: refused at connect, the client is told so until it says QUIT.
                Assert.Equal("554 5.7.1 not here", greeting);
                Assert.Equal("503 5.7.1 Error: access denied (edge sink)", await c.CommandAsync("EHLO client.example"));
                Assert.Equal("503 5.7.1 Error: access denied (edge sink)", await c.CommandAsync("MAIL FROM:<a@example.org>"));
                // A chunk sent anyway is read as a chunk: the QUIT in it is content.
                Assert.Equal("503 5.7.1 Error: access denied (edge sink)", await c.BdatAsync("QUIT\r\n", last: true));
                Assert.Equal("250 2.0.0 Ok", await c.CommandAsync("NOOP"));
                Assert.Equal("221 2.0.0 Bye", await c.CommandAsync("QUIT"));
            }
            Assert.Equal(["421", "554"], greetings);
        }

        await using var busy = await RunningSink.StartAsync("--rcpt", "*@busy.example=421 4.3.2 Service shutting down");
        await using var d = await SmtpConnection.OpenAsync(busy.Port);
        await d.CommandAsync("EHLO client.example");
        await d.CommandAsync("MAIL FROM:<a@example.org>");
        Assert.Equal("421 4.3.2 Service shutting down", await d.CommandAsync("RCPT TO:<x@busy.example>"));
        Assert.True(await d.IsClosedAsync());
        JsonElement seen = await busy.StopAsync();
        Assert.Equal(0, Count(seen, "lost"));
    }

    [Fact]
    public async Task Reports_come_every_few_seconds_and_as_metrics()
    {
        using var directory = new TempDirectory();
        int metricsPort = FreePorts.Tcp();
        (string cert, string key) = TestCertificate.WritePem(directory);
        directory.Write("main.cf", $"edge_metrics_listen = 127.0.0.1:{metricsPort}\nsmtpd_recipient_restrictions = reject\n" +
            $"smtpd_tls_cert_file = {cert}\nsmtpd_tls_key_file = {key}\n");
        await using var sink = await RunningSink.StartAsync("-c", directory.Path, "--report", "0.2", "--defer", "rcpt=1");
        Assert.Contains("smtpd_recipient_restrictions, which edge sink does not apply", sink.Errors.ToString());
        Assert.Contains("sets smtpd_tls_cert_file, but edge sink offers STARTTLS only with --tls", sink.Errors.ToString());
        JsonElement sent = await SourceAsync("-s", "2", "-m", "4", "-r", "1", sink.Target);
        Assert.Equal(4, Count(sent, "refused"));
        await Task.Delay(500);
        Assert.True(sink.Output.Split("\"listening\"").Length > 2, sink.Output);

        using var http = new HttpClient();
        string metrics = await http.GetStringAsync($"http://127.0.0.1:{metricsPort}/metrics");
        Assert.Matches("edge_sink_sessions_total(\\{\\})? 4\n", metrics);
        Assert.Contains("edge_sink_replies_total{code=\"450\"} 4", metrics);
        Assert.Matches("edge_sink_latency_seconds\\{quantile=\"0.5\",stage=\"rcpt\"\\} [0-9.eE-]+", metrics);
        JsonElement seen = await sink.StopAsync();
        Assert.Equal(4, RunningSink.Reply(seen, 450));
    }

    [Fact]
    public async Task A_behaviour_file_sets_what_the_options_would_and_its_mistakes_are_named()
    {
        using var directory = new TempDirectory();
        directory.Write("behaviour", "# answers for the test\ndefer = rcpt=1\nrcpt = *@ok.example=250 2.1.5 Fine\nno-chunking = yes\n");
        await using (var sink = await RunningSink.StartAsync("--behaviour", directory.File("behaviour")))
        {
            await using var c = await SmtpConnection.OpenAsync(sink.Port);
            Assert.DoesNotContain("CHUNKING", await c.CommandAsync("EHLO client.example"));
            await c.CommandAsync("MAIL FROM:<a@example.org>");
            Assert.StartsWith("450 4.2.0", await c.CommandAsync("RCPT TO:<b@example.org>"));
            Assert.Equal("250 2.1.5 Fine", await c.CommandAsync("RCPT TO:<b@ok.example>"));
        }

        directory.Write("broken", "delay = rcpt=0.1\n\ngreylist 5\n");
        UsageException error = await Assert.ThrowsAsync<UsageException>(() => SinkCommand.RunAsync(["--behaviour", directory.File("broken"), "127.0.0.1:0"],
            TextWriter.Null, TextWriter.Null, CancellationToken.None));
        Assert.Contains("broken, line 3", error.Message);
        directory.Write("bad-value", "# a fraction over 1\ndefer = rcpt=1.5\n");
        error = await Assert.ThrowsAsync<UsageException>(() => SinkCommand.RunAsync(["--behaviour", directory.File("bad-value"), "127.0.0.1:0"],
            TextWriter.Null, TextWriter.Null, CancellationToken.None));
        Assert.True(error.Message.StartsWith($"{directory.File("bad-value")}, line 2: --defer: \"1.5\" is not a fraction", StringComparison.Ordinal), error.Message);
        foreach (string[] args in new string[][] { ["--defer", "rcpt=1.5"], ["--delay", "quit=1"], ["--defer", "mail,rcpt=0.5"], ["--rcpt", "*@x=hello"],
                     ["--rcpt", "/^(?!postmaster)/=550 5.1.1 No"], ["--tls-key", "k.pem"], ["--keep", ""], ["--hostname", "a b"] })
        {
            UsageException bad = await Assert.ThrowsAsync<UsageException>(() => SinkCommand.RunAsync([.. args, "127.0.0.1:0"], TextWriter.Null, TextWriter.Null, CancellationToken.None));
            Assert.StartsWith(args[0], bad.Message);
        }
    }
}
