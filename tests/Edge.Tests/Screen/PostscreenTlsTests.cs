using System.Security.Authentication;
using Edge.Config;
using Edge.Tests.Support;

namespace Edge.Tests.Screen;

/// <summary>
/// STARTTLS in postscreen's own engine, which Postfix's postscreen hands to tlsproxy(8): offered as
/// postscreen_tls_security_level says, with tlsproxy's settings and its master.cf -o options, and 454 without a tlsproxy.
/// </summary>
public class PostscreenTlsTests
{
    [Fact]
    public async Task A_client_held_by_the_deep_tests_can_start_tls_and_is_passed_for_its_next_connection()
    {
        using var directory = new TempDirectory();
        using TempDirectory config = PostscreenTests.Config(TestCertificate.MainCf(directory) + """

            postscreen_pipelining_enable = yes
            postscreen_helo_required = yes
            tlsproxy_tls_loglevel = 1
            """);
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        await using (var held = await SmtpConnection.OpenAsync(edge.Port, readGreeting: false))
        {
            Assert.Equal("220-mx.edge.test ESMTP Edge\n220 mx.edge.test ESMTP Edge", await held.ReadReplyAsync());
            string ehlo = await held.CommandAsync("EHLO client.example");
            Assert.Contains("250-STARTTLS", ehlo);
            Assert.DoesNotContain("PIPELINING", ehlo);
            Assert.Equal("220 2.0.0 Ready to start TLS", await held.CommandAsync("STARTTLS"));
            await held.StartTlsAsync();
            // As after smtpd's STARTTLS: the client starts over, and STARTTLS is neither offered nor taken again.
            Assert.Equal("503 5.5.1 Error: send HELO/EHLO first", await held.CommandAsync("MAIL FROM:<sender@example.org>"));
            Assert.DoesNotContain("STARTTLS", await held.CommandAsync("EHLO client.example"));
            Assert.Equal("554 5.5.1 Error: TLS already active", await held.CommandAsync("STARTTLS"));
            Assert.Equal("250 2.1.0 Ok", await held.CommandAsync("MAIL FROM:<sender@example.org>"));
            Assert.Equal("450 4.3.2 Service currently unavailable", await held.CommandAsync("RCPT TO:<postmaster@localhost>"));
            Assert.Equal("221 2.0.0 Bye", await held.CommandAsync("QUIT"));
        }
        await edge.WaitForLogAsync(@"tlsproxy\[\d+\]: Anonymous TLS connection established from \[127\.0\.0\.1\]:\d+: TLSv1\.[23] with cipher \S+ \(\d+/\d+ bits\)");
        await edge.WaitForLogAsync(@"postscreen\[\d+\]: NOQUEUE: reject: RCPT from \[127\.0\.0\.1\]:\d+: 450 4\.3\.2 Service currently unavailable; " +
            @"from=<sender@example\.org>, to=<postmaster@localhost>, proto=ESMTP, helo=<client\.example>");
        await edge.WaitForLogAsync(@"postscreen\[\d+\]: PASS NEW \[127\.0\.0\.1\]:\d+");
        // Passed: the next connection is smtpd's, which offers TLS as configured.
        await using var again = await SmtpConnection.OpenAsync(edge.Port, readGreeting: false);
        Assert.Equal("220 mx.edge.test ESMTP Edge", await again.ReadReplyAsync());
        Assert.Contains("250-STARTTLS", await again.CommandAsync("EHLO client.example"));
    }

    [Fact]
    public async Task With_encrypt_only_helo_ehlo_starttls_noop_and_quit_come_before_tls()
    {
        using var directory = new TempDirectory();
        using TempDirectory config = PostscreenTests.Config(TestCertificate.MainCf(directory) + """

            postscreen_pipelining_enable = yes
            postscreen_tls_security_level = encrypt
            """);
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        await using var held = await SmtpConnection.OpenAsync(edge.Port, readGreeting: false);
        await held.ReadReplyAsync();
        Assert.Contains("250-STARTTLS", await held.CommandAsync("EHLO client.example"));
        Assert.Equal("250 2.0.0 Ok", await held.CommandAsync("NOOP"));
        Assert.Equal("530 5.7.0 Must issue a STARTTLS command first", await held.CommandAsync("MAIL FROM:<sender@example.org>"));
        Assert.Equal("530 5.7.0 Must issue a STARTTLS command first", await held.CommandAsync("VRFY postmaster"));
        // Commands the engine never takes are "not recognized" at any level, as in Postfix.
        Assert.Equal("502 5.5.2 Error: command not recognized", await held.CommandAsync("AUTH PLAIN"));
        Assert.Equal("220 2.0.0 Ready to start TLS", await held.CommandAsync("STARTTLS"));
        await held.StartTlsAsync();
        await held.CommandAsync("EHLO client.example");
        Assert.Equal("250 2.1.0 Ok", await held.CommandAsync("MAIL FROM:<sender@example.org>"));
        Assert.Equal("450 4.3.2 Service currently unavailable", await held.CommandAsync("RCPT TO:<postmaster@localhost>"));
    }

    [Fact]
    public async Task The_tlsproxy_lines_options_apply_to_the_handshake()
    {
        using var directory = new TempDirectory();
        string masterCf = PostscreenTests.MasterCf.Replace("0       tlsproxy", "0       tlsproxy -o tlsproxy_tls_protocols=>=TLSv1.3");
        Assert.Contains("-o tlsproxy_tls_protocols", masterCf);
        using TempDirectory config = PostscreenTests.Config(TestCertificate.MainCf(directory) + "\npostscreen_pipelining_enable = yes", masterCf);
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        await using (var old = await SmtpConnection.OpenAsync(edge.Port, readGreeting: false))
        {
            await old.ReadReplyAsync();
            await old.CommandAsync("EHLO client.example");
            Assert.Equal("220 2.0.0 Ready to start TLS", await old.CommandAsync("STARTTLS"));
            await Assert.ThrowsAnyAsync<Exception>(() => old.StartTlsAsync(protocols: SslProtocols.Tls12));
        }
        await edge.WaitForLogAsync(@"tlsproxy\[\d+\]: warning: TLS handshake with \[127\.0\.0\.1\]:\d+ failed");
        await edge.WaitForLogAsync(@"postscreen\[\d+\]: HANGUP after [\d.]+ from \[127\.0\.0\.1\]:\d+ in tests after SMTP handshake");
        await using var current = await SmtpConnection.OpenAsync(edge.Port, readGreeting: false);
        await current.ReadReplyAsync();
        await current.CommandAsync("EHLO client.example");
        Assert.Equal("220 2.0.0 Ready to start TLS", await current.CommandAsync("STARTTLS"));
        await current.StartTlsAsync(protocols: SslProtocols.Tls13);
        Assert.StartsWith("250-mx.edge.test", await current.CommandAsync("EHLO client.example"));
    }

    /// <summary>tlsproxy_tls_req_ccert, which applies with tlsproxy_tls_security_level = encrypt: no client certificate, no session.</summary>
    [Fact]
    public async Task A_tlsproxy_that_requires_a_client_certificate_ends_a_session_without_one()
    {
        using var directory = new TempDirectory();
        string masterCf = PostscreenTests.MasterCf.Replace("0       tlsproxy",
            "0       tlsproxy -o tlsproxy_tls_security_level=encrypt -o tlsproxy_tls_req_ccert=yes");
        using TempDirectory config = PostscreenTests.Config(TestCertificate.MainCf(directory) + "\npostscreen_pipelining_enable = yes", masterCf);
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        await using var anonymous = await SmtpConnection.OpenAsync(edge.Port, readGreeting: false);
        await anonymous.ReadReplyAsync();
        await anonymous.CommandAsync("EHLO client.example");
        Assert.Equal("220 2.0.0 Ready to start TLS", await anonymous.CommandAsync("STARTTLS"));
        await anonymous.StartTlsAsync();
        Assert.True(await anonymous.IsClosedAsync());
        await edge.WaitForLogAsync(@"tlsproxy\[\d+\]: TLS from \[127\.0\.0\.1\]:\d+: No client certificate presented");
        await edge.WaitForLogAsync(@"postscreen\[\d+\]: HANGUP after [\d.]+ from \[127\.0\.0\.1\]:\d+ in tests after SMTP handshake");
    }

    [Fact]
    public async Task Without_a_tlsproxy_starttls_gets_454_and_start_up_says_why()
    {
        using var directory = new TempDirectory();
        string masterCf = string.Join('\n', PostscreenTests.MasterCf.Split('\n').Where(line => !line.Contains("tlsproxy")));
        using TempDirectory config = PostscreenTests.Config(TestCertificate.MainCf(directory) + "\npostscreen_pipelining_enable = yes", masterCf);
        MainConfig main = MainConfig.Load(config.Path, _ => { });
        var warnings = new List<string>();
        Hosting.ConfigurationCheck.Run(main, MasterConfig.Load(config.Path, main), warnings.Add, e => throw e);
        Assert.Contains($"{config.File("master.cf")}, line 1: service 127.0.0.1:0: postscreen_tls_security_level offers STARTTLS, but master.cf " +
            "has no \"tlsproxy unix - - n - 0 tlsproxy\" line: postscreen answers STARTTLS with 454 4.7.0 TLS not available due to local problem", warnings);

        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        await using var held = await SmtpConnection.OpenAsync(edge.Port, readGreeting: false);
        await held.ReadReplyAsync();
        await held.CommandAsync("EHLO client.example");
        Assert.Equal("454 4.7.0 TLS not available due to local problem", await held.CommandAsync("STARTTLS"));
        Assert.Equal("250 2.0.0 Ok", await held.CommandAsync("NOOP"));
    }
}
