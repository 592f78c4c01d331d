using System.Runtime.Versioning;
using System.Text.RegularExpressions;
using Edge.Tests.Delivery;
using Edge.Tests.Support;

namespace Edge.Tests.Scheduler;

/// <summary>
/// local(8) beyond the mailbox: .forward files, "|command", "/file" and ":include:" destinations with the rights of
/// whoever named them, allow_mail_to_commands, mailbox_command, and mailbox_transport and fallback_transport handing
/// recipients to Dovecot's LMTP server. Each test makes a Unix account of its own.
/// </summary>
[UnsupportedOSPlatform("windows")]
public class LocalDestinationTests
{
    /// <summary>The command: records its uid, arguments and environment, then the message, in a new file of the folder it is given.</summary>
    private const string Script = """
        #!/bin/sh
        out="$1/$(date +%s%N)"
        { echo "uid=$(id -u) args=$*"
          echo "HOME=$HOME USER=$USER LOGNAME=$LOGNAME RECIPIENT=$RECIPIENT LOCAL=$LOCAL EXTENSION=$EXTENSION SENDER=$SENDER ORIGINAL_RECIPIENT=$ORIGINAL_RECIPIENT PATH=$PATH"
          cat; } > "$out.tmp"
        mv "$out.tmp" "$out"
        """;

    private static TempDirectory Config(string extra = "")
    {
        var directory = new TempDirectory();
        Directory.CreateDirectory(directory.File("spool"));
        directory.Write("record.sh", Script.Replace("\r\n", "\n"));
        File.SetUnixFileMode(directory.File("record.sh"), (UnixFileMode)0b111_101_101);
        // Commands run as other users, which must be able to write their records.
        Directory.CreateDirectory(directory.File("out"));
        File.SetUnixFileMode(directory.File("out"), (UnixFileMode)0b111_111_111);
        directory.Write("main.cf", EdgeInstance.BaseMainCf(directory) + $"""

            mail_spool_directory = {directory.File("spool")}
            recipient_delimiter = +
            myorigin = edge.test
            transport_maps = inline:{"{ remote.example=discard: }"}
            alias_maps = inline:{"{ postmaster=nobody }"}
            {extra}
            """ + "\n");
        directory.Write("master.cf", """
            127.0.0.1:0 inet n - n - - smtpd
            qmgr      unix  n       -       n       300     1       qmgr
            local     unix  -       n       n       -       -       local
            discard   unix  -       -       n       -       -       discard
            lmtp      unix  -       -       n       -       -       lmtp
            """);
        return directory;
    }

    private static string Recorder(TempDirectory config) => $"{config.File("record.sh")} {config.File("out")}";

    private static Task<string> SendAsync(int port, string recipient) =>
        SmtpConnection.SendMessageAsync(port, "Subject: local\r\n\r\nFrom the body", recipient);

    /// <summary>The records the command wrote: each its uid and arguments, environment, and the message it read.</summary>
    private static string[] Records(TempDirectory config) =>
        [.. Directory.GetFiles(config.File("out")).Where(f => !f.EndsWith(".tmp")).Order().Select(File.ReadAllText)];

    [Fact]
    public async Task A_forward_files_command_runs_as_the_user_and_the_users_own_name_is_the_mailbox()
    {
        using var config = Config();
        using var account = await TestAccount.CreateAsync(config);
        account.Write(".forward", $"# mine\n\"|{Recorder(config)}\", \\{account.Name}\n");
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);

        string id = await SendAsync(edge.Port, $"{account.Name}@edge.test");
        await edge.WaitForLogAsync($@"edge/local\[\d+\]: {id}: to=<{account.Name}@edge\.test>, relay=local, .*dsn=2\.0\.0, status=sent \(delivered to command: {Regex.Escape(Recorder(config))}; delivered to mailbox\)");

        string[] lines = Assert.Single(Records(config)).Split('\n');
        Assert.Equal($"uid={account.Uid} args={config.File("out")}", lines[0]);
        Assert.Equal($"HOME={account.Home} USER={account.Name} LOGNAME={account.Name} RECIPIENT={account.Name}@edge.test LOCAL={account.Name} EXTENSION= "
            + $"SENDER=sender@example.org ORIGINAL_RECIPIENT={account.Name}@edge.test PATH=/usr/bin:/bin", lines[1]);
        Assert.Matches(@"^From sender@example\.org \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}$", lines[2]);
        Assert.Equal(["Return-Path: <sender@example.org>", $"X-Original-To: {account.Name}@edge.test", $"Delivered-To: {account.Name}@edge.test"], lines[3..6]);
        Assert.EndsWith("\nSubject: local\n\nFrom the body\n", string.Join('\n', lines));

        string mailbox = config.File($"spool/{account.Name}");
        Assert.Contains("\n>From the body\n", await File.ReadAllTextAsync(mailbox));
        Assert.Equal(account.Uid.ToString(), await Command.OutputAsync("stat", "-c", "%u", mailbox));
    }

    [Fact]
    public async Task Files_in_a_forward_file_are_written_with_the_users_rights_and_unsafe_files_are_refused()
    {
        using var config = Config();
        using var account = await TestAccount.CreateAsync(config);
        // A folder only root may write: the user's rights must not reach it.
        Directory.CreateDirectory(config.File("root-only"));
        File.SetUnixFileMode(config.File("root-only"), (UnixFileMode)0b111_000_000);
        // forward_path's default tries .forward+extension first: one file per test case.
        account.Write(".forward+files", $"{account.Home}/inbox, ~/Maildir/\n");
        account.Write(".forward+denied", $"{config.File("root-only")}/stolen\n");
        account.Write(".forward+exec", "~/program\n");
        account.Write("program", "#!/bin/sh\n", (UnixFileMode)0b111_100_100);
        account.Write(".forward+open", "|/bin/true\n", (UnixFileMode)0b110_110_110);
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);

        string files = await SendAsync(edge.Port, $"{account.Name}+files@edge.test");
        await edge.WaitForLogAsync($@"{files}: to=<{account.Name}\+files@edge\.test>, relay=local, .*status=sent \(delivered to file: {Regex.Escape(account.Home)}/inbox; delivered to maildir\)");
        string inbox = await File.ReadAllTextAsync(Path.Combine(account.Home, "inbox"));
        Assert.Matches($@"^From sender@example\.org .*\nReturn-Path: <sender@example\.org>\nX-Original-To: {account.Name}\+files@edge\.test\nDelivered-To: {account.Name}\+files@edge\.test\n", inbox);
        Assert.EndsWith("\n>From the body\n\n", inbox);
        Assert.Equal(account.Uid.ToString(), await Command.OutputAsync("stat", "-c", "%u", Path.Combine(account.Home, "inbox")));
        string stored = Assert.Single(Directory.GetFiles(Path.Combine(account.Home, "Maildir/new")));
        Assert.Equal(account.Uid.ToString(), await Command.OutputAsync("stat", "-c", "%u", stored));

        string denied = await SendAsync(edge.Port, $"{account.Name}+denied@edge.test");
        await edge.WaitForLogAsync($@"{denied}: to=<{account.Name}\+denied@edge\.test>, relay=local, .*dsn=5\.2\.0, status=bounced \(cannot append message to file {Regex.Escape(config.File("root-only"))}/stolen: cannot open file: ");
        Assert.False(File.Exists(config.File("root-only/stolen")));

        string exec = await SendAsync(edge.Port, $"{account.Name}+exec@edge.test");
        await edge.WaitForLogAsync($@"{exec}: to=<{account.Name}\+exec@edge\.test>, relay=local, .*dsn=5\.7\.1, status=bounced \(cannot append message to file {Regex.Escape(account.Home)}/program: file is executable\)");

        // A .forward file others may write is not the user's word: ignored, with a warning, and the mailbox gets the mail.
        string open = await SendAsync(edge.Port, $"{account.Name}+open@edge.test");
        await edge.WaitForLogAsync($@"edge/local\[\d+\]: warning: file {Regex.Escape(account.Home)}/\.forward\+open is world writable");
        await edge.WaitForLogAsync($@"{open}: to=<{account.Name}\+open@edge\.test>, relay=local, .*status=sent \(delivered to mailbox\)");
    }

    [Fact]
    public async Task Commands_in_aliases_run_as_default_privs_and_an_include_file_brings_its_owners_rights_where_allowed()
    {
        using var config = Config();
        using var account = await TestAccount.CreateAsync(config);
        account.Write("list", $"# the list\n\"|{Recorder(config)} from-list\"\n");
        // A root-owned aliases file: its commands get default_privs (nobody), not root.
        config.Write("aliases", $"""
            runner: "|{Recorder(config)} from-alias"
            listed: :include:{account.Home}/list
            shell: |exit 75
            """);
        File.AppendAllText(config.File("main.cf"), $"alias_maps = hash:{config.File("aliases")}\nmailbox_command = {Recorder(config)} from-mailbox-command\n");
        string nobody = await Command.OutputAsync("id", "-u", "nobody");
        await using (var edge = await EdgeProcess.StartAsync(config.Path, config.Path))
        {
            string runner = await SendAsync(edge.Port, "runner@edge.test");
            await edge.WaitForLogAsync($@"{runner}: to=<runner@edge\.test>, relay=local, .*status=sent \(delivered to command: ");
            Assert.StartsWith($"uid={nobody} args={config.File("out")} from-alias\n", Assert.Single(Records(config)));

            // Commands in :include: files need "include" in allow_mail_to_commands.
            string listed = await SendAsync(edge.Port, "listed@edge.test");
            await edge.WaitForLogAsync($@"{listed}: to=<listed@edge\.test>, relay=local, .*dsn=5\.7\.1, status=bounced \(mail to command is restricted\)");

            // A command that needs the shell (a built-in) gets it; its sysexits.h status decides.
            string shell = await SendAsync(edge.Port, "shell@edge.test");
            await edge.WaitForLogAsync($@"{shell}: to=<shell@edge\.test>, relay=local, .*dsn=4\.3\.0, status=deferred \(temporary failure\)");

            // mailbox_command: the user's mailbox is a command run as the user.
            string mailbox = await SendAsync(edge.Port, $"{account.Name}@edge.test");
            await edge.WaitForLogAsync($@"{mailbox}: to=<{account.Name}@edge\.test>, relay=local, .*status=sent \(delivered to command: ");
            Assert.Contains(Records(config), record => record.StartsWith($"uid={account.Uid} args={config.File("out")} from-mailbox-command\nHOME={account.Home} USER={account.Name} "));
            // An orderly stop before the restart: a kill -9 right after "status=sent" may come before that status is
            // committed, and the message would then rightly be delivered again by the next server.
            Assert.Equal(0, await edge.TerminateAsync());
        }
        foreach (string record in Directory.GetFiles(config.File("out")))
        {
            File.Delete(record);
        }
        File.AppendAllText(config.File("main.cf"), "allow_mail_to_commands = alias, forward, include\n");
        await using (var edge = await EdgeProcess.StartAsync(config.Path, config.Path))
        {
            string listed = await SendAsync(edge.Port, "listed@edge.test");
            await edge.WaitForLogAsync($@"{listed}: to=<listed@edge\.test>, relay=local, .*status=sent \(delivered to command: ");
            Assert.StartsWith($"uid={account.Uid} args={config.File("out")} from-list\n", Assert.Single(Records(config)));
        }
    }

    [Fact]
    public async Task Mailbox_transport_and_fallback_transport_hand_recipients_to_Dovecot_LMTP()
    {
        await using var dovecot = await Dovecot.StartAsync();
        // mailbox_transport: every local recipient, whether or not it has a Unix account (alice has none).
        using (var config = Config($"mailbox_transport = lmtp:unix:{dovecot.UnixSocket}"))
        await using (var edge = await EdgeProcess.StartAsync(config.Path, config.Path))
        {
            string id = await SendAsync(edge.Port, "alice@edge.test");
            await edge.WaitForLogAsync($@"edge/lmtp\[\d+\]: {id}: to=<alice@edge\.test>, relay=.*, dsn=2\.0\.0, status=sent \(250 2\.0\.0 <alice@edge\.test> .*Saved\)");
            Assert.Contains("\nSubject: local\n", Assert.Single(dovecot.Mailbox("alice")));
        }
        // fallback_transport_maps: only users without an account; nobody keeps its spool mailbox.
        using (var config = Config($"fallback_transport_maps = inline:{{ alice=lmtp:unix:{dovecot.UnixSocket} }}"))
        await using (var edge = await EdgeProcess.StartAsync(config.Path, config.Path))
        {
            string id = await SendAsync(edge.Port, "alice@edge.test");
            await edge.WaitForLogAsync($@"edge/lmtp\[\d+\]: {id}: to=<alice@edge\.test>, relay=.*, status=sent \(250 2\.0\.0 ");
            Assert.Equal(2, dovecot.Mailbox("alice").Count);
            string known = await SendAsync(edge.Port, "nobody@edge.test");
            await edge.WaitForLogAsync($@"edge/local\[\d+\]: {known}: to=<nobody@edge\.test>, relay=local, .*status=sent \(delivered to mailbox\)");
            string unknown = await SendAsync(edge.Port, "zed@edge.test");
            await edge.WaitForLogAsync($@"{unknown}: to=<zed@edge\.test>, relay=local, .*dsn=5\.1\.1, status=bounced \(unknown user: ""zed""\)");
        }
    }

    [Theory]
    [InlineData("fallback_transport = dovecot:unix:/run/dovecot/lmtp", "transport \"dovecot\" is not a master.cf service")]
    [InlineData("mailbox_transport = local", "transport \"local\" is local(8) itself, which would hand the mail back to itself")]
    public async Task A_transport_local_names_must_be_another_master_cf_service(string setting, string error)
    {
        using var config = Config(setting);
        (int exit, _, string said) = await EdgeProcess.RunAsync(config.Path, "postfix", "-c", config.Path, "check");
        Assert.NotEqual(0, exit);
        Assert.Contains(setting.Split(' ')[0], said);
        Assert.Contains(error, said);
    }

    /// <summary>
    /// A link the user makes where the user's mail goes leads nowhere the user could not write: the home mailbox and the
    /// inside of a Maildir are written with the user's rights, so root's files stay as they were.
    /// </summary>
    [Fact]
    public async Task A_link_in_the_users_mailbox_or_maildir_does_not_lead_root_elsewhere()
    {
        using var config = Config("home_mailbox = Mailbox");
        using var account = await TestAccount.CreateAsync(config);
        Directory.CreateDirectory(config.File("root-only"));
        File.SetUnixFileMode(config.File("root-only"), (UnixFileMode)0b111_000_000);
        config.Write("root-only/target", "root's\n");
        File.CreateSymbolicLink(Path.Combine(account.Home, "Mailbox"), config.File("root-only/target"));
        await using (var edge = await EdgeProcess.StartAsync(config.Path, config.Path))
        {
            string id = await SendAsync(edge.Port, $"{account.Name}@edge.test");
            await edge.WaitForLogAsync($@"{id}: to=<{account.Name}@edge\.test>, relay=local, .*dsn=4\.2\.0, status=deferred \(cannot write mailbox {Regex.Escape(account.Home)}/Mailbox: ");
        }
        Assert.Equal("root's\n", File.ReadAllText(config.File("root-only/target")));

        // A Maildir in the spool: its tmp/ is the user's to make a link of.
        File.AppendAllText(config.File("main.cf"), $"home_mailbox =\nmail_spool_directory = {config.File("spool")}/\n");
        string maildir = config.File($"spool/{account.Name}");
        Directory.CreateDirectory(maildir);
        account.Chown(maildir);
        File.CreateSymbolicLink(Path.Combine(maildir, "tmp"), config.File("root-only"));
        await using (var edge = await EdgeProcess.StartAsync(config.Path, config.Path))
        {
            string id = await SendAsync(edge.Port, $"{account.Name}@edge.test");
            await edge.WaitForLogAsync($@"{id}: to=<{account.Name}@edge\.test>, relay=local, .*dsn=4\.2\.0, status=deferred \(cannot write maildir ");
        }
        Assert.Equal(["target"], Directory.GetFiles(config.File("root-only")).Select(Path.GetFileName));
    }

    /// <summary>
    /// A command that leaves something running in the background (holding its output open) is stopped at
    /// command_time_limit with all it started, as Postfix kills the command's process group.
    /// </summary>
    [Fact]
    public async Task A_command_that_leaves_a_child_behind_is_stopped_at_the_time_limit_with_it()
    {
        using var config = Config("command_time_limit = 2s");
        using var account = await TestAccount.CreateAsync(config);
        string marker = $"{Random.Shared.Next(100_000, 999_999)}";
        account.Write(".forward", $"\"|sleep {marker} &\"\n");
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string id = await SendAsync(edge.Port, $"{account.Name}@edge.test");
        await edge.WaitForLogAsync($@"{id}: to=<{account.Name}@edge\.test>, relay=local, .*dsn=5\.3\.0, status=bounced \(Command time limit exceeded: ""sleep {marker} &""\)");
        using var pgrep = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("pgrep", ["-f", $"sleep {marker}"]) { RedirectStandardOutput = true })!;
        Assert.Equal("", (await pgrep.StandardOutput.ReadToEndAsync()).Trim());
    }

    /// <summary>An alias that names itself goes on to the user's .forward, as in Postfix, and a .forward that is a link is ignored.</summary>
    [Fact]
    public async Task An_alias_of_itself_reads_the_users_forward_file_and_a_linked_forward_file_is_ignored()
    {
        using var config = Config();
        using var account = await TestAccount.CreateAsync(config);
        File.AppendAllText(config.File("main.cf"), $"alias_maps = inline:{{ {{ {account.Name} = {account.Name}, copy@remote.example }} }}\n");
        account.Write("real-forward", $"\"|{Recorder(config)} via-forward\"\n");
        account.Write(".forward", $"\"|{Recorder(config)} via-forward\"\n");
        File.CreateSymbolicLink(Path.Combine(account.Home, ".forward+linked"), Path.Combine(account.Home, "real-forward"));
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);

        string id = await SendAsync(edge.Port, $"{account.Name}@edge.test");
        await edge.WaitForLogAsync($@"{id}: to=<{account.Name}@edge\.test>, relay=local, .*status=sent \(delivered to command: {Regex.Escape(Recorder(config))} via-forward; forwarded as \w+\)");
        Assert.StartsWith($"uid={account.Uid} ", Assert.Single(Records(config)));

        string linked = await SendAsync(edge.Port, $"{account.Name}+linked@edge.test");
        await edge.WaitForLogAsync($@"warning: file {Regex.Escape(account.Home)}/\.forward\+linked is not a regular file");
        await edge.WaitForLogAsync($@"{linked}: to=<{account.Name}\+linked@edge\.test>, relay=local, .*status=sent \(delivered to mailbox; forwarded as \w+\)");
    }

    /// <summary>command_execution_directory is entered with the command's rights; one those rights cannot enter defers.</summary>
    [Fact]
    public async Task A_command_runs_in_command_execution_directory_entered_with_its_rights()
    {
        using var config = Config("command_execution_directory = $home/work");
        using var account = await TestAccount.CreateAsync(config);
        account.Write(".forward", "\"|/bin/pwd\"\n");
        string work = Path.Combine(account.Home, "work");
        Directory.CreateDirectory(work);
        // Root's directory, closed to the user: Edge, which could enter it, must not run the command there.
        File.SetUnixFileMode(work, (UnixFileMode)0b111_000_000);
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string closed = await SendAsync(edge.Port, $"{account.Name}@edge.test");
        await edge.WaitForLogAsync($@"{closed}: to=<{account.Name}@edge\.test>, relay=local, .*dsn=4\.3\.0, status=deferred \(temporary failure\. Command output: .*can't cd to {Regex.Escape(work)}");

        account.Chown(work);
        string open = await SendAsync(edge.Port, $"{account.Name}+x@edge.test");
        await edge.WaitForLogAsync($@"{open}: to=<{account.Name}\+x@edge\.test>, relay=local, .*status=sent \(delivered to command: /bin/pwd\. Command output: {Regex.Escape(work)}\)");
    }

    /// <summary>An alias table inside a unionmap brings its file's owner's rights, as a plain one does, not root's trust.</summary>
    [Fact]
    public async Task An_alias_file_of_a_user_inside_a_unionmap_gives_its_commands_the_users_rights()
    {
        using var config = Config();
        using var account = await TestAccount.CreateAsync(config);
        account.Write("aliases", $"runner: \"|{Recorder(config)} from-union\"\n");
        File.AppendAllText(config.File("main.cf"), $"alias_maps = unionmap:{{inline:{{other=nobody}}, hash:{account.Home}/aliases}}\n");
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string id = await SendAsync(edge.Port, "runner@edge.test");
        await edge.WaitForLogAsync($@"{id}: to=<runner@edge\.test>, relay=local, .*status=sent \(delivered to command: ");
        Assert.StartsWith($"uid={account.Uid} args={config.File("out")} from-union\n", Assert.Single(Records(config)));
    }

    /// <summary>mailbox_size_limit also limits the files a command writes, as Postfix's local(8) runs commands under it.</summary>
    [Fact]
    public async Task A_command_writes_files_no_larger_than_mailbox_size_limit()
    {
        using var config = Config("message_size_limit = 4000\nmailbox_size_limit = 4000");
        using var account = await TestAccount.CreateAsync(config);
        account.Write(".forward", "\"|/usr/bin/head -c 5000 /dev/zero > $HOME/big\"\n");
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string id = await SendAsync(edge.Port, $"{account.Name}@edge.test");
        // SIGXFSZ (25) at the limit: a signal defers, as in Postfix.
        await edge.WaitForLogAsync($@"{id}: to=<{account.Name}@edge\.test>, relay=local, .*dsn=4\.3\.0, status=deferred \(Command died with signal 25: ");
        Assert.Equal(4000, new FileInfo(Path.Combine(account.Home, "big")).Length);
    }
}
