using Edge.Config;
using Edge.Tests.Support;

namespace Edge.Tests.Integration;

/// <summary>
/// The honesty rule at start-up: a parameter Edge does not implement, set to other than its default, stops Edge
/// with the file, line and name when it would change what is accepted, filtered, authenticated, encrypted or
/// rewritten, and is warned about otherwise; master.cf services Edge does not implement likewise;
/// edge_unimplemented_parameters = warn starts anyway, saying what has no effect.
/// </summary>
public class UnimplementedConfigurationTests
{
    private static TempDirectory Config(string mainCf, string masterCf = "127.0.0.1:0 inet n - n - - smtpd\nqmgr unix n - n 300 1 qmgr\nsmtp unix - - n - - smtp\nlocal unix - n n - - local\n")
    {
        var directory = new TempDirectory();
        directory.Write("main.cf", EdgeInstance.BaseMainCf(directory) + "\n" + mainCf + "\n");
        directory.Write("master.cf", masterCf);
        return directory;
    }

    [Theory]
    [InlineData("sender_bcc_maps = hash:/etc/postfix/sender_bcc")]
    [InlineData("smtpd_command_filter = pcre:/etc/postfix/command_filter")]
    [InlineData("recipient_bcc_maps = hash:/etc/postfix/recipient_bcc")]
    [InlineData("smtpd_discard_ehlo_keyword_address_maps = hash:/etc/postfix/discard_ehlo")]
    [InlineData("sender_dependent_default_transport_maps = hash:/etc/postfix/transports")]
    [InlineData("sender_dependent_relayhost_maps = hash:/etc/postfix/relayhosts")]
    [InlineData("smtp_tls_policy_maps = hash:/etc/postfix/tls_policy")]
    [InlineData("smtpd_tls_chain_files = /etc/postfix/chain.pem")]
    public async Task A_parameter_that_would_change_what_is_accepted_or_protected_stops_start_up(string setting)
    {
        using TempDirectory config = Config("# line 5\n" + setting);
        string name = setting[..setting.IndexOf(' ')];
        var (exit, _, error) = await EdgeProcess.RunAsync(config.Path, "run", "-c", config.Path);
        Assert.Equal(1, exit);
        // The setting's line comes after the base lines and the comment line.
        int line = EdgeInstance.BaseMainCf(config).Split('\n').Length + 2;
        Assert.Equal($"edge run: fatal: {config.File("main.cf")}, line {line}: parameter {name}: is not implemented by Edge yet, and its value " +
            "would change what is accepted, filtered, authenticated, encrypted or rewritten; remove it, or set " +
            "edge_unimplemented_parameters = warn to start without it\n", error);
    }

    [Fact]
    public async Task A_master_cf_option_is_refused_at_its_line()
    {
        using TempDirectory config = Config("", "127.0.0.1:0 inet n - n - - smtpd\n127.0.0.2:0 inet n - n - - smtpd\n  -o smtpd_command_filter=pcre:/etc/postfix/command_filter\n");
        var e = await Assert.ThrowsAsync<ConfigException>(() => Hosting.EdgeServer.StartAsync(config.Path));
        Assert.StartsWith($"{config.File("master.cf")}, line 2: parameter smtpd_command_filter: is not implemented by Edge yet", e.Message);
    }

    [Theory]
    [InlineData("soft_bounce = no")]
    [InlineData("header_checks =")]
    [InlineData("mime_header_checks = $header_checks")]
    [InlineData("append_dot_mydomain = No")]
    public async Task A_parameter_set_to_its_default_is_fine(string setting)
    {
        using TempDirectory config = Config(setting);
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        Assert.DoesNotContain(edge.Log, line => line.Contains("not implemented"));
    }

    [Fact]
    public async Task With_edge_unimplemented_parameters_warn_it_starts_and_says_what_has_no_effect()
    {
        using TempDirectory config = Config("edge_unimplemented_parameters = warn\nsmtpd_command_filter = pcre:/etc/postfix/command_filter\nqmgr_message_recipient_limit = 1000",
            "127.0.0.1:0 inet n - n - - smtpd\nqmgr unix n - n 300 1 qmgr\nlocal unix - n n - - local\nsmtp unix - - n - - smtp\n628 inet n - n - - qmqpd\n");
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        await edge.WaitForLogAsync($@"warning: {Escape(config.File("main.cf"))}, line \d+: parameter smtpd_command_filter: not implemented by Edge yet: the setting has no effect");
        await edge.WaitForLogAsync($@"warning: {Escape(config.File("master.cf"))}, line 5: service 628: command ""qmqpd"" \(inet\) is not implemented by Edge: nothing runs it");
    }

    [Fact]
    public async Task A_parameter_that_only_limits_or_logs_differently_is_warned_about()
    {
        using TempDirectory config = Config("qmgr_message_recipient_limit = 1000\nsmtpd_client_port_logging = yes");
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        await edge.WaitForLogAsync(@"warning: .*main\.cf, line \d+: parameter qmgr_message_recipient_limit: not implemented by Edge yet: the setting has no effect");
        await edge.WaitForLogAsync(@"warning: .*main\.cf, line \d+: parameter smtpd_client_port_logging: not implemented by Edge yet: the setting has no effect");
    }

    [Theory]
    [InlineData("628       inet  n       -       n       -       -       qmqpd", "qmqpd", "inet")]
    [InlineData("policy    unix  -       n       n       -       0       spawn user=nobody argv=/usr/bin/policyd-spf", "spawn", "unix")]
    public async Task A_master_cf_daemon_edge_does_not_implement_is_refused(string line, string command, string type)
    {
        using TempDirectory config = Config("", $"127.0.0.1:0 inet n - n - - smtpd\n{line}\n");
        var e = await Assert.ThrowsAsync<ConfigException>(() => Hosting.EdgeServer.StartAsync(config.Path));
        Assert.Equal($"{config.File("master.cf")}, line 2: service {line.Split(' ')[0]}: command \"{command}\" ({type}) is not implemented by Edge; " +
            "remove the line, or set edge_unimplemented_parameters = warn to start without it", e.Message);
    }

    /// <summary>A second cleanup with its own header_checks is a Postfix content-filter set-up Edge does not have.</summary>
    [Fact]
    public async Task An_option_on_a_built_in_daemons_line_is_refused_since_it_would_do_nothing()
    {
        using TempDirectory config = Config("", "127.0.0.1:0 inet n - n - - smtpd\ncleanup unix n - n - 0 cleanup\n  -o header_checks=regexp:/etc/postfix/header_checks\n");
        var e = await Assert.ThrowsAsync<ConfigException>(() => Hosting.EdgeServer.StartAsync(config.Path));
        Assert.Equal($"{config.File("master.cf")}, line 2: service cleanup: -o header_checks=regexp:/etc/postfix/header_checks: cleanup is built into Edge " +
            "and runs with main.cf's settings, so options on its master.cf line are not applied; set it in main.cf, or set " +
            "edge_unimplemented_parameters = warn to start without it", e.Message);
    }

    [Fact]
    public async Task A_missing_qmgr_and_a_missing_transport_are_warned_about()
    {
        using TempDirectory config = Config("relay_domains = relayed.example", "127.0.0.1:0 inet n - n - - smtpd\npickup unix n - n 60 1 pickup\n");
        await using (var edge = await EdgeProcess.StartAsync(config.Path, config.Path))
        {
            await edge.WaitForLogAsync(@"warning: .*master\.cf: no qmgr service: mail is accepted and queued, and nothing is delivered until one is added \(as in Postfix\)");
            // pickup is Edge's own now (edge sendmail's maildrop).
            await edge.WaitForLogAsync(@"master\.cf: built into Edge: pickup");
            Assert.DoesNotContain(edge.Log, line => line.Contains("pickup is not implemented"));
        }
        config.Write("master.cf", "127.0.0.1:0 inet n - n - - smtpd\nqmgr unix n - n 300 1 qmgr\nsmtp unix - - n - - smtp\n");
        await using var again = await EdgeProcess.StartAsync(config.Path, config.Path);
        await again.WaitForLogAsync(@"warning: .*main\.cf: local_transport names transport ""local"", which .*master\.cf does not have: that mail waits in the queue");
        await again.WaitForLogAsync(@"warning: .*main\.cf: relay_transport names transport ""relay"", which .*master\.cf does not have: that mail waits in the queue");
        Assert.DoesNotContain(again.Log, line => line.Contains("default_transport names"));
    }

    [Fact]
    public async Task Reload_refuses_an_unimplemented_parameter_and_keeps_the_running_configuration()
    {
        using TempDirectory config = Config("");
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        File.AppendAllText(config.File("main.cf"), "smtpd_command_filter = pcre:/etc/postfix/command_filter\n");
        var (exit, _, error) = await EdgeProcess.RunAsync(config.Path, "reload", "-c", config.Path);
        Assert.NotEqual(0, exit);
        Assert.Contains("parameter smtpd_command_filter: is not implemented by Edge yet", error);
        await edge.WaitForLogAsync("reload failed, the running configuration stays in force: .*parameter smtpd_command_filter: is not implemented by Edge yet");
    }

    private static string Escape(string text) => System.Text.RegularExpressions.Regex.Escape(text);
}
