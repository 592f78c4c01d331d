using System.Runtime.Versioning;
using Edge.Tests.Support;

namespace Edge.Tests.Scheduler;

/// <summary>local(8): mail for the system's users (Debian's "nobody" and "mail") in mbox or Maildir form, unknown users, aliases.</summary>
[UnsupportedOSPlatform("windows")]
public class LocalDeliveryTests
{
    private static TempDirectory Config(string spool, string extra = "")
    {
        var directory = new TempDirectory();
        Directory.CreateDirectory(directory.File("spool"));
        directory.Write("main.cf", EdgeInstance.BaseMainCf(directory) + $$"""

            mail_spool_directory = {{directory.File(spool)}}
            recipient_delimiter = +
            myorigin = edge.test
            transport_maps = inline:{ remote.example=discard: }
            alias_maps = inline:{ { team = mail, Outside@remote.example }, { mail = \mail, copy@remote.example }, loop1=loop2, loop2=loop1, { piped = |exit 67 } }
            {{extra}}
            """ + "\n");
        directory.Write("master.cf", """
            127.0.0.1:0 inet n - n - - smtpd
            qmgr      unix  n       -       n       300     1       qmgr
            local     unix  -       n       n       -       -       local
            discard   unix  -       -       n       -       -       discard
            """);
        return directory;
    }

    private static Task<string> SendAsync(int port, string recipient) =>
        SmtpConnection.SendMessageAsync(port, "Subject: local\r\n\r\nFrom the body", recipient);

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
            Assert.Equal(await Command.OutputAsync("id", "-u", "nobody"), await Command.OutputAsync("stat", "-c", "%u", mailbox));
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
    public async Task An_unknown_user_bounces_and_a_command_alias_fails_as_its_exit_status_says()
    {
        using var config = Config("spool");
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string unknown = await SendAsync(edge.Port, "no-such-user-here@edge.test");
        await edge.WaitForLogAsync($@"{unknown}: to=<no-such-user-here@edge\.test>, relay=local, .*dsn=5\.1\.1, status=bounced \(unknown user: ""no-such-user-here""\)");
        string piped = await SendAsync(edge.Port, "piped@edge.test");
        await edge.WaitForLogAsync($@"{piped}: to=<piped@edge\.test>, relay=local, .*dsn=5\.1\.1, status=bounced \(user unknown\)");
    }

    /// <summary>luser_relay: mail for a user without an account goes to the catch-all, with local(8)'s expansions.</summary>
    [Fact]
    public async Task An_unknown_user_goes_to_luser_relay()
    {
        using var config = Config("spool", "luser_relay = catchall${extension?+}$extension-$user@remote.example");
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string id = await SendAsync(edge.Port, "no-such-user-here+tag@edge.test");
        await edge.WaitForLogAsync($@"{id}: to=<no-such-user-here\+tag@edge\.test>, relay=local, .*dsn=2\.0\.0, status=sent \(forwarded as \w+\)");
        await edge.WaitForLogAsync(@"to=<catchall\+tag-no-such-user-here@remote\.example>, relay=none, .*status=sent");
        string known = await SendAsync(edge.Port, "nobody@edge.test");
        await edge.WaitForLogAsync($@"{known}: to=<nobody@edge\.test>, relay=local, .*status=sent \(delivered to mailbox\)");
    }

    /// <summary>soft_bounce: what would bounce is logged as SOFTBOUNCE with a 4.X.X status and stays in the queue.</summary>
    [Fact]
    public async Task With_soft_bounce_an_unknown_user_waits_in_the_queue()
    {
        using var config = Config("spool", "soft_bounce = yes");
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string id = await SendAsync(edge.Port, "no-such-user-here@edge.test");
        await edge.WaitForLogAsync($@"{id}: to=<no-such-user-here@edge\.test>, relay=local, .*dsn=4\.1\.1, status=SOFTBOUNCE \(unknown user: ""no-such-user-here""\)");
        (int exit, string queue, _) = await EdgeProcess.RunAsync(config.Path, "postqueue", "-c", config.Path, "-p");
        Assert.Equal(0, exit);
        Assert.Contains(id, queue);
        Assert.DoesNotContain(edge.Log, line => line.Contains("non-delivery notification"));
    }

    [Fact]
    public async Task Mail_to_the_double_bounce_address_is_discarded()
    {
        using var config = Config("spool");
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string id = await SendAsync(edge.Port, "double-bounce@edge.test");
        await edge.WaitForLogAsync($@"edge/local\[\d+\]: {id}: to=<double-bounce@edge\.test>, relay=local, .*dsn=2\.0\.0, status=sent \(discarded\)");
        Assert.False(File.Exists(config.File("spool/double-bounce")));
    }

    [Fact]
    public async Task An_alias_forwards_a_copy_to_each_address_and_its_own_name_is_the_mailbox()
    {
        using var config = Config("spool");
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string id = await SendAsync(edge.Port, "team@edge.test");
        string line = await edge.WaitForLogAsync($@"edge/local\[\d+\]: {id}: to=<team@edge\.test>, relay=local, .*dsn=2\.0\.0, status=sent \(forwarded as \w+\)");
        string copy = line.Split(' ')[^1].TrimEnd(')');
        // The copy: the system user mail is itself an alias, of its own mailbox ("\mail") and one more address.
        string second = (await edge.WaitForLogAsync($@"{copy}: to=<mail@edge\.test>, relay=local, .*status=sent \(delivered to mailbox; forwarded as \w+\)")).Split(' ')[^1].TrimEnd(')');
        await edge.WaitForLogAsync($@"{copy}: to=<Outside@remote\.example>, relay=none, .*status=sent");
        await edge.WaitForLogAsync($@"{second}: to=<copy@remote\.example>, relay=none, .*status=sent");

        string content = await File.ReadAllTextAsync(config.File("spool/mail"));
        Assert.Contains("\nDelivered-To: mail@edge.test\nDelivered-To: team@edge.test\nReceived: ", content);
        Assert.Single(content.Split('\n'), l => l.StartsWith("From sender@example.org "));
    }

    /// <summary>propagate_unmatched_extensions = alias: an extension the alias did not match goes on to the addresses it lists.</summary>
    [Theory]
    [InlineData("canonical, virtual", "")]
    [InlineData("canonical, virtual, alias", "+news")]
    public async Task An_unmatched_extension_goes_on_to_an_aliass_addresses_when_propagate_unmatched_extensions_says_alias(string propagate, string extension)
    {
        using var config = Config("spool", $"propagate_unmatched_extensions = {propagate}");
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string id = await SendAsync(edge.Port, "team+news@edge.test");
        string copy = (await edge.WaitForLogAsync($@"{id}: to=<team\+news@edge\.test>, relay=local, .*status=sent \(forwarded as \w+\)")).Split(' ')[^1].TrimEnd(')');
        await edge.WaitForLogAsync($@"{copy}: to=<Outside{System.Text.RegularExpressions.Regex.Escape(extension)}@remote\.example>, relay=none, .*status=sent");
        await edge.WaitForLogAsync($@"{copy}: to=<mail{System.Text.RegularExpressions.Regex.Escape(extension)}@edge\.test>, relay=local, .*status=sent");
    }

    /// <summary>mailbox_size_limit: a message that would take the mailbox past it bounces (5.2.2), and the mailbox stays as it was.</summary>
    [Fact]
    public async Task A_message_that_would_take_the_mailbox_past_mailbox_size_limit_bounces()
    {
        using var config = Config("spool", "message_size_limit = 3000\nmailbox_size_limit = 3000");
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string first = await SendAsync(edge.Port, "nobody@edge.test");
        await edge.WaitForLogAsync($@"{first}: to=<nobody@edge\.test>, relay=local, .*status=sent \(delivered to mailbox\)");
        long size = new FileInfo(config.File("spool/nobody")).Length;
        string big = await SmtpConnection.SendMessageAsync(edge.Port, "Subject: big\r\n\r\n" + new string('x', 2550), "nobody@edge.test");
        await edge.WaitForLogAsync($@"{big}: to=<nobody@edge\.test>, relay=local, .*dsn=5\.2\.2, status=bounced \(cannot update mailbox .*/spool/nobody: error writing message: File too large\)");
        Assert.Equal(size, new FileInfo(config.File("spool/nobody")).Length);
    }

    [Theory]
    [InlineData("message_size_limit = 2000\nmailbox_size_limit = 1000", "configuration error: mailbox_size_limit (1000) is smaller than message_size_limit (2000)")]
    [InlineData("message_size_limit = 0", "configuration error: mailbox_size_limit is limited but message_size_limit is unlimited")]
    public async Task A_mailbox_size_limit_no_message_could_fit_stops_start_up(string settings, string error)
    {
        using var config = Config("spool", settings);
        (int exit, _, string said) = await EdgeProcess.RunAsync(config.Path, "postfix", "-c", config.Path, "check");
        Assert.NotEqual(0, exit);
        Assert.Contains(error, said);
    }

    [Fact]
    public async Task An_aliases_file_named_as_hash_is_read_from_its_source_as_newaliases_would()
    {
        using var config = Config("spool");
        config.Write("aliases", """
            # aliases(5): name, colon, addresses; continuation lines start with white space
            Staff:   nobody,
                     outside@remote.example
            """);
        File.AppendAllText(config.File("main.cf"), $"alias_maps = hash:{config.File("aliases")}\n");
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string id = await SendAsync(edge.Port, "staff@edge.test");
        string copy = (await edge.WaitForLogAsync($@"{id}: to=<staff@edge\.test>, relay=local, .*status=sent \(forwarded as \w+\)")).Split(' ')[^1].TrimEnd(')');
        await edge.WaitForLogAsync($@"{copy}: to=<nobody@edge\.test>, relay=local, .*status=sent \(delivered to mailbox\)");
        await edge.WaitForLogAsync($@"{copy}: to=<outside@remote\.example>, relay=none, .*status=sent");
        Assert.Contains("\nDelivered-To: staff@edge.test\n", await File.ReadAllTextAsync(config.File("spool/nobody")));
    }

    [Fact]
    public async Task An_alias_loop_bounces_with_5_4_6()
    {
        using var config = Config("spool");
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        await SendAsync(edge.Port, "loop1@edge.test");
        await edge.WaitForLogAsync(@"to=<loop1@edge\.test>, relay=local, .*dsn=5\.4\.6, status=bounced \(mail forwarding loop for loop1@edge\.test\)");
        Assert.Equal(2, edge.Log.Count(l => l.Contains("status=sent (forwarded as")));
    }

    [Fact]
    public async Task An_alias_table_Edge_cannot_read_defers_local_mail_rather_than_guess()
    {
        using var config = Config("spool");
        File.AppendAllText(config.File("main.cf"), "alias_maps = hash:/nonexistent/aliases\n");
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string id = await SendAsync(edge.Port, "nobody@edge.test");
        await edge.WaitForLogAsync($@"{id}: to=<nobody@edge\.test>, relay=local, .*dsn=4\.3\.0, status=deferred \(alias_maps: hash:/nonexistent/aliases: ");
        Assert.False(File.Exists(config.File("spool/nobody")));
    }
}
