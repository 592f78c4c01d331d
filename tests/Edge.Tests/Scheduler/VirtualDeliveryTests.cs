using System.Runtime.Versioning;
using Edge.Tests.Support;

namespace Edge.Tests.Scheduler;

/// <summary>virtual(8): hosted mailboxes in Maildir and mbox form under virtual_mailbox_base, and unknown users.</summary>
[UnsupportedOSPlatform("windows")]
public class VirtualDeliveryTests
{
    private static TempDirectory ConfigDirectory(string extra = "")
    {
        var directory = new TempDirectory();
        directory.Write("main.cf", EdgeInstance.BaseMainCf(directory) + $$"""

            virtual_mailbox_domains = hosted.example
            virtual_mailbox_base = {{directory.File("mail")}}
            virtual_mailbox_maps = inline:{ alice@hosted.example=hosted.example/alice/, bob@hosted.example=hosted.example/bob.mbox }
            virtual_uid_maps = static:5000
            virtual_gid_maps = static:5000
            {{extra}}

            """);
        directory.Write("master.cf", """
            127.0.0.1:0 inet n - n - - smtpd
            qmgr      unix  n       -       n       300     1       qmgr
            virtual   unix  -       n       n       -       -       virtual
            """);
        return directory;
    }

    private static Task<string> SendAsync(int port, string recipient, string body) =>
        SmtpConnection.SendMessageAsync(port, $"Subject: hosted\r\n\r\n{body}", recipient);

    [Fact]
    public async Task A_maildir_recipient_gets_a_file_in_new_with_delivery_headers_and_LF_line_ends()
    {
        using var config = ConfigDirectory();
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string id = await SendAsync(edge.Port, "alice@hosted.example", "hello alice\r\nsecond line");
        await edge.WaitForLogAsync($@"edge/virtual\[\d+\]: {id}: to=<alice@hosted\.example>, relay=virtual, .*dsn=2\.0\.0, status=sent \(delivered to maildir\)");

        string maildir = Path.Combine(config.Path, "mail", "hosted.example", "alice");
        Assert.True(Directory.Exists(Path.Combine(maildir, "cur")));
        Assert.Empty(Directory.GetFiles(Path.Combine(maildir, "tmp")));
        string file = Assert.Single(Directory.GetFiles(Path.Combine(maildir, "new")));
        Assert.Matches(@"^\d+\.M\d+P\d+Q\d+\.mx\.edge\.test$", Path.GetFileName(file));
        string content = await File.ReadAllTextAsync(file);
        Assert.StartsWith("Return-Path: <sender@example.org>\nDelivered-To: alice@hosted.example\nReceived: ", content);
        Assert.Contains("\nSubject: hosted\n\nhello alice\nsecond line\n", content);
        Assert.DoesNotContain("\r", content);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        if (Environment.IsPrivilegedProcess)
        {
            // As root, virtual_uid_maps and virtual_gid_maps own the mailbox and the directories made for it.
            Assert.Equal("5000:5000", await Command.OutputAsync("stat", "-c", "%u:%g", file));
            Assert.Equal("5000:5000", await Command.OutputAsync("stat", "-c", "%u:%g", maildir));
        }
    }

    /// <summary>
    /// Whoever runs as the mailboxes' uid (a Dovecot as vmail) cannot lead Edge's root rights elsewhere with a link in a
    /// directory that uid owns: inside it, Edge writes with that uid's rights, as Postfix's virtual(8) does.
    /// </summary>
    [Fact]
    public async Task A_link_in_a_directory_of_the_mailbox_uid_leads_root_nowhere()
    {
        Assert.True(Environment.IsPrivilegedProcess, "this test has Edge act as uid 5000, which needs root (CI runs ./test.sh as root)");
        using var config = ConfigDirectory();
        Directory.CreateDirectory(config.File("root-only"));
        File.SetUnixFileMode(config.File("root-only"), (UnixFileMode)0b111_000_000);
        config.Write("root-only/target", "root's\n");
        string domain = config.File("mail/hosted.example");
        Directory.CreateDirectory(domain);
        File.CreateSymbolicLink(Path.Combine(domain, "bob.mbox"), config.File("root-only/target"));
        using (var chown = System.Diagnostics.Process.Start("chown", ["-h", "5000:5000", domain, Path.Combine(domain, "bob.mbox")]))
        {
            await chown.WaitForExitAsync();
        }
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string id = await SendAsync(edge.Port, "bob@hosted.example", "to root?");
        await edge.WaitForLogAsync($@"{id}: to=<bob@hosted\.example>, relay=virtual, .*dsn=4\.2\.0, status=deferred \(cannot write mailbox ");
        Assert.Equal("root's\n", File.ReadAllText(config.File("root-only/target")));
    }

    [Fact]
    public async Task An_mbox_recipient_gets_a_From_line_quoted_From_lines_and_a_blank_line()
    {
        using var config = ConfigDirectory();
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string first = await SendAsync(edge.Port, "bob@hosted.example", "one\r\nFrom here\r\nFromage");
        await edge.WaitForLogAsync($@"edge/virtual\[\d+\]: {first}: to=<bob@hosted\.example>, relay=virtual, .*status=sent \(delivered to mailbox\)");
        string second = await SendAsync(edge.Port, "bob@hosted.example", "two");
        await edge.WaitForLogAsync($@"{second}: to=<bob@hosted\.example>, .*status=sent \(delivered to mailbox\)");

        string content = await File.ReadAllTextAsync(Path.Combine(config.Path, "mail", "hosted.example", "bob.mbox"));
        Assert.Matches(@"^From sender@example\.org \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\nReturn-Path: <sender@example\.org>\nDelivered-To: bob@hosted\.example\nReceived: ", content);
        Assert.Contains("\n\none\n>From here\nFromage\n\nFrom sender@example.org ", content);
        Assert.EndsWith("\n\ntwo\n\n", content);
        Assert.DoesNotContain("\r", content);
    }

    [Fact]
    public async Task Line_ends_and_From_quoting_survive_writes_split_at_any_byte()
    {
        byte[] input = "From a\r\nb\r\nFrom here\r\nFr\rom\r\nFrom"u8.ToArray();
        using var file = new MemoryStream();
        var writer = new Edge.Delivery.MailboxWriter(file, quoteFrom: true);
        foreach (byte b in input)
        {
            await writer.WriteAsync(new[] { b });
        }
        await writer.FinishAsync(CancellationToken.None);
        Assert.Equal(">From a\nb\n>From here\nFr\rom\nFrom", System.Text.Encoding.ASCII.GetString(file.ToArray()));
        Assert.False(writer.EndsWithNewline);
    }

    [Fact]
    public async Task An_unknown_user_bounces()
    {
        // The SMTP server would refuse carol at RCPT TO (RecipientValidationTests); here she gets past it.
        using var config = ConfigDirectory("smtpd_reject_unlisted_recipient = no");
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string id = await SendAsync(edge.Port, "carol@hosted.example", "x");
        await edge.WaitForLogAsync($@"edge/virtual\[\d+\]: {id}: to=<carol@hosted\.example>, relay=virtual, .*dsn=5\.1\.1, status=bounced \(unknown user: ""carol@hosted\.example""\)");
    }

    [Fact]
    public async Task A_uid_below_virtual_minimum_uid_defers()
    {
        using var config = ConfigDirectory("virtual_minimum_uid = 6000");
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string id = await SendAsync(edge.Port, "alice@hosted.example", "x");
        await edge.WaitForLogAsync($@"{id}: to=<alice@hosted\.example>, relay=virtual, .*dsn=4\.3\.0, status=deferred \(bad uid 5000");
        Assert.False(Directory.Exists(Path.Combine(config.Path, "mail")));
    }
}
