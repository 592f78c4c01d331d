using Edge.Tests.Support;

namespace Edge.Tests.Integration;

/// <summary>edge check: the configuration, its tables and policies loaded as start-up would, and the lints.</summary>
public class CheckCommandTests
{
    private const string MasterCf = "127.0.0.1:0 inet n - n - - smtpd\nqmgr unix n - n 300 1 qmgr\nsmtp unix - - n - - smtp\n" +
        "relay unix - - n - - smtp\nlocal unix - n n - - local\nvirtual unix - n n - - virtual\n";

    private static async Task<(int Exit, string[] Lines)> CheckAsync(string mainCf, string masterCf = MasterCf)
    {
        using var config = new TempDirectory();
        config.Write("main.cf", EdgeInstance.BaseMainCf(config) + "\n" + mainCf.Replace("$DIR", config.Path) + "\n");
        config.Write("master.cf", masterCf);
        var (exit, output, error) = await EdgeProcess.RunAsync(config.Path, "check", "-c", config.Path);
        Assert.Equal("", output);
        return (exit, [.. error.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("edge check: ", StringComparison.Ordinal))]);
    }

    /// <summary>A configuration that passes, with a warning that ends in <paramref name="warning"/>.</summary>
    private static async Task AssertWarnsAsync(string mainCf, string warning)
    {
        var (exit, lines) = await CheckAsync(mainCf);
        Assert.Equal(0, exit);
        Assert.Contains(lines, l => l.StartsWith("edge check: warning: ", StringComparison.Ordinal) && l.EndsWith(warning, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_clean_configuration_passes_without_a_word()
    {
        var (exit, lines) = await CheckAsync("relay_domains = relayed.example\nsmtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination");
        Assert.Equal(0, exit);
        Assert.Empty(lines);
    }

    [Fact]
    public Task A_domain_in_two_address_classes_is_the_precedence_trap() => AssertWarnsAsync(
        "mydestination = localhost, example.com\nvirtual_mailbox_domains = example.com\nvirtual_mailbox_maps = inline:{ a@example.com=a/ }\nvirtual_mailbox_base = /tmp",
        "parameter virtual_mailbox_domains: do not list domain example.com in BOTH mydestination and virtual_mailbox_domains: mail for it is treated as mydestination says");

    [Fact]
    public async Task An_open_relay_is_an_error_and_a_wide_mynetworks_a_warning()
    {
        var (exit, lines) = await CheckAsync("smtpd_relay_restrictions = permit_mynetworks");
        Assert.Equal(1, exit);
        Assert.Contains(lines, l => l.StartsWith("edge check: fatal: ", StringComparison.Ordinal)
            && l.EndsWith("specify at least one working instance of: reject_unauth_destination, defer_unauth_destination, reject, defer or defer_if_permit", StringComparison.Ordinal));

        (exit, lines) = await CheckAsync("mynetworks = 127.0.0.0/8, 0.0.0.0/0");
        Assert.Equal(0, exit);
        Assert.Contains(lines, l => l.Contains("parameter mynetworks: 0.0.0.0/0 is wider than this machine's networks (") && l.EndsWith("every client in it may relay through Edge", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("127.0.0.0/8 is wider"));
    }

    [Fact]
    public async Task Restrictions_after_an_unconditional_permit_or_reject_can_never_run()
    {
        var (exit, lines) = await CheckAsync("smtpd_sender_restrictions = permit, reject_non_fqdn_sender\nsmtpd_client_restrictions = reject_unknown_client_hostname, reject, permit_mynetworks");
        Assert.Equal(0, exit);
        Assert.Contains(lines, l => l.EndsWith("parameter smtpd_sender_restrictions: restriction \"reject_non_fqdn_sender\" after \"permit\" can never run", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.EndsWith("parameter smtpd_client_restrictions: restriction \"permit_mynetworks\" after \"reject\" can never run", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_missing_table_is_an_error_naming_file_line_and_parameter()
    {
        var (exit, lines) = await CheckAsync("# a comment\nsmtpd_client_restrictions = check_client_access texthash:$DIR/missing-access");
        Assert.Equal(1, exit);
        string fatal = Assert.Single(lines);
        Assert.Matches(@"^edge check: fatal: .*/main\.cf, line \d+: parameter smtpd_client_restrictions: check_client_access texthash:.*/missing-access: ", fatal);
    }

    [Fact]
    public Task Notify_classes_edge_does_not_send_are_named() => AssertWarnsAsync("notify_classes = bounce, delay, policy, data",
        "parameter notify_classes: class data is not implemented by Edge (it has none of the data files it reports on): the postmaster gets no notice of it");

    [Fact]
    public Task An_unknown_parameter_gets_the_closest_known_name() => AssertWarnsAsync("smtpd_bannr = $myhostname ESMTP",
        "unused parameter: smtpd_bannr=$myhostname ESMTP (did you mean smtpd_banner?)");

    [Fact]
    public async Task An_unimplemented_parameter_is_an_error_and_pickup_is_built_in()
    {
        var (exit, lines) = await CheckAsync("smtpd_command_filter = pcre:/etc/postfix/command_filter", MasterCf + "pickup unix n - n 60 1 pickup\n");
        Assert.Equal(1, exit);
        Assert.DoesNotContain(lines, l => l.Contains("pickup is not implemented"));
        Assert.Contains(lines, l => l.StartsWith("edge check: fatal: ", StringComparison.Ordinal) && l.Contains("parameter smtpd_command_filter: is not implemented by Edge yet"));
    }
}
