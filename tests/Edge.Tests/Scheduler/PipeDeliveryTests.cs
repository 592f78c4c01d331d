using System.Runtime.Versioning;
using Edge.Config;
using Edge.Delivery.Pipe;
using Edge.Tests.Support;

namespace Edge.Tests.Scheduler;

/// <summary>pipe(8): a master.cf command gets the message on its standard input, and its exit status decides.</summary>
[UnsupportedOSPlatform("windows")]
public class PipeDeliveryTests
{
    /// <summary>
    /// The command: records its uid and arguments, then the message, in a new file of the output folder; a
    /// recipient whose user part names an exit code makes it say something and exit with that code.
    /// </summary>
    private const string Script = """
        #!/bin/sh
        out="$1"; shift
        case "$3" in
            exit67*) echo "no such user: $3" >&2; exit 67 ;;
            exit75*) echo "try later" ; exit 75 ;;
            exit3*) exit 3 ;;
        esac
        file="$out/$(date +%s%N)"
        { echo "uid=$(id -u)"; printf 'argv:'; printf ' [%s]' "$@"; echo; cat; } > "$file.tmp"
        mv "$file.tmp" "$file"
        """;

    private static TempDirectory ConfigDirectory(string attributes)
    {
        var directory = new TempDirectory();
        directory.Write("main.cf", EdgeInstance.BaseMainCf(directory) + """

            relay_domains = pipe.example
            transport_maps = inline:{ pipe.example=filter:Gate.Example }
            recipient_delimiter = +

            """);
        directory.Write("filter.sh", Script.Replace("\r\n", "\n"));
        File.SetUnixFileMode(directory.File("filter.sh"), (UnixFileMode)0b111_101_101);
        Directory.CreateDirectory(directory.File("out"));
        // The command runs as nobody, which must be able to write its output.
        File.SetUnixFileMode(directory.File("out"), (UnixFileMode)0b111_111_111);
        directory.Write("master.cf", $"""
            127.0.0.1:0 inet n - n - - smtpd
            qmgr      unix  n       -       n       300     1       qmgr
            filter    unix  -       n       n       -       -       pipe
              {attributes} argv={directory.File("filter.sh")} {directory.File("out")} ${"{sender}"} ${"{nexthop}"} ${"{user}"} ${"{recipient}"}
            """);
        return directory;
    }

    private static Task<string> SendAsync(int port, string body, params string[] recipients) =>
        SmtpConnection.SendMessageAsync(port, $"Subject: piped\r\n\r\n{body}", recipients);

    [Fact]
    public async Task One_run_gets_every_recipient_as_arguments_and_the_message_with_the_flags_headers()
    {
        using var config = ConfigDirectory("flags=FRh.> user=nobody");
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string id = await SendAsync(edge.Port, "..dot line\r\nFrom here\r\nlast", "Ann+tag@pipe.example", "bob@pipe.example");
        await edge.WaitForLogAsync($@"edge/pipe\[\d+\]: {id}: to=<Ann\+tag@pipe\.example>, relay=filter, .*dsn=2\.0\.0, status=sent \(delivered via filter service\)");
        await edge.WaitForLogAsync($@"edge/pipe\[\d+\]: {id}: to=<bob@pipe\.example>, relay=filter, .*status=sent \(delivered via filter service\)");

        string file = Assert.Single(Directory.GetFiles(config.File("out")));
        string[] lines = (await File.ReadAllTextAsync(file)).Split('\n');
        if (Environment.IsPrivilegedProcess)
        {
            Assert.Equal($"uid={await Command.OutputAsync("id", "-u", "nobody")}", lines[0]);
        }
        // ${nexthop} folded to lower case by h; ${user} without the extension; a recipient macro repeats per recipient.
        Assert.Equal("argv: [sender@example.org] [gate.example] [Ann] [bob] [Ann+tag@pipe.example] [bob@pipe.example]", lines[1]);
        Assert.Matches(@"^From sender@example\.org \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}$", lines[2]);
        Assert.Equal("Return-Path: <sender@example.org>", lines[3]);
        Assert.StartsWith("Received: ", lines[4]);
        string content = string.Join('\n', lines);
        // The client's "..dot line" is ".dot line" in the queue; the . flag stuffs it again for the command.
        Assert.Contains("\nSubject: piped\n\n..dot line\n>From here\nlast\n", content);
        Assert.DoesNotContain("\r", content);
    }

    [Fact]
    public async Task Exit_status_decides_bounce_or_defer_with_the_commands_output_as_the_reason()
    {
        using var config = ConfigDirectory("flags= user=nobody");
        File.AppendAllText(config.File("main.cf"), "filter_destination_recipient_limit = 1\n");
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string id = await SendAsync(edge.Port, "x", "exit67@pipe.example", "exit75@pipe.example", "exit3@pipe.example");

        await edge.WaitForLogAsync($@"{id}: to=<exit67@pipe\.example>, relay=filter, .*dsn=5\.1\.1, status=bounced \(user unknown\. Command output: no such user: exit67\)");
        await edge.WaitForLogAsync($@"{id}: to=<exit75@pipe\.example>, relay=filter, .*dsn=4\.3\.0, status=deferred \(temporary failure\. Command output: try later\)");
        await edge.WaitForLogAsync($@"{id}: to=<exit3@pipe\.example>, relay=filter, .*dsn=5\.3\.0, status=bounced \(Command died with status 3: "".*filter\.sh .*\)");
        Assert.Empty(Directory.GetFiles(config.File("out")));
    }

    [Fact]
    public async Task A_command_over_its_time_limit_is_killed_and_the_recipient_bounced()
    {
        using var config = new TempDirectory();
        config.Write("main.cf", EdgeInstance.BaseMainCf(config) + """

            relay_domains = pipe.example
            transport_maps = inline:{ pipe.example=slow: }
            slow_time_limit = 1s

            """);
        config.Write("master.cf", """
            127.0.0.1:0 inet n - n - - smtpd
            qmgr      unix  n       -       n       300     1       qmgr
            slow      unix  -       n       n       -       -       pipe user=nobody argv=/bin/sleep 60
            """);
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string id = await SendAsync(edge.Port, "x", "a@pipe.example");
        await edge.WaitForLogAsync($@"{id}: to=<a@pipe\.example>, relay=slow, .*dsn=5\.3\.0, status=bounced \(Command time limit exceeded: ""/bin/sleep 60""\)");
    }

    [Fact]
    public async Task Dot_stuffing_applies_only_at_a_line_start_even_after_a_partial_From()
    {
        byte[] input = ".a\r\nFr.x\r\n.From\r\nFrom ."u8.ToArray();
        using var output = new MemoryStream();
        var writer = new Edge.Delivery.MailboxWriter(output, quoteFrom: true, stuffDots: true);
        foreach (byte b in input)
        {
            await writer.WriteAsync(new[] { b });
        }
        await writer.FinishAsync(CancellationToken.None);
        Assert.Equal("..a\nFr.x\n..From\n>From .", System.Text.Encoding.ASCII.GetString(output.ToArray()));
    }

    [Theory]
    [InlineData("pipe flags=R argv=/bin/cat", "missing user= attribute")]
    [InlineData("pipe user=nobody", "missing argv= attribute")]
    [InlineData("pipe user=nobody flags=Rz argv=/bin/cat", "unknown flag 'z'")]
    [InlineData("pipe user=nobody argv=/bin/echo ${colour}", "unknown macro ${colour}")]
    [InlineData("pipe user=root argv=/bin/cat", "user=root has root privileges")]
    [InlineData("pipe user=no-such-user-here argv=/bin/cat", "unknown user name: no-such-user-here")]
    [InlineData("pipe user=nobody flags=D argv=/bin/cat", "set filter_destination_recipient_limit = 1")]
    [InlineData("pipe user=nobody eol=\\r\\n argv=/bin/cat", "LF line ends only")]
    public void A_bad_attribute_names_master_cf_its_line_and_the_service(string command, string reason)
    {
        using var config = new TempDirectory();
        config.Write("main.cf", EdgeInstance.BaseMainCf(config));
        config.Write("master.cf", $"127.0.0.1:0 inet n - n - - smtpd\n# a comment\nfilter unix - n n - - {command}\n");
        MainConfig main = MainConfig.Load(config.Path);
        MasterService service = MasterConfig.Load(config.Path, main).Transports.Single();

        var error = Assert.Throws<ConfigException>(() => new PipeTransport(service, service.ConfigFrom(main)));
        Assert.Equal(config.File("master.cf"), error.File);
        Assert.Equal(3, error.Line);
        Assert.Contains("service filter: ", error.Message);
        Assert.Contains(reason, error.Message);
    }

    /// <summary>
    /// export_environment takes its variables from the environment import_environment gives the server, as Postfix's
    /// commands get them from what master(8) kept: a variable Edge was started with but the list does not import is
    /// not passed on, and the list's name=value settings are.
    /// </summary>
    [Fact]
    public async Task A_command_gets_the_exported_variables_of_the_imported_environment()
    {
        using var config = ConfigDirectory("flags= user=nobody");
        File.AppendAllText(config.File("main.cf"), """
            import_environment = MAIL_CONFIG TZ LANG=C EDGE_TEST_IMPORTED { EDGE_TEST_SET = set in main.cf }
            export_environment = TZ LANG EDGE_TEST_IMPORTED EDGE_TEST_SET EDGE_TEST_NOT_IMPORTED

            """);
        File.WriteAllText(config.File("master.cf"), $"""
            127.0.0.1:0 inet n - n - - smtpd
            qmgr      unix  n       -       n       300     1       qmgr
            filter    unix  -       n       n       -       -       pipe
              flags= user=nobody argv=/bin/sh -c env>{config.File("out")}/env
            """);
        Environment.SetEnvironmentVariable("EDGE_TEST_IMPORTED", "imported");
        Environment.SetEnvironmentVariable("EDGE_TEST_NOT_IMPORTED", "not imported");
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string id = await SendAsync(edge.Port, "x", "someone@pipe.example");
        await edge.WaitForLogAsync($@"{id}: to=<someone@pipe\.example>, relay=filter, .*status=sent");

        string[] environment = [.. (await File.ReadAllTextAsync(config.File("out/env"))).Split('\n', StringSplitOptions.RemoveEmptyEntries).Order()];
        Assert.Contains("EDGE_TEST_IMPORTED=imported", environment);
        Assert.Contains("EDGE_TEST_SET=set in main.cf", environment);
        Assert.Contains("LANG=C", environment);
        Assert.Contains("PATH=/usr/bin:/bin", environment);
        Assert.DoesNotContain(environment, line => line.StartsWith("EDGE_TEST_NOT_IMPORTED=", StringComparison.Ordinal));
    }
}
