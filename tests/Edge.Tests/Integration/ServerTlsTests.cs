using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using Edge.Tests.Support;

namespace Edge.Tests.Integration;

/// <summary>
/// The SMTP server's TLS controls: wrapper mode (port 465), protocol versions, client certificates asked for,
/// required and trusted through smtpd_tls_CAfile or listed by fingerprint in relay_clientcerts, and the Received:
/// header's TLS comments, which Postfix writes only with smtpd_tls_received_header = yes; ciphers excluded by name or
/// by OpenSSL's aliases.
/// </summary>
public partial class ServerTlsTests
{
    private static async Task<string> RelayAsync(SmtpConnection c)
    {
        Assert.StartsWith("250", await c.CommandAsync("EHLO client.example"));
        Assert.StartsWith("250", await c.CommandAsync("MAIL FROM:<a@example.org>"));
        return await c.CommandAsync("RCPT TO:<carol@remote.example>");
    }

    /// <summary>
    /// A CA whose certificate is ca.pem in the test's directory (for smtpd_tls_CAfile), a client certificate it signed, one
    /// that signs itself for relay_clientcerts to list, and a stranger's.
    /// </summary>
    private sealed class ClientCertificates : IDisposable
    {
        private readonly X509Certificate2 _authority = TestCertificate.CreateAuthority("Edge Test CA");

        public ClientCertificates(TempDirectory directory)
        {
            File.WriteAllText(directory.File("ca.pem"), _authority.ExportCertificatePem());
            Signed = TestCertificate.CreateClient("relay.client.example", _authority);
        }

        public X509Certificate2 Signed { get; }
        public X509Certificate2 Listed { get; } = TestCertificate.CreateClient("listed.client.example");
        public X509Certificate2 Stranger { get; } = TestCertificate.CreateClient("stranger.client.example");

        public void Dispose()
        {
            foreach (X509Certificate2 certificate in new[] { _authority, Signed, Listed, Stranger })
            {
                certificate.Dispose();
            }
        }
    }

    /// <summary>A session that said EHLO and STARTTLS and made the handshake, with <paramref name="certificate"/> if given.</summary>
    private static async Task<SmtpConnection> TlsConnectionAsync(EdgeInstance edge, X509Certificate2? certificate)
    {
        SmtpConnection c = await edge.ConnectAsync();
        await c.CommandAsync("EHLO client.example");
        Assert.Equal("220 2.0.0 Ready to start TLS", await c.CommandAsync("STARTTLS"));
        await c.StartTlsAsync(certificate);
        return c;
    }

    [Fact]
    public async Task Wrapper_mode_speaks_tls_before_the_greeting_and_offers_no_starttls()
    {
        using var directory = new TempDirectory();
        await using var edge = await EdgeInstance.StartAsync(TestCertificate.MainCf(directory, level: "none"),
            masterOptions: "-o smtpd_tls_wrappermode=yes");
        await using var c = await edge.ConnectAsync(readGreeting: false);
        await c.StartTlsAsync();
        Assert.StartsWith("220 mx.edge.test ESMTP", await c.ReadReplyAsync());
        Assert.DoesNotContain("STARTTLS", await c.CommandAsync("EHLO client.example"));
        await c.CommandAsync("MAIL FROM:<a@example.org>");
        await c.CommandAsync("RCPT TO:<postmaster@localhost>");
        await c.CommandAsync("DATA");
        Assert.StartsWith("250 2.0.0 Ok: queued", await c.CommandAsync("Subject: 465\r\n\r\nbody\r\n."));
        string content = await edge.SingleMessageContentAsync();
        Assert.Contains("with ESMTPS id", content);
        Assert.DoesNotContain("(using ", content);
    }

    /// <summary>smtpd_starttls_timeout: a client that asks for TLS and never starts the handshake is let go after it.</summary>
    [Fact]
    public async Task A_handshake_that_never_starts_ends_at_the_starttls_timeout()
    {
        using var directory = new TempDirectory();
        await using var edge = await EdgeInstance.StartAsync(TestCertificate.MainCf(directory) + "\nsmtpd_starttls_timeout = 1s");
        await using var c = await edge.ConnectAsync();
        await c.CommandAsync("EHLO client.example");
        Assert.Equal("220 2.0.0 Ready to start TLS", await c.CommandAsync("STARTTLS"));
        // The client's reads give up after their own deadline (far shorter than smtpd_timeout's 300 s): closed before it.
        Assert.True(await c.IsClosedAsync());
    }

    [Fact]
    public async Task A_plain_client_on_a_wrapper_port_gets_nothing()
    {
        using var directory = new TempDirectory();
        await using var edge = await EdgeInstance.StartAsync(TestCertificate.MainCf(directory), masterOptions: "-o smtpd_tls_wrappermode=yes");
        await using var c = await edge.ConnectAsync(readGreeting: false);
        await c.SendAsync("EHLO client.example\r\n");
        Assert.True(await c.IsClosedAsync());
    }

    [Fact]
    public async Task The_protocol_list_refuses_a_version_it_leaves_out()
    {
        using var directory = new TempDirectory();
        await using var edge = await EdgeInstance.StartAsync(TestCertificate.MainCf(directory) + "\nsmtpd_tls_protocols = >=TLSv1.3");
        await using (var old = await edge.ConnectAsync())
        {
            await old.CommandAsync("EHLO client.example");
            Assert.Equal("220 2.0.0 Ready to start TLS", await old.CommandAsync("STARTTLS"));
            await Assert.ThrowsAnyAsync<Exception>(() => old.StartTlsAsync(protocols: SslProtocols.Tls12));
        }
        await using var current = await edge.ConnectAsync();
        await current.CommandAsync("EHLO client.example");
        await current.CommandAsync("STARTTLS");
        await current.StartTlsAsync(protocols: SslProtocols.Tls13);
        Assert.StartsWith("250", await current.CommandAsync("EHLO client.example"));
    }

    [Theory]
    [InlineData("smtpd_tls_protocols = TLSv1.4", "parameter smtpd_tls_protocols: invalid TLS protocol name \"TLSv1.4\"")]
    [InlineData("smtpd_tls_protocols = !TLSv1, !TLSv1.1, !TLSv1.2, !TLSv1.3", "leaves no TLS protocol version enabled")]
    [InlineData("smtpd_tls_ciphers = export", "parameter smtpd_tls_ciphers: \"export\" is not supported by Edge")]
    [InlineData("smtpd_tls_exclude_ciphers = aNULL, !RC4", "parameter smtpd_tls_exclude_ciphers: invalid unary '!+-@' in cipher exclusion list: \"!RC4\"")]
    [InlineData("smtpd_tls_exclude_ciphers = ALL", "parameter smtpd_tls_exclude_ciphers: \"DEFAULT:!ALL\" leaves no TLS 1.2 cipher")]
    public async Task A_tls_setting_edge_cannot_honour_stops_start_up(string setting, string error)
    {
        using var directory = new TempDirectory();
        var exception = await Assert.ThrowsAsync<Edge.Config.ConfigException>(() => EdgeInstance.StartAsync(TestCertificate.MainCf(directory) + "\n" + setting));
        Assert.Contains(error, exception.Message);
    }

    /// <summary>
    /// smtpd_tls_ask_ccert with smtpd_tls_CAfile: a certificate the CA signed is trusted (permit_tls_all_clientcerts
    /// relays), one the CA did not sign is not, unless relay_clientcerts lists its fingerprint (permit_tls_clientcerts);
    /// the Received: header says which (smtpd_tls_received_header).
    /// </summary>
    [Fact]
    public async Task Client_certificates_are_trusted_through_the_ca_or_listed_by_fingerprint()
    {
        using var directory = new TempDirectory();
        using var certificates = new ClientCertificates(directory);
        (X509Certificate2 signed, X509Certificate2 listed, X509Certificate2 stranger) = (certificates.Signed, certificates.Listed, certificates.Stranger);
        await using var edge = await EdgeInstance.StartAsync(TestCertificate.MainCf(directory) + $"""

            mynetworks = 192.0.2.0/24
            smtpd_tls_ask_ccert = yes
            smtpd_tls_CAfile = {directory.File("ca.pem")}
            smtpd_tls_received_header = yes
            relay_clientcerts = inline:{"{"} {TestCertificate.Fingerprint(listed)}=listed {"}"}
            smtpd_relay_restrictions = permit_tls_all_clientcerts, permit_tls_clientcerts, reject_unauth_destination
            """);
        foreach ((X509Certificate2? certificate, string reply) in new (X509Certificate2?, string)[]
        {
            (signed, "250 2.1.5 Ok"),
            (listed, "250 2.1.5 Ok"),
            (stranger, "554 5.7.1 <carol@remote.example>: Relay access denied"),
            (null, "554 5.7.1 <carol@remote.example>: Relay access denied"),
        })
        {
            await using SmtpConnection c = await TlsConnectionAsync(edge, certificate);
            Assert.Equal(reply, await RelayAsync(c));
        }

        await using SmtpConnection withReceived = await TlsConnectionAsync(edge, signed);
        await RelayAsync(withReceived);
        await withReceived.CommandAsync("DATA");
        Assert.StartsWith("250 2.0.0 Ok: queued", await withReceived.CommandAsync("Subject: cert\r\n\r\nbody\r\n."));
        Assert.Matches("\r\n\t\\(using TLSv1\\.\\d with cipher [\\w-]+ \\(\\d+/\\d+ bits\\)\\)\r\n\t\\(Client CN \"relay\\.client\\.example\", Issuer \"Edge Test CA\" \\(verified OK\\)\\)\r\n\tby ",
            await edge.SingleMessageContentAsync());
    }

    /// <summary>smtpd_tls_req_ccert with TLS required: without a trusted certificate the session ends with Postfix's 421.</summary>
    [Fact]
    public async Task A_required_certificate_that_is_missing_or_untrusted_ends_the_session()
    {
        using var directory = new TempDirectory();
        using var certificates = new ClientCertificates(directory);
        (X509Certificate2 signed, X509Certificate2 stranger) = (certificates.Signed, certificates.Stranger);
        await using var edge = await EdgeInstance.StartAsync(TestCertificate.MainCf(directory, level: "encrypt") + $"""

            smtpd_tls_req_ccert = yes
            smtpd_tls_CAfile = {directory.File("ca.pem")}
            """);
        foreach ((X509Certificate2? certificate, string why) in new (X509Certificate2?, string)[]
        {
            (null, "No client certificate presented"),
            (stranger, "Client certificate not trusted"),
        })
        {
            await using SmtpConnection c = await TlsConnectionAsync(edge, certificate);
            Assert.Equal($"421 4.7.1 mx.edge.test Error: {why}", await c.ReadReplyAsync());
            Assert.True(await c.IsClosedAsync());
        }
        await using SmtpConnection trusted = await TlsConnectionAsync(edge, signed);
        Assert.StartsWith("250", await trusted.CommandAsync("EHLO client.example"));
    }

    /// <summary>
    /// The same TLS settings and certificates in Debian's Postfix 3.7 and in Edge: a certificate the CA signed, one
    /// relay_clientcerts lists, a stranger's and none get the same replies to RCPT TO; with TLS and a certificate
    /// required, the same 421.
    /// </summary>
    [Fact]
    public async Task Postfix_and_edge_answer_tls_sessions_alike()
    {
        using var directory = new TempDirectory();
        using var certificates = new ClientCertificates(directory);
        (X509Certificate2 signed, X509Certificate2 listed, X509Certificate2 stranger) = (certificates.Signed, certificates.Listed, certificates.Stranger);
        string common = PostfixServer.ComparableMainCf + $"""

            smtpd_tls_CAfile = {directory.File("ca.pem")}
            relay_clientcerts = texthash:{directory.File("relay_clientcerts")}
            smtpd_relay_restrictions = permit_tls_all_clientcerts, permit_tls_clientcerts, reject_unauth_destination
            {TestCertificate.MainCf(directory)}
            """;
        directory.Write("relay_clientcerts", $"{TestCertificate.Fingerprint(listed)} listed\n");

        async Task<List<string>> AnswersAsync(int port, bool required)
        {
            var answers = new List<string>();
            foreach (X509Certificate2? certificate in new[] { signed, listed, stranger, null })
            {
                await using SmtpConnection c = await SmtpConnection.OpenAsync(port);
                await c.CommandAsync("EHLO client.example");
                string starttls = await c.CommandAsync("STARTTLS");
                Assert.True(starttls.StartsWith("220 ", StringComparison.Ordinal), $"{port}: {starttls}");
                answers.Add(starttls);
                await c.StartTlsAsync(certificate);
                string ehlo = await c.CommandAsync("EHLO client.example");
                answers.Add(required ? ehlo : await RelayAsync(c));
            }
            return answers;
        }

        foreach ((string extra, bool required) in new[] { ("smtpd_tls_ask_ccert = yes", false), ("smtpd_tls_security_level = encrypt\nsmtpd_tls_req_ccert = yes", true) })
        {
            string mainCf = common + "\n" + extra + "\n";
            // Postfix's smtpd takes its TLS randomness and session cache from tlsmgr.
            await using PostfixServer postfix = await PostfixServer.StartAsync(mainCf, "tlsmgr unix - - n 1000? 1 tlsmgr");
            await using EdgeInstance edge = await EdgeInstance.StartAsync(mainCf);
            List<string> fromPostfix;
            try
            {
                fromPostfix = await AnswersAsync(postfix.Port, required);
            }
            catch (Exception e)
            {
                throw new Xunit.Sdk.XunitException(e.Message + "\n" + postfix.Log);
            }
            List<string> fromEdge = await AnswersAsync(edge.Port, required);
            Assert.True(fromPostfix.SequenceEqual(fromEdge), $"postfix:\n{string.Join("\n", fromPostfix)}\n\nedge:\n{string.Join("\n", fromEdge)}\n\n{postfix.Log}");
            Assert.Contains(fromEdge, a => a.StartsWith(required ? "421 4.7.1" : "554 5.7.1", StringComparison.Ordinal));
        }
    }

    /// <summary>
    /// smtpd_tls_exclude_ciphers takes ciphers out by OpenSSL's aliases (AESGCM) and names, in Debian's Postfix 3.7 and
    /// in Edge alike: a TLS 1.2 client that offers only excluded ciphers cannot start TLS, one that offers another
    /// can, and TLS 1.3's suites stay. smtpd_tls_mandatory_exclude_ciphers applies only where TLS is required.
    /// </summary>
    [Fact]
    public async Task Excluded_ciphers_cannot_be_negotiated_as_in_postfix()
    {
        using var directory = new TempDirectory();
        string[] offers = ["ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-CHACHA20-POLY1305", "ECDHE-RSA-AES256-SHA384"];

        // openssl s_client, as an administrator checks a server: EHLO, STARTTLS and a TLS 1.2 handshake offering only
        // the ciphers named; then a TLS 1.3 client.
        async Task<List<string>> HandshakesAsync(int port)
        {
            var outcomes = new List<string>();
            foreach (string offer in offers)
            {
                (_, string output) = await Peer.RunAsync("sh", "dash", "-c", "exec openssl s_client \"$@\" < /dev/null", "sh",
                    "-connect", $"127.0.0.1:{port}", "-starttls", "smtp", "-tls1_2", "-cipher", offer);
                string cipher = CipherIs().Match(output) is { Success: true } match ? match.Groups[1].Value : $"(no outcome: {output})";
                outcomes.Add($"{offer}: {(cipher == "(NONE)" ? "no TLS" : cipher)}");
            }
            await using SmtpConnection current = await SmtpConnection.OpenAsync(port);
            await current.CommandAsync("EHLO client.example");
            await current.CommandAsync("STARTTLS");
            await current.StartTlsAsync(protocols: SslProtocols.Tls13);
            outcomes.Add($"TLS 1.3: {await current.CommandAsync("NOOP")}");
            return outcomes;
        }

        string common = PostfixServer.ComparableMainCf + $"""

            {TestCertificate.MainCf(directory)}
            smtpd_tls_mandatory_exclude_ciphers = ECDHE-RSA-AES256-SHA384
            """;
        foreach ((string extra, string[] expected) in new[]
        {
            ("smtpd_tls_exclude_ciphers = AESGCM, ECDHE-RSA-CHACHA20-POLY1305",
                new[] { "no TLS", "no TLS", "ECDHE-RSA-AES256-SHA384", "250 2.0.0 Ok" }),
            ("smtpd_tls_exclude_ciphers = CHACHA20\nsmtpd_tls_security_level = encrypt",
                new[] { "ECDHE-RSA-AES256-GCM-SHA384", "no TLS", "no TLS", "250 2.0.0 Ok" }),
        })
        {
            string mainCf = common + "\n" + extra + "\n";
            await using PostfixServer postfix = await PostfixServer.StartAsync(mainCf, "tlsmgr unix - - n 1000? 1 tlsmgr");
            await using EdgeInstance edge = await EdgeInstance.StartAsync(mainCf);
            List<string> fromPostfix = await HandshakesAsync(postfix.Port);
            List<string> fromEdge = await HandshakesAsync(edge.Port);
            Assert.True(fromPostfix.SequenceEqual(fromEdge), $"postfix:\n{string.Join("\n", fromPostfix)}\n\nedge:\n{string.Join("\n", fromEdge)}\n\n{postfix.Log}");
            Assert.Equal(expected, fromEdge.Select(o => o[(o.IndexOf(": ", StringComparison.Ordinal) + 2)..]));
        }
    }

    [GeneratedRegex(@"Cipher is (\S+)")]
    private static partial Regex CipherIs();
}
