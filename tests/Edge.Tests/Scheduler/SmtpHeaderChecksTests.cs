using Edge.Tests.Delivery;
using Edge.Tests.Support;

namespace Edge.Tests.Scheduler;

/// <summary>
/// smtp_header_checks and smtp_body_checks change mail as the SMTP client sends it (Postfix's smtp(8)): what the next
/// hop receives is changed, the queued message is not; actions that concern the whole message are not supported
/// there and only warned about, as in Postfix.
/// </summary>
public class SmtpHeaderChecksTests
{
    [Fact]
    public async Task The_next_hop_receives_the_changed_message_and_unsupported_actions_are_warned_about()
    {
        await using var sink = await SmtpSink.StartAsync();
        using var config = new TempDirectory();
        config.Write("smtp_header_checks", """
            /^Subject: (.*)/     REPLACE Subject: [external] $1
            /^X-Internal:/       STRIP
            /^X-Tag:/            PREPEND X-Tagged: yes
            /^X-Reject:/         REJECT not in the SMTP client
            /^X-Warn:/           WARN looked at
            """);
        config.Write("smtp_body_checks", "/^secret (.*)/ REPLACE [redacted]\n");
        config.Write("main.cf", EdgeInstance.BaseMainCf(config) + $"""

            relayhost = [127.0.0.1]:{sink.Port}
            smtp_header_checks = regexp:{config.File("smtp_header_checks")}
            smtp_body_checks = regexp:{config.File("smtp_body_checks")}

            """);
        config.Write("master.cf", """
            127.0.0.1:0 inet n - n - - smtpd
            qmgr      unix  n       -       n       300     1       qmgr
            smtp      unix  -       -       n       -       -       smtp
            """);
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string id = await SmtpConnection.SendWithParametersAsync(edge.Port, "sender@example.org", "", "user@remote.example", "",
            "Subject: hello\r\nX-Internal: 10.1.2.3\r\nX-Tag: 1\r\nX-Reject: 1\r\nX-Warn: 1\r\n\r\npublic line\r\nsecret 1234\r\nlast line");
        string dump = Assert.Single(await sink.DumpsAsync(1));
        Assert.Contains("\nSubject: [external] hello\nX-Tagged: yes\nX-Tag: 1\nX-Reject: 1\nX-Warn: 1\n\npublic line\n[redacted]\nlast line\n", dump);
        Assert.DoesNotContain("X-Internal", dump);
        await edge.WaitForLogAsync($@"edge/smtp\[\d+\]: {id}: replace: header Subject: hello: Subject: \[external\] hello");
        await edge.WaitForLogAsync($@"edge/smtp\[\d+\]: {id}: warning: header X-Warn: 1: looked at");
        await edge.WaitForLogAsync(@"edge/smtp\[\d+\]: warning: unsupported command in smtp_header_checks map: REJECT");
    }

    /// <summary>
    /// An smtp_generic_maps entry that holds no address stops Postfix's smtp(8) with "map lookup problem": the mail
    /// waits, in the envelope or in a header, rather than leave with the private address.
    /// </summary>
    [Fact]
    public async Task A_generic_entry_without_an_address_defers_instead_of_sending_the_private_address()
    {
        await using var sink = await SmtpSink.StartAsync();
        using var config = new TempDirectory();
        config.Write("generic", "ghost@box.lan ,\nroot@box.lan admin@edge.test\n");
        config.Write("main.cf", EdgeInstance.BaseMainCf(config) + $"""

            relayhost = [127.0.0.1]:{sink.Port}
            smtp_generic_maps = texthash:{config.File("generic")}

            """);
        config.Write("master.cf", """
            127.0.0.1:0 inet n - n - - smtpd
            qmgr      unix  n       -       n       300     1       qmgr
            smtp      unix  -       -       n       -       -       smtp
            """);
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string envelope = await SmtpConnection.SendWithParametersAsync(edge.Port, "ghost@box.lan", "", "user@remote.example", "",
            "From: root@box.lan\r\nSubject: envelope\r\n\r\nbody");
        string header = await SmtpConnection.SendWithParametersAsync(edge.Port, "root@box.lan", "", "user@remote.example", "",
            "From: ghost@box.lan\r\nSubject: header\r\n\r\nbody");

        await edge.WaitForLogAsync($@"{envelope}: to=<user@remote\.example>.* dsn=4\.3\.0, status=deferred \(smtp_generic_maps map lookup problem for ghost@box\.lan\)");
        await edge.WaitForLogAsync($@"{header}: to=<user@remote\.example>.* dsn=4\.3\.0, status=deferred \(smtp_generic_maps map lookup problem for ghost@box\.lan\)");
        Assert.Equal(0, sink.DumpCount);
    }
}
