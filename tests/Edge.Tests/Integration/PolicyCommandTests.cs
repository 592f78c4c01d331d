using Edge.Tests.Support;

namespace Edge.Tests.Integration;

/// <summary>
/// <c>edge policy test FILE [--stage NAME] name=value ...</c>, run as a user runs it: the action on the first line,
/// the script's log lines after it, exit status 0; a syntax error or a limit on standard error with the file and
/// line, exit status 1.
/// </summary>
public class PolicyCommandTests
{
    [Fact]
    public async Task An_answer_is_printed_with_the_scripts_log_lines()
    {
        using var directory = new TempDirectory();
        directory.Write("policy.js", """
            const greylisted = ({ client_address, sender, recipient }) => `${client_address}/${sender}/${recipient}`;
            function policy(r) {
                log(`triplet ${greylisted(r)}`);
                return r.helo_name === '' ? 'REJECT no HELO' : 'DUNNO';
            }
            function rcpt(r) { log(r.protocol_state); return 'OK'; }
            """);
        var (exit, output, error) = await EdgeProcess.RunAsync(directory.Path, "policy", "test", directory.File("policy.js"),
            "--stage", "policy", "client_address=192.0.2.1", "sender=a@example.org", "recipient=b@example.com");
        Assert.Equal("", error);
        Assert.Equal(0, exit);
        Assert.Equal("REJECT no HELO\ntriplet 192.0.2.1/a@example.org/b@example.com\n", output);
        // Without --stage, as the server chooses: the request's stage (RCPT unless given) has its own function here.
        (exit, output, _) = await EdgeProcess.RunAsync(directory.Path, "policy", "test", "policy.js");
        Assert.Equal(0, exit);
        Assert.Equal("OK\nRCPT\n", output);
        (exit, output, _) = await EdgeProcess.RunAsync(directory.Path, "policy", "test", "policy.js", "protocol_state=DATA", "helo_name=x");
        Assert.Equal(0, exit);
        Assert.Equal("DUNNO\ntriplet //\n", output);
    }

    [Fact]
    public async Task A_syntax_error_names_the_file_and_line()
    {
        using var directory = new TempDirectory();
        directory.Write("policy.js", "function policy(r) {\n  return 'OK'\n}}\n");
        var (exit, output, error) = await EdgeProcess.RunAsync(directory.Path, "policy", "test", directory.File("policy.js"));
        Assert.Equal(1, exit);
        Assert.Equal("", output);
        Assert.Equal($"edge policy: check_policy_script {directory.File("policy.js")}, line 3: Unexpected token '}}'\n", error);
    }

    [Fact]
    public async Task A_script_stopped_by_a_limit_says_which_and_where()
    {
        using var directory = new TempDirectory();
        directory.Write("main.cf", "edge_policy_time_limit = 100ms\n");
        directory.Write("policy.js", "function policy(r) {\n  log('starting');\n  while (r.recipient !== 'never') {}\n}\n");
        var (exit, output, error) = await EdgeProcess.RunAsync(directory.Path, "policy", "test", "-c", directory.Path,
            directory.File("policy.js"), "recipient=someone@example.com");
        Assert.Equal(1, exit);
        Assert.Equal("starting\n", output);
        Assert.Equal($"edge policy: check_policy_script {directory.File("policy.js")}, line 3: stopped by edge_policy_time_limit (100 ms)\n", error);
    }

    [Theory]
    [InlineData("--stage", "nowhere", "unknown stage \"nowhere\"")]
    [InlineData("notanattribute", "", "\"notanattribute\" is not name=value")]
    public async Task Bad_arguments_are_a_usage_error(string argument, string value, string message)
    {
        using var directory = new TempDirectory();
        directory.Write("policy.js", "function policy(r) { return 'OK'; }");
        string[] args = value.Length > 0 ? ["policy", "test", "policy.js", argument, value] : ["policy", "test", "policy.js", argument];
        var (exit, _, error) = await EdgeProcess.RunAsync(directory.Path, args);
        Assert.Equal(2, exit);
        Assert.Contains(message, error);
    }

    [Fact]
    public async Task The_shipped_attachment_policy_is_tried_on_a_message_file()
    {
        using var directory = new TempDirectory();
        directory.Write("bad.eml", "Subject: invoice\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\n" +
            "Content-Type: text/plain\n\nsee attached\n--b\nContent-Type: application/octet-stream\n" +
            "Content-Disposition: attachment; filename=\"invoice.scr\"\n\nMZ\n--b--\n");
        directory.Write("good.eml", "Subject: hello\n\nno attachment\n");
        string policy = Path.Combine(AppContext.BaseDirectory, "policies", "attachments.js");
        var (exit, output, error) = await EdgeProcess.RunAsync(directory.Path, "policy", "test", policy, "--message", "bad.eml",
            "client_address=192.0.2.1", "sender=a@example.org", "recipient=b@example.com,c@example.com");
        Assert.Equal("", error);
        Assert.Equal(0, exit);
        Assert.Equal("REJECT 5.7.1 Executable attachments are not accepted (\"invoice.scr\"); please share the file another way\n" +
            "executable attachment \"invoice.scr\" (application/octet-stream) from 192.0.2.1, sender <a@example.org>\n", output);
        (exit, output, _) = await EdgeProcess.RunAsync(directory.Path, "policy", "test", policy, "--message", "good.eml");
        Assert.Equal(0, exit);
        Assert.Equal("DUNNO\n", output);
    }
}
