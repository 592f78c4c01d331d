using System.Diagnostics;
using Edge.Cli;
using Edge.Tests.Support;

namespace Edge.Tests.Config;

/// <summary>edge postconf -M prints master.cf as Postfix's own postconf -M does: the test compares the two, byte for byte.</summary>
public class PostconfMasterTests
{
    private const string MasterCf = """
        # Services, with the forms postconf normalizes.
        smtp      inet  n       -       y       -       -       smtpd
        submission inet n       -       y       -       -       smtpd
          -o syslog_name=postfix/submission
          -o smtpd_tls_security_level=encrypt
          -o { smtpd_client_restrictions = permit_sasl_authenticated, reject }
          -o smtpd_recipient_restrictions=permit_sasl_authenticated,reject_unauth_destination,check_policy_service,unix:private/policy
        pickup    unix  n       -       y       60      1       pickup
        qmgr      unix  n       -       n       300     1       qmgr
        dovecot   unix  -       n       n       -       -       pipe
          flags=DRhu user=vmail:vmail argv=/usr/lib/dovecot/deliver -f ${sender} -d ${recipient} -a ${original_recipient}
        filter    unix  -       n       n       -       10      pipe
          flags=Rq user=nobody argv=/usr/local/bin/filter { -o one two } ${sender} ${recipient}
        """;

    [Theory]
    [InlineData("-M")]
    [InlineData("-Mf")]
    [InlineData("-Mf", "submission/inet", "dovecot", "no-such-service")]
    [InlineData("-M", "*/unix")]
    public async Task The_output_is_Postfixs(params string[] args)
    {
        string postconf = Peer.Require("postconf", "postfix");
        using var config = new TempDirectory();
        config.Write("main.cf", "");
        config.Write("master.cf", MasterCf.Replace("\r\n", "\n") + "\n");

        var stdout = new StringWriter { NewLine = "\n" };
        var stderr = new StringWriter { NewLine = "\n" };
        int exit = PostconfCommand.Run(["-c", config.Path, .. args], stdout, stderr);

        (int postfixExit, string postfixOut, string postfixErr) = await RunAsync(postconf, ["-c", config.Path, .. args]);
        // Postfix names itself as it was invoked.
        Assert.Equal((postfixExit, postfixOut, postfixErr.Replace($"{postconf}:", "postconf:")), (exit, stdout.ToString(), stderr.ToString()));
    }

    [Fact]
    public void A_bad_line_is_named_by_file_and_line()
    {
        using var config = new TempDirectory();
        config.Write("main.cf", "");
        config.Write("master.cf", "smtp inet n - y - -\n");
        var stderr = new StringWriter { NewLine = "\n" };
        Assert.Equal(1, PostconfCommand.Run(["-c", config.Path, "-M"], TextWriter.Null, stderr));
        Assert.Equal($"postconf: fatal: {config.File("master.cf")}, line 1: bad field count\n", stderr.ToString());
    }

    private static async Task<(int, string, string)> RunAsync(string program, string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(program, args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        string error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output, error);
    }
}
