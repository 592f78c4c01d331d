using Edge.Cli;

namespace Edge.Tests.Config;

public class PostconfCommandTests
{
    static (int Exit, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter { NewLine = "\n" };
        var stderr = new StringWriter { NewLine = "\n" };
        var exit = PostconfCommand.Run(args, stdout, stderr);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void DefaultsPrintPostfixDefaultsUnexpanded()
    {
        var (exit, output, errors) = Run("-d", "mydestination", "smtpd_banner", "relayhost", "smtpd_timeout", "mynetworks_style");

        Assert.Equal(0, exit);
        Assert.Equal("""
            mydestination = $myhostname, localhost.$mydomain, localhost
            smtpd_banner = $myhostname ESMTP $mail_name
            relayhost =
            smtpd_timeout = 300s
            mynetworks_style = host

            """, output);
        Assert.Empty(errors);
    }

    [Fact]
    public void NamedParametersThatEdgeDoesNotImplementAreNoted()
    {
        var (exit, output, errors) = Run("-d", "smtpd_command_filter", "qmgr_message_recipient_limit", "daemon_directory", "smtpd_banner");

        Assert.Equal(0, exit);
        Assert.Equal(4, output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal("""
            postconf: note: smtpd_command_filter: not implemented by Edge yet: a value other than the default stops start-up (edge_unimplemented_parameters)
            postconf: note: qmgr_message_recipient_limit: not implemented by Edge yet: a value other than the default has no effect, and start-up says so
            postconf: note: daemon_directory: no meaning in Edge, which runs as one process: accepted and ignored

            """, errors);
    }

    [Fact]
    public void DefaultsIncludePerTransportParametersOfTheMasterCfServices()
    {
        var (_, output, _) = Run("-d");

        Assert.Contains("\nrelay_destination_concurrency_limit = $default_destination_concurrency_limit\n", output);
        Assert.Contains("\nlocal_destination_concurrency_limit = 2\n", output);
        Assert.Contains("\nmail_name = Edge\n", output);
        var names = output.TrimEnd('\n').Split('\n').Select(l => l[..l.IndexOf(" =", StringComparison.Ordinal)]).ToList();
        Assert.Equal(names.Order(StringComparer.Ordinal), names);
    }

    [Fact]
    public void NonDefaultWithoutADirectoryPrintsTheBuiltInMainCf()
    {
        // The built-in main.cf sets nothing: Postfix's defaults.
        Assert.Equal((0, "", ""), Run("-n"));
    }

    [Fact]
    public void NonDefaultPrintsWhatMainCfSetsSortedByName()
    {
        using var dir = new TempConfigDir().WithMain("myorigin = $foo\nfoo = bar\nbaz = 1\nsmtpd_helo_required=yes\n");

        var (exit, output, errors) = Run("-c", dir.Path, "-n");

        Assert.Equal(0, exit);
        Assert.Equal($"config_directory = {dir.Path}\nfoo = bar\nmyorigin = $foo\nsmtpd_helo_required = yes\n", output);
        Assert.Equal($"postconf: warning: {dir.MainCf}, line 3: unused parameter: baz=1\n", errors);
    }

    [Fact]
    public void NonDefaultWithANameThatIsNotSetPrintsNothing()
    {
        using var dir = new TempConfigDir().WithMain("myorigin = $mydomain\n");

        Assert.Equal((0, "myorigin = $mydomain\n", ""), Run($"-c{dir.Path}", "-n", "myorigin", "mydomain"));
    }

    [Fact]
    public void ValuesOnlyAndExpansion()
    {
        using var dir = new TempConfigDir().WithMain("myhostname = mail.example.org\n");

        Assert.Equal((0, "$myhostname, localhost.$mydomain, localhost\n", ""), Run("-c", dir.Path, "-h", "mydestination"));
        Assert.Equal((0, "mail.example.org, localhost.example.org, localhost\n", ""), Run("-c", dir.Path, "-hx", "mydestination"));
        Assert.Equal((0, "smtpd_banner = mail.example.org ESMTP Edge\n", ""), Run("-c", dir.Path, "-x", "smtpd_banner"));
    }

    [Fact]
    public void DefaultsExpandWithNothingSet()
    {
        using var dir = new TempConfigDir().WithMain("mail_name = Other\n");

        var (_, output, _) = Run("-c", dir.Path, "-dx", "smtpd_banner");

        Assert.EndsWith(" ESMTP Edge\n", output);
    }

    [Fact]
    public void WithoutFlagsPrintsEffectiveValues()
    {
        using var dir = new TempConfigDir().WithMain("smtpd_timeout = 60s\n");

        var (exit, output, _) = Run("-c", dir.Path);

        Assert.Equal(0, exit);
        Assert.Contains("\nsmtpd_timeout = 60s\n", output);
        Assert.Contains("\nmydestination = $myhostname, localhost.$mydomain, localhost\n", output);
    }

    [Fact]
    public void UnknownNameIsAWarningNotAFailure()
    {
        Assert.Equal((0, "mydestination = $myhostname, localhost.$mydomain, localhost\n", "postconf: warning: nosuch: unknown parameter\n"),
            Run("nosuch", "mydestination"));
    }

    [Fact]
    public void SetButUnusedNameIsUnknown()
    {
        using var dir = new TempConfigDir().WithMain("baz = 1\n");

        var (exit, output, errors) = Run("-c", dir.Path, "baz");

        Assert.Equal((0, ""), (exit, output));
        Assert.EndsWith("postconf: warning: baz: unknown parameter\n", errors);
    }

    [Fact]
    public void DefaultsAndNonDefaultTogetherAreFatal()
    {
        Assert.Equal((1, "", "postconf: fatal: specify one of -d -n\n"), Run("-d", "-n"));
    }

    [Fact]
    public void UnknownOptionIsFatalWithUsage()
    {
        Assert.Equal((1, "", "postconf: fatal: usage: edge postconf [-c config_dir] [-d | -n] [-h] [-x] [name ...] | -e name=value ... | " +
            "-X name ... | -# name ... | -m | -a | -l | -M [-f] [service[/type] ...]\n"), Run("-q"));
    }

    [Fact]
    public void ConfigurationErrorIsFatalWithItsLocation()
    {
        using var dir = new TempConfigDir();

        Assert.Equal((1, "", $"postconf: fatal: {dir.MainCf}: cannot open file: No such file or directory\n"), Run("-c", dir.Path));

        dir.WithMain("ok = 1\nnot a setting\n");
        Assert.Equal((1, "", $"postconf: fatal: {dir.MainCf}, line 2: missing '=' after attribute name: \"not a setting\"\n"), Run("-c", dir.Path, "-n"));
    }

    [Fact]
    public void ExpansionErrorIsFatal()
    {
        using var dir = new TempConfigDir().WithMain("myorigin = $a\na = $myorigin\n");

        var (exit, _, errors) = Run("-c", dir.Path, "-x", "myorigin");

        Assert.Equal(1, exit);
        Assert.Equal($"postconf: fatal: {dir.MainCf}, line 1: parameter myorigin: expansion loop: $myorigin -> $a -> $myorigin\n", errors);
    }
}
