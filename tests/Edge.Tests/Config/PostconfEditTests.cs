using Edge.Cli;

namespace Edge.Tests.Config;

/// <summary>edge postconf -e, -X and -#, as Postfix's: main.cf edited in place, its comments and other lines kept.</summary>
public class PostconfEditTests
{
    private const string MainCf = """
        # Edge's main.cf
        myhostname = mx.example.org

        # who may relay
        mynetworks = 127.0.0.0/8
            192.0.2.0/24
        smtpd_banner = $myhostname ESMTP
        """;

    private static (int Exit, string Out, string Err, string MainCf) Run(TempConfigDir config, params string[] args)
    {
        var stdout = new StringWriter { NewLine = "\n" };
        var stderr = new StringWriter { NewLine = "\n" };
        int exit = PostconfCommand.Run(["-c", config.Path, .. args], stdout, stderr);
        return (exit, stdout.ToString(), stderr.ToString(), File.ReadAllText(config.MainCf));
    }

    private static TempConfigDir Config()
    {
        var config = new TempConfigDir();
        File.WriteAllText(config.MainCf, MainCf + "\n");
        return config;
    }

    [Fact]
    public void Edit_replaces_a_whole_logical_line_in_place_and_appends_what_was_not_set()
    {
        using TempConfigDir config = Config();
        (int exit, string output, string errors, string mainCf) = Run(config, "-e", "mynetworks = 10.0.0.0/8", "relayhost=[smarthost.example]");
        Assert.Equal((0, "", ""), (exit, output, errors));
        Assert.Equal("""
            # Edge's main.cf
            myhostname = mx.example.org

            # who may relay
            mynetworks = 10.0.0.0/8
            smtpd_banner = $myhostname ESMTP
            relayhost = [smarthost.example]

            """, mainCf);
        // What postconf prints is what was written.
        Assert.Equal("mynetworks = 10.0.0.0/8\n", Run(config, "mynetworks").Out);
    }

    [Fact]
    public void Remove_and_comment_out_take_continuation_lines_along()
    {
        using (TempConfigDir config = Config())
        {
            Assert.Equal("""
                # Edge's main.cf
                myhostname = mx.example.org

                # who may relay
                smtpd_banner = $myhostname ESMTP

                """, Run(config, "-X", "mynetworks").MainCf);
        }
        using (TempConfigDir config = Config())
        {
            Assert.Equal("""
                # Edge's main.cf
                myhostname = mx.example.org

                # who may relay
                #mynetworks = 127.0.0.0/8
                #    192.0.2.0/24
                smtpd_banner = $myhostname ESMTP

                """, Run(config, "-#", "mynetworks").MainCf);
        }
    }

    [Fact]
    public void Bad_requests_change_nothing_and_say_why()
    {
        using TempConfigDir config = Config();
        Assert.Equal((1, "", "postconf: fatal: missing '=' after attribute name: \"mynetworks\"\n", MainCf + "\n"),
            Run(config, "-e", "mynetworks"));
        Assert.Equal((1, "", "postconf: fatal: -X or -# requires parameter names without value\n", MainCf + "\n"),
            Run(config, "-X", "mynetworks=1"));
        var stderr = new StringWriter { NewLine = "\n" };
        Assert.Equal(1, PostconfCommand.Run(["-e", "relayhost=x"], new StringWriter(), stderr));
        Assert.StartsWith("postconf: fatal: -e, -X and -# edit DIR/main.cf: name the configuration directory with -c", stderr.ToString());
        // A parameter named twice in main.cf: each line is replaced, with Postfix's warning.
        File.WriteAllText(config.MainCf, "relayhost = a\nrelayhost = b\n");
        (int exit, _, string errors, string mainCf) = Run(config, "-e", "relayhost=c");
        Assert.Equal(0, exit);
        Assert.Equal($"postconf: warning: {config.MainCf}: multiple entries for \"relayhost\"\n", errors);
        Assert.Equal("relayhost = c\nrelayhost = c\n", mainCf);
    }

    [Fact]
    public void The_lists_name_what_edge_has()
    {
        using TempConfigDir config = Config();
        string types = Run(config, "-m").Out;
        Assert.Contains("\npcre\n", types);
        Assert.Contains("\ncidr\n", types);
        Assert.Contains("\nldap\n", types);
        Assert.Contains("\nenviron\n", types);
        Assert.DoesNotContain("nisplus", types);
        Assert.Equal("dovecot\n", Run(config, "-a").Out);
        Assert.Equal("flock\n", Run(config, "-l").Out);
    }
}
