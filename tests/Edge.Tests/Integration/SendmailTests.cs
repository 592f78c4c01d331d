using Edge.Tests.Delivery;
using Edge.Tests.Support;

namespace Edge.Tests.Integration;

/// <summary>
/// edge sendmail, as cron and scripts use Postfix's: the message goes into the maildrop and the pickup service takes
/// it through cleanup into the queue, at once with the server running, or when it starts.
/// </summary>
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
            transport_maps = inline:{ sink.example=smtp:[127.0.0.1]:{{sinkPort}} }
            """ + "\n");
        config.Write("master.cf", """
            127.0.0.1:0 inet n - n - - smtpd
            pickup    unix  n       -       n       60      1       pickup
            qmgr      unix  n       -       n       300     1       qmgr
            smtp      unix  -       -       n       -       -       smtp
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
        string picked = await edge.WaitForLogAsync(@"pickup\[\d+\]: \w+: from=<cron>");
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
        (exit, _, error) = await EdgeProcess.RunWithInputAsync(config.Path, "", "sendmail", "-c", config.Path, "-bs");
        Assert.Equal(64, exit);
        Assert.StartsWith("sendmail: fatal: option -bs is not implemented by Edge yet", error);

        string maildrop = Path.Combine(config.Path, "var", "maildrop");
        Directory.CreateDirectory(maildrop);
        File.WriteAllText(Path.Combine(maildrop, "junk"), "not a maildrop file\n\n");
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        await edge.WaitForLogAsync(@"pickup\[\d+\]: warning: maildrop/junk: not a maildrop file \(""not a maildrop file""\): set aside as maildrop/\.bad-junk");
        Assert.True(File.Exists(Path.Combine(maildrop, ".bad-junk")));
    }
}
