using System.Runtime.Versioning;
using Edge.Tests.Support;

namespace Edge.Tests.Scheduler;

/// <summary>local(8): mail for the system's users (here "nobody") in mbox or Maildir form, unknown users, aliases.</summary>
[UnsupportedOSPlatform("windows")]
public class LocalDeliveryTests
{
    private static TempDirectory Config(string spool)
    {
        var directory = new TempDirectory();
        Directory.CreateDirectory(directory.File("spool"));
        directory.Write("main.cf", EdgeInstance.BaseMainCf(directory) + $$"""

            mail_spool_directory = {{directory.File(spool)}}
            recipient_delimiter = +
            alias_maps = inline:{ postmaster=root }
            """ + "\n");
        directory.Write("master.cf", """
            127.0.0.1:0 inet n - n - - smtpd
            qmgr      unix  n       -       n       300     1       qmgr
            local     unix  -       n       n       -       -       local
            """);
        return directory;
    }

    private static async Task<string> SendAsync(int port, string recipient)
    {
        await using var c = await SmtpConnection.OpenAsync(port);
        await c.CommandAsync("EHLO client.example");
        await c.CommandAsync("MAIL FROM:<sender@example.org>");
        Assert.Equal("250 2.1.5 Ok", await c.CommandAsync($"RCPT TO:<{recipient}>"));
        await c.CommandAsync("DATA");
        return (await c.CommandAsync("Subject: local\r\n\r\nFrom the body\r\n.")).Split(' ')[^1];
    }

    [Fact]
    public async Task A_system_user_gets_an_mbox_in_the_spool_directory_and_the_extension_is_dropped()
    {
        using var config = Config("spool");
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string id = await SendAsync(edge.Port, "Nobody+lists@edge.test");
        await edge.WaitForLogAsync($@"edge/local\[\d+\]: {id}: to=<Nobody\+lists@edge\.test>, relay=local, .*dsn=2\.0\.0, status=sent \(delivered to mailbox\)");

        string mailbox = config.File("spool/nobody");
        string content = await File.ReadAllTextAsync(mailbox);
        Assert.Matches(@"^From sender@example\.org .*\nReturn-Path: <sender@example\.org>\nDelivered-To: nobody\+lists@edge\.test\nReceived: ", content);
        Assert.EndsWith("\nSubject: local\n\n>From the body\n\n", content);
        if (Environment.IsPrivilegedProcess)
        {
            Assert.Equal(await RunAsync("id", "-u", "nobody"), await RunAsync("stat", "-c", "%u", mailbox));
        }
    }

    [Fact]
    public async Task A_spool_directory_ending_in_a_slash_means_Maildir()
    {
        using var config = Config("spool/");
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string id = await SendAsync(edge.Port, "nobody@edge.test");
        await edge.WaitForLogAsync($@"{id}: to=<nobody@edge\.test>, relay=local, .*status=sent \(delivered to maildir\)");
        string file = Assert.Single(Directory.GetFiles(config.File("spool/nobody/new")));
        Assert.Contains("\nSubject: local\n\nFrom the body\n", await File.ReadAllTextAsync(file));
    }

    [Fact]
    public async Task An_unknown_user_bounces_and_an_alias_waits_for_alias_expansion()
    {
        using var config = Config("spool");
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string unknown = await SendAsync(edge.Port, "no-such-user-here@edge.test");
        await edge.WaitForLogAsync($@"{unknown}: to=<no-such-user-here@edge\.test>, relay=local, .*dsn=5\.1\.1, status=bounced \(unknown user: ""no-such-user-here""\)");
        string alias = await SendAsync(edge.Port, "postmaster@edge.test");
        await edge.WaitForLogAsync($@"{alias}: to=<postmaster@edge\.test>, relay=local, .*dsn=4\.3\.0, status=deferred \(alias postmaster: alias expansion is not implemented in Edge yet\)");
        Assert.False(File.Exists(config.File("spool/postmaster")));
    }

    [Fact]
    public async Task An_alias_table_Edge_cannot_read_defers_local_mail_rather_than_guess()
    {
        using var config = Config("spool");
        File.AppendAllText(config.File("main.cf"), "alias_maps = hash:/etc/aliases\n");
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string id = await SendAsync(edge.Port, "nobody@edge.test");
        await edge.WaitForLogAsync($@"{id}: to=<nobody@edge\.test>, relay=local, .*dsn=4\.3\.0, status=deferred \(alias_maps: hash:/etc/aliases: ");
        Assert.False(File.Exists(config.File("spool/nobody")));
    }

    private static async Task<string> RunAsync(string program, params string[] args)
    {
        using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(program, args) { RedirectStandardOutput = true })!;
        string output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return output.Trim();
    }
}
