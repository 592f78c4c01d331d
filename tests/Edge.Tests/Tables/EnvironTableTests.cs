using Edge.Cli;
using Edge.Config;
using Edge.Tests.Support;

namespace Edge.Tests.Tables;

/// <summary>
/// environ: looks the key up in the environment (folded to lower case first, as in Postfix). postmap sees its own
/// environment with import_environment's name=value settings; the server sees only what import_environment imports.
/// </summary>
public class EnvironTableTests
{
    static EnvironTableTests()
    {
        Environment.SetEnvironmentVariable("edge_environ_test", "from the process");
        Environment.SetEnvironmentVariable("friend@bad.example", "REJECT not imported, so never seen by the server");
    }

    [Theory]
    [InlineData("edge_environ_test")]
    [InlineData("EDGE_ENVIRON_TEST")]
    [InlineData("edge_environ_set")]
    [InlineData("PATH")]
    [InlineData("missing_here")]
    public async Task A_lookup_finds_what_postfix_finds(string key)
    {
        using var config = new TempDirectory();
        config.Write("main.cf", "import_environment = MAIL_CONFIG TZ { edge_environ_set = from main.cf }\n");
        PostmapQuery.Answers answers = await PostmapQuery.AskAsync(config.Path, key, "environ:x");
        Assert.True(answers.Agree, answers.ToString());
        Assert.Equal(key is "edge_environ_test" or "EDGE_ENVIRON_TEST" or "edge_environ_set" ? 0 : 1, answers.EdgeExit);
    }

    [Fact]
    public async Task The_server_sees_only_the_imported_environment()
    {
        await using var edge = await EdgeInstance.StartAsync("""
            import_environment = MAIL_CONFIG TZ { spammer@bad.example = 554 go away }
            smtpd_sender_restrictions = check_sender_access environ:senders
            """);
        Assert.Equal("554 5.7.1 <spammer@bad.example>: Sender address rejected: go away", await SenderCheckAsync(edge, "spammer@bad.example"));
        Assert.Equal("250 2.1.5 Ok", await SenderCheckAsync(edge, "friend@bad.example"));

        // The variable is there: postmap, whose environment import_environment does not clean, finds it.
        var output = new StringWriter();
        Assert.Equal(0, PostmapCommand.Run("postmap", ["-c", edge.Directory.Path, "-q", "friend@bad.example", "environ:senders"],
            TextReader.Null, output, new StringWriter()));
        Assert.StartsWith("REJECT", output.ToString());
    }

    [Fact]
    public async Task An_import_without_a_name_stops_start_up()
    {
        using var directory = new TempDirectory();
        var e = await Assert.ThrowsAsync<ConfigException>(() => EdgeInstance.StartAsync("import_environment = TZ =oops", reuse: directory));
        Assert.Contains("parameter import_environment: missing attribute name in \"=oops\"", e.Message);
    }

    private static async Task<string> SenderCheckAsync(EdgeInstance edge, string sender)
    {
        await using var c = await edge.ConnectAsync();
        await c.CommandAsync("EHLO client.example");
        Assert.Equal("250 2.1.0 Ok", await c.CommandAsync($"MAIL FROM:<{sender}>"));
        return await c.CommandAsync("RCPT TO:<user@edge.test>");
    }
}
