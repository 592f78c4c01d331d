using Edge.Tests.Support;

namespace Edge.Tests.Integration;

/// <summary>The `edge` program as a user runs it: start-up, logs, tools, real clients, crashes.</summary>
public class CommandLineTests
{
    private static TempDirectory ConfigDirectory(string extra = "")
    {
        var directory = new TempDirectory();
        directory.Write("main.cf", EdgeInstance.BaseMainCf(directory) + "\n" + extra + "\n");
        directory.Write("master.cf", "127.0.0.1:0 inet n - n - - smtpd\n");
        return directory;
    }

    [Fact]
    public async Task Without_configuration_it_accepts_mail_for_postmaster_at_localhost_on_2525()
    {
        using var work = new TempDirectory();
        await using var edge = await EdgeProcess.StartAsync(work.Path);
        Assert.Equal(2525, edge.Port);
        string marker = $"first-message-{Guid.NewGuid():N}";
        var (exit, output) = await Peer.SwaksAsync("--server", "127.0.0.1:2525", "--to", "postmaster@localhost",
            "--from", "swaks@example.org", "--helo", "swaks.example", "--body", marker);
        Assert.True(exit == 0, output);
        Assert.Matches("<-  250 2.0.0 Ok: queued as \\w+", output);

        // As the README says: /etc/aliases sends postmaster to root, whose mailbox is /var/mail/root; nothing
        // leaves by SMTP.
        string forwarded = await edge.WaitForLogAsync(@"edge/local\[\d+\]: \w{10}: to=<postmaster@localhost>, relay=local, .*status=sent \(forwarded as \w{10}\)");
        // The forwarded copy went through cleanup like the original: its Message-ID logged, queued as active.
        string copy = System.Text.RegularExpressions.Regex.Match(forwarded, @"forwarded as (\w{10})").Groups[1].Value;
        await edge.WaitForLogAsync(@"edge/qmgr\[\d+\]: " + copy + @": from=<swaks@example\.org>, size=\d+, nrcpt=1 \(queue active\)");
        Assert.Equal(2, (await edge.WaitForLogLinesAsync(@"edge/cleanup\[\d+\]: \w{10}: message-id=<[^>]+>", 2)).Length);
        await edge.WaitForLogAsync(@"edge/local\[\d+\]: \w{10}: to=<root@[^>]+>, relay=local, .*status=sent \(delivered to mailbox\)");
        Assert.Contains(marker, File.ReadAllText("/var/mail/root"));
        Assert.DoesNotContain(edge.Log, line => line.Contains("edge/smtp["));

        var source = await Peer.SmtpSourceAsync("-s", "5", "-m", "50", "-l", "1024", "-f", "source@example.org",
            "-t", "postmaster@localhost", "127.0.0.1:2525");
        Assert.True(source.Exit == 0, source.Output);

        // All 51 were queued; local delivery may already have taken some to the postmaster's mailbox.
        Assert.Equal(51, (await edge.WaitForLogLinesAsync(@": client=localhost\[127\.0\.0\.1\]", 51)).Length);
        Assert.True(Directory.Exists(Path.Combine(work.Path, "var", "log")), "the default queue is ./var");
        await edge.WaitForLogAsync(@"edge/smtpd\[\d+\]: connect from localhost\[127\.0\.0\.1\]");
        await edge.WaitForLogAsync(@"edge/smtpd\[\d+\]: \w{10}: client=localhost\[127\.0\.0\.1\]");
        await edge.WaitForLogAsync(@"edge/qmgr\[\d+\]: \w{10}: from=<swaks@example\.org>, size=\d+, nrcpt=1 \(queue active\)");
        await edge.WaitForLogAsync(@"disconnect from localhost\[127\.0\.0\.1\] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5");
        Assert.Equal(0, await edge.TerminateAsync());
    }

    [Fact]
    public async Task A_port_in_use_is_named_as_host_and_port()
    {
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        int port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;
        using var config = ConfigDirectory();
        config.Write("master.cf", $"127.0.0.1:{port} inet n - n - - smtpd\n");
        var (exit, _, error) = await EdgeProcess.RunAsync(config.Path, "run", "-c", config.Path);
        Assert.Equal(1, exit);
        Assert.Equal($"edge run: fatal: 127.0.0.1:{port}: address already in use\n", error);
    }

    [Fact]
    public async Task Swaks_with_tls()
    {
        using var config = ConfigDirectory();
        // smtpd_tls_loglevel = 1: a summary line for each handshake (0, the default, logs none, as in Postfix).
        File.AppendAllText(config.File("main.cf"), TestCertificate.MainCf(config) + "\nsmtpd_tls_loglevel = 1\n");
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        var (exit, output) = await Peer.SwaksAsync("--server", $"127.0.0.1:{edge.Port}", "--tls",
            "--to", "postmaster@localhost", "--from", "swaks@example.org");
        Assert.True(exit == 0, output);
        Assert.Contains("TLS started", output);
        Assert.Matches("<~  250 2.0.0 Ok: queued as \\w+", output);
        await edge.WaitForLogAsync("Anonymous TLS connection established from localhost\\[127.0.0.1\\]: TLSv1");
    }

    [Fact]
    public async Task Postqueue_and_postcat_work_against_a_running_and_a_stopped_server()
    {
        using var config = ConfigDirectory();
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        var (empty, emptyText, _) = await EdgeProcess.RunAsync(config.Path, "postqueue", "-c", config.Path, "-p");
        Assert.Equal((0, "Mail queue is empty\n"), (empty, emptyText));

        var (exit, output) = await Peer.SwaksAsync("--server", $"127.0.0.1:{edge.Port}", "--to", "user@edge.test",
            "--from", "sender@example.org", "--header", "Subject: postcat me", "--body", "the body");
        Assert.True(exit == 0, output);
        string id = System.Text.RegularExpressions.Regex.Match(output, "queued as (\\w+)").Groups[1].Value;

        string running = (await EdgeProcess.RunAsync(config.Path, "postqueue", "-c", config.Path, "-p")).Out;
        Assert.StartsWith("----Queue ID----- --Size-- ---Arrival Time---- --Sender/Recipient------\n", running);
        Assert.Matches($"\n{id} +\\d+ \\w{{3}} \\w{{3}} [ \\d]\\d \\d\\d:\\d\\d:\\d\\d sender@example.org\n {{47}}user@edge.test\n", running);
        Assert.EndsWith("\n-- 0 Kbytes in 1 Request.\n", running);

        var cat = await EdgeProcess.RunAsync(config.Path, "postcat", "-c", config.Path, "-q", id);
        Assert.Equal(0, cat.Exit);
        Assert.Contains("sender: sender@example.org\n", cat.Out);
        Assert.Contains("recipient: user@edge.test\n", cat.Out);
        Assert.Contains("Subject: postcat me\r\n", cat.Out);
        Assert.Contains("the body", cat.Out);

        var missing = await EdgeProcess.RunAsync(config.Path, "postcat", "-c", config.Path, "-q", "4jX0000000");
        Assert.Equal(1, missing.Exit);
        Assert.Contains("no message with queue ID 4jX0000000", missing.Error);

        Assert.Equal(0, await edge.TerminateAsync());
        Assert.Equal(running, (await EdgeProcess.RunAsync(config.Path, "postqueue", "-c", config.Path, "-p")).Out);
        Assert.Equal(cat.Out, (await EdgeProcess.RunAsync(config.Path, "postcat", "-c", config.Path, "-q", id)).Out);
    }

    [Fact]
    public async Task Kill_9_loses_no_acknowledged_message()
    {
        using var config = ConfigDirectory();
        var acknowledged = new System.Collections.Concurrent.ConcurrentBag<string>();
        var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        await using (edge)
        {
            using var stop = new CancellationTokenSource();
            Task load = Peer.SmtpSourceAsync("-s", "20", "-m", "100000", "-l", "1024", "-f", "load@example.org",
                "-t", "postmaster@localhost", $"127.0.0.1:{edge.Port}");
            Task[] clients = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
            {
                try
                {
                    await using var c = await SmtpConnection.OpenAsync(edge.Port);
                    await c.CommandAsync("EHLO counter.example");
                    while (!stop.IsCancellationRequested)
                    {
                        await c.CommandAsync("MAIL FROM:<counted@example.org>");
                        await c.CommandAsync("RCPT TO:<postmaster@localhost>");
                        await c.CommandAsync("DATA");
                        string reply = await c.CommandAsync("Subject: counted\r\n\r\n" + new string('x', 1000) + "\r\n.");
                        if (reply.StartsWith("250 2.0.0 Ok: queued as "))
                        {
                            acknowledged.Add(reply.Split(' ')[^1]);
                        }
                    }
                }
                catch (IOException)
                {
                    // The server died under us: that is the point.
                }
            })).ToArray();
            await Task.Delay(TimeSpan.FromSeconds(3));
            await edge.KillAsync();
            stop.Cancel();
            await Task.WhenAll(clients);
            await load;
            Assert.True(acknowledged.Count > 10, $"only {acknowledged.Count} messages were acknowledged before the kill");
        }

        string mailq = (await EdgeProcess.RunAsync(config.Path, "postqueue", "-c", config.Path, "-p")).Out;
        var listed = mailq.Split('\n').Where(l => l.Length > 10 && char.IsAsciiLetterOrDigit(l[0]) && !l.StartsWith("--"))
            .Select(l => l.Split(' ')[0]).ToHashSet();
        var restarted = await EdgeProcess.StartAsync(config.Path, config.Path);
        await restarted.DisposeAsync();
        Assert.Contains($"with {listed.Count} messages", restarted.Log[^1] + string.Join("\n", restarted.Log));
        foreach (string id in acknowledged)
        {
            Assert.Contains(id, listed);
        }
    }

    [Fact]
    public async Task Sigterm_tells_waiting_clients_and_stops_promptly()
    {
        using var config = ConfigDirectory();
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        await using var c = await SmtpConnection.OpenAsync(edge.Port);
        await c.CommandAsync("EHLO client.example");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Task<int> exit = edge.TerminateAsync();
        Assert.Equal("421 4.3.2 Service shutting down", await c.ReadReplyAsync());
        Assert.True(await c.IsClosedAsync());
        Assert.Equal(0, await exit);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"shutdown took {clock.Elapsed}");
    }

    [Fact]
    public async Task A_second_server_on_the_same_queue_is_refused()
    {
        using var config = ConfigDirectory();
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        var second = await EdgeProcess.RunAsync(config.Path, "run", "-c", config.Path);
        Assert.Equal(1, second.Exit);
        Assert.Contains($"is in use by another Edge process (pid {edge.Pid})", second.Error);
    }

    [Theory]
    [InlineData("smtpd_timeout = soon", "main.cf, line 6: parameter smtpd_timeout:")]
    [InlineData("message_size_limit = -5", "main.cf, line 6: parameter message_size_limit:")]
    [InlineData("smtpd_forbid_bare_newline = sometimes", "main.cf, line 6: parameter smtpd_forbid_bare_newline:")]
    [InlineData("mynetworks = 10.0.0.0/99", "main.cf, line 6: parameter mynetworks:")]
    [InlineData("this line is not a parameter", "main.cf, line 6:")]
    public async Task A_bad_main_cf_stops_start_up_naming_file_line_and_parameter(string line, string expected)
    {
        using var config = ConfigDirectory(line);
        var (exit, output, error) = await EdgeProcess.RunAsync(config.Path, "run", "-c", config.Path);
        Assert.Equal(1, exit);
        Assert.Contains(expected, error);
        Assert.DoesNotContain("   at ", error);
        Assert.DoesNotContain("daemon started", output);
    }

    [Fact]
    public async Task A_bad_concurrency_feedback_stops_start_up_naming_it()
    {
        using var config = ConfigDirectory("default_destination_concurrency_negative_feedback = lots");
        config.Write("master.cf", "127.0.0.1:0 inet n - n - - smtpd\nqmgr unix n - n 300 1 qmgr\nsmtp unix - - n - - smtp\n");
        var (exit, output, error) = await EdgeProcess.RunAsync(config.Path, "run", "-c", config.Path);
        Assert.Equal(1, exit);
        Assert.Contains("main.cf, line 6: parameter default_destination_concurrency_negative_feedback: bad feedback \"lots\"", error);
        Assert.DoesNotContain("   at ", error);
        Assert.DoesNotContain("daemon started", output);
    }

    [Fact]
    public async Task A_bad_master_cf_line_is_named()
    {
        using var config = ConfigDirectory();
        File.AppendAllText(config.File("master.cf"), "# comment\nsmtp inet n - n - smtpd\n");
        var (exit, _, error) = await EdgeProcess.RunAsync(config.Path, "run", "-c", config.Path);
        Assert.Equal(1, exit);
        Assert.Contains("master.cf, line 3:", error);
    }

    [Fact]
    public async Task An_unknown_parameter_is_only_a_warning()
    {
        using var config = ConfigDirectory("frobnicate_level = 11");
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        await edge.WaitForLogAsync("warning: .*main.cf, line 6: unused parameter: frobnicate_level=11");
    }
}
