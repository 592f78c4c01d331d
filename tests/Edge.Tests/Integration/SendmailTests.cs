using System.Runtime.Versioning;
using Edge.Tests.Delivery;
using Edge.Tests.Support;

namespace Edge.Tests.Integration;

/// <summary>
/// edge sendmail, as cron and scripts use Postfix's: the message goes into the maildrop and the pickup service takes
/// it through cleanup into the queue, at once with the server running, or when it starts.
/// </summary>
[UnsupportedOSPlatform("windows")]
public class SendmailTests
{
    private const string Message = """
        To: User <user@sink.example>
        Bcc: hidden@sink.example
        Subject: nightly report

        all done
        .
        not part of it
        """;

    private static TempDirectory Config(int sinkPort)
    {
        var config = new TempDirectory();
        config.Write("main.cf", EdgeInstance.BaseMainCf(config) + $$"""

            relay_domains = sink.example
            transport_maps = inline:{ sink.example=smtp:[127.0.0.1]:{{sinkPort}}, { bounced.example=error:5.1.1 no such user } }
            """ + "\n");
        config.Write("master.cf", """
            127.0.0.1:0 inet n - n - - smtpd
            pickup    unix  n       -       n       60      1       pickup
            qmgr      unix  n       -       n       300     1       qmgr
            smtp      unix  -       -       n       -       -       smtp
            error     unix  -       -       n       -       -       error
            """);
        return config;
    }

    [Fact]
    public async Task With_the_server_running_a_message_from_sendmail_t_is_delivered_to_its_header_recipients()
    {
        await using var sink = await SmtpSink.StartAsync();
        using TempDirectory config = Config(sink.Port);
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        Assert.Equal((0, "", ""), await EdgeProcess.RunWithInputAsync(config.Path, Message.Replace("\r\n", "\n") + "\n",
            "sendmail", "-c", config.Path, "-t", "-FCron Daemon", "-f", "cron", "-oem"));
        string picked = await edge.WaitForLogAsync(@"pickup\[\d+\]: \w+: uid=\d+ from=<cron>");
        string id = picked.Split(": ")[1];
        await edge.WaitForLogLinesAsync($@"{id}: to=<(user|hidden)@sink\.example>.*status=sent", 2);

        string delivered = (await sink.DumpsAsync(1))[0];
        Assert.Contains("From: \"Cron Daemon\" <cron@mx.edge.test>", delivered);
        Assert.Contains("To: User <user@sink.example>", delivered);
        Assert.DoesNotContain("Bcc", delivered);
        Assert.Contains("all done", delivered);
        // Without -i a line with only "." ends the message.
        Assert.DoesNotContain("not part of it", delivered);
        Assert.Empty(Directory.GetFiles(Path.Combine(config.Path, "var", "maildrop")));
    }

    [Fact]
    public async Task With_the_server_down_the_message_waits_in_the_maildrop_until_it_starts()
    {
        await using var sink = await SmtpSink.StartAsync();
        using TempDirectory config = Config(sink.Port);
        Assert.Equal(0, (await EdgeProcess.RunWithInputAsync(config.Path, "Subject: queued while down\n\n.line kept with -i\n.\n",
            "sendmail", "-c", config.Path, "-i", "user@sink.example")).Exit);
        string maildrop = Path.Combine(config.Path, "var", "maildrop");
        Assert.Single(Directory.GetFiles(maildrop));

        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        await edge.WaitForLogAsync(@"to=<user@sink\.example>.*status=sent");
        Assert.Empty(Directory.GetFiles(maildrop));
        string delivered = (await sink.DumpsAsync(1))[0];
        Assert.Contains(".line kept with -i", delivered.Replace("\n..", "\n."));
        Assert.Contains($"From: {Environment.UserName}@mx.edge.test", delivered);
    }

    [Fact]
    public async Task A_message_without_recipients_or_an_option_edge_lacks_is_refused_and_a_bad_file_set_aside()
    {
        using TempDirectory config = Config(FreePorts.Tcp());
        (int exit, _, string error) = await EdgeProcess.RunWithInputAsync(config.Path, "Subject: x\n\nbody\n", "sendmail", "-c", config.Path, "-t");
        Assert.Equal((64, "sendmail: fatal: No recipient addresses found in message header\n"), (exit, error));
        (exit, _, error) = await EdgeProcess.RunWithInputAsync(config.Path, "", "sendmail", "-c", config.Path, "-bd");
        Assert.Equal(64, exit);
        Assert.StartsWith("sendmail: fatal: option -bd is not implemented by Edge yet", error);
        (exit, _, error) = await EdgeProcess.RunWithInputAsync(config.Path, "", "sendmail", "-c", config.Path, "-N", "never,success", "a@b");
        Assert.Equal(64, exit);
        Assert.Contains("bad -N option value: never,success", error);

        string maildrop = Path.Combine(config.Path, "var", "maildrop");
        Directory.CreateDirectory(maildrop);
        File.WriteAllText(Path.Combine(maildrop, "junk"), "not a maildrop file\n\n");
        // Files that cannot become mail, first in the order pickup reads: they must not stop the others.
        File.WriteAllText(Path.Combine(maildrop, "0"), "EDGE-MAILDROP 1\nS someone\n\nSubject: nobody to\r\n\r\n");
        Directory.CreateDirectory(Path.Combine(maildrop, ".bad-00"));
        File.WriteAllText(Path.Combine(maildrop, "00"), "");
        Assert.Equal(0, (await EdgeProcess.RunWithInputAsync(config.Path, "Subject: after them\n\nx\n", "sendmail", "-c", config.Path, "user@sink.example")).Exit);
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        await edge.WaitForLogAsync(@"pickup\[\d+\]: warning: maildrop/junk: not a maildrop file \(""not a maildrop file""\): set aside as maildrop/\.bad-junk");
        await edge.WaitForLogAsync(@"pickup\[\d+\]: warning: maildrop/0: no recipients: set aside as maildrop/\.bad-0");
        await edge.WaitForLogAsync(@"pickup\[\d+\]: warning: maildrop/00: no end of the envelope: set aside as maildrop/\.bad-00\.\w+");
        await edge.WaitForLogAsync(@"pickup\[\d+\]: \w+: uid=\d+ from=<");
        Assert.True(File.Exists(Path.Combine(maildrop, ".bad-junk")));
    }

    [Fact]
    public async Task Sendmail_bs_speaks_SMTP_on_its_standard_input_and_the_message_says_which_user_sent_it()
    {
        await using var sink = await SmtpSink.StartAsync();
        using TempDirectory config = Config(sink.Port);
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        (int exit, string output, string error) = await EdgeProcess.RunWithInputAsync(config.Path,
            "EHLO me\nDATA\nMAIL FROM:<cron@sink.example>\nRCPT TO:<user@sink.example>\nDATA\nSubject: bs\n\n..dotted\n.\nQUIT\n", "sendmail", "-c", config.Path, "-bs");
        Assert.Equal((0, ""), (exit, error));
        Assert.Matches(@"^220 mx\.edge\.test ESMTP Edge\r\n250-mx\.edge\.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n503 5\.5\.1 Error: need MAIL command\r\n"
            + @"250 2\.1\.0 Ok\r\n250 2\.1\.5 Ok\r\n354 End data with <CR><LF>\.<CR><LF>\r\n250 2\.0\.0 Ok: queued as maildrop/\S+\r\n221 2\.0\.0 Bye\r\n$", output);

        string uid = await Command.OutputAsync("id", "-u");
        string id = (await edge.WaitForLogAsync($@"pickup\[\d+\]: \w+: uid={uid} from=<cron@sink\.example>")).Split(": ")[1];
        await edge.WaitForLogAsync($@"{id}: to=<user@sink\.example>.*status=sent");
        string delivered = (await sink.DumpsAsync(1))[0];
        Assert.Matches($@"Received: by mx\.edge\.test \(Edge, from userid {uid}\)\r?\n\tid {id}; ", delivered);
        Assert.Contains("\n.dotted", delivered.Replace("\n..", "\n."));
    }

    [Fact]
    public async Task Sendmails_dsn_options_reach_the_notice_and_never_asks_for_none()
    {
        await using var sink = await SmtpSink.StartAsync();
        using TempDirectory config = Config(sink.Port);
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        Assert.Equal(0, (await EdgeProcess.RunWithInputAsync(config.Path, "Subject: with dsn\n\nsecret body\n",
            "sendmail", "-c", config.Path, "-f", "owner@sink.example", "-N", "failure,delay", "-R", "hdrs", "-V", "env-1", "x@bounced.example")).Exit);
        string id = (await edge.WaitForLogAsync(@"pickup\[\d+\]: \w+: uid=\d+ from=<owner@sink\.example>")).Split(": ")[1];
        await edge.WaitForLogAsync($@"{id}: to=<x@bounced\.example>, .*dsn=5\.1\.1, status=bounced \(no such user\)");
        string notice = (await sink.DumpsAsync(1))[0];
        Assert.Contains("Original-Envelope-Id: env-1", notice);
        Assert.Contains("Content-Type: text/rfc822-headers", notice);
        Assert.Contains("Subject: with dsn", notice);
        Assert.DoesNotContain("secret body", notice);

        Assert.Equal(0, (await EdgeProcess.RunWithInputAsync(config.Path, "Subject: quiet\n\nx\n",
            "sendmail", "-c", config.Path, "-f", "owner@sink.example", "-N", "never", "y@bounced.example")).Exit);
        string quiet = (await edge.WaitForLogAsync(@"pickup\[\d+\]: \w+: uid=\d+ from=<owner@sink\.example>.*")).Split(": ")[1];
        string second = (await edge.WaitForLogLinesAsync(@"pickup\[\d+\]: \w+: uid=\d+ from=<owner@sink\.example>", 2))[1].Split(": ")[1];
        await edge.WaitForLogAsync($@"{second}: removed");
        Assert.DoesNotContain(edge.Log, line => line.Contains($"{second}: sender non-delivery notification"));
        Assert.NotEqual(quiet, second);
    }

    [Fact]
    public async Task Sendmail_bv_mails_the_sender_a_report_and_delivers_nothing()
    {
        await using var sink = await SmtpSink.StartAsync();
        using TempDirectory config = Config(sink.Port);
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        Assert.Equal(0, (await EdgeProcess.RunWithInputAsync(config.Path, null,
            "sendmail", "-c", config.Path, "-bv", "-f", "owner@sink.example", "user@sink.example", "x@bounced.example")).Exit);
        string report = (await sink.DumpsAsync(1))[0];
        Assert.Contains("Subject: Mail Delivery Status Report", report);
        Assert.Contains("Enclosed is the mail delivery report that you requested.", report);
        Assert.Matches(@"<user@sink\.example>: delivery via 127\.0\.0\.1\[127\.0\.0\.1\]:\d+: 250 2\.1\.5 ", report);
        Assert.Matches(@"Diagnostic-Code: smtp; 250 2\.1\.5 ", report);
        Assert.Contains("<x@bounced.example>: no such user", report);
        Assert.Contains("Action: deliverable", report);
        Assert.Contains("Action: undeliverable", report);
        Assert.DoesNotContain(edge.Log, line => line.Contains("to=<user@sink.example>") && line.Contains("status=sent"));
    }

    /// <summary>
    /// Any local user submits through the maildrop, which pickup takes the user from (the file's owner, not its words),
    /// and authorized_submit_users decides who may: sendmail refuses others, and pickup sets aside a file they drop by hand.
    /// </summary>
    [Fact]
    public async Task A_local_user_submits_through_the_maildrop_as_authorized_submit_users_allows()
    {
        await using var sink = await SmtpSink.StartAsync();
        using TempDirectory config = Config(sink.Port);
        using var account = await TestAccount.CreateAsync(config);
        await using (var edge = await EdgeProcess.StartAsync(config.Path, config.Path))
        {
            (int exit, _, string error) = await RunAsUserAsync(account, config, "Subject: from a user\n\nhello\n", "sendmail", "-c", config.Path, "user@sink.example");
            Assert.True(exit == 0, error);
            string id = (await edge.WaitForLogAsync($@"pickup\[\d+\]: \w+: uid={account.Uid} from=<{account.Name}>")).Split(": ")[1];
            await edge.WaitForLogAsync($@"{id}: to=<user@sink\.example>.*status=sent");
            Assert.Matches($@"Received: by mx\.edge\.test \(Edge, from userid {account.Uid}\)", (await sink.DumpsAsync(1))[0]);
        }
        File.AppendAllText(config.File("main.cf"), "authorized_submit_users = root\n");
        (int refused, _, string why) = await RunAsUserAsync(account, config, "Subject: x\n\nx\n", "sendmail", "-c", config.Path, "user@sink.example");
        Assert.Equal((77, $"sendmail: fatal: User {account.Name} is not allowed to submit mail (authorized_submit_users)\n"), (refused, why));
        // A file written into the maildrop by hand, claiming nothing about its author, is still the user's.
        string maildrop = config.File("var/maildrop");
        (int wrote, _, string shellError) = await RunAsUserAsync(account, config, null, "/bin/sh", "-c",
            $"printf 'EDGE-MAILDROP 1\\nS root\\nR user@sink.example\\n\\nSubject: forged\\r\\n\\r\\nx\\r\\n' > {maildrop}/by-hand");
        Assert.True(wrote == 0, shellError);
        await using (var edge = await EdgeProcess.StartAsync(config.Path, config.Path))
        {
            await edge.WaitForLogAsync($@"pickup\[\d+\]: warning: maildrop/by-hand: uid={account.Uid}: User {account.Name}\({account.Uid}\) is not allowed to submit mail \(authorized_submit_users\): set aside as maildrop/\.bad-by-hand");
        }
        Assert.Single(await sink.DumpsAsync(1));
    }

    /// <summary>An edge subcommand (or, when the first argument is a path, that program) run as the account.</summary>
    private static async Task<(int Exit, string Out, string Error)> RunAsUserAsync(TestAccount account, TempDirectory config, string? input, params string[] args)
    {
        var info = new System.Diagnostics.ProcessStartInfo("setpriv")
        {
            WorkingDirectory = config.Path,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        IEnumerable<string> command = args[0].StartsWith('/') ? args : ["dotnet", "exec", EdgeProcess.EdgeDll, .. args];
        foreach (string arg in (string[])[$"--reuid={account.Uid}", $"--regid={account.Gid}", "--clear-groups", "--", .. command])
        {
            info.ArgumentList.Add(arg);
        }
        info.Environment["HOME"] = account.Home;
        info.Environment["USER"] = account.Name;
        info.Environment["LOGNAME"] = account.Name;
        using var process = System.Diagnostics.Process.Start(info)!;
        await process.StandardInput.WriteAsync(input ?? "");
        process.StandardInput.Close();
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        string error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output, error);
    }
}
