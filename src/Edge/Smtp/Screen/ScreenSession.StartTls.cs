using System.IO.Pipelines;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Edge.Logging;
using Edge.Metrics;
using Edge.Smtp.Tls;

namespace Edge.Smtp.Screen;

/// <summary>
/// STARTTLS in postscreen's engine (Postfix's postscreen_starttls.c with tlsproxy(8)): the handshake uses tlsproxy's
/// settings and postscreen_command_time_limit; the engine then goes on, encrypted, with HELO and MAIL forgotten. A
/// handshake that fails is a hang-up, as the client's end of tlsproxy closing is to Postfix's postscreen.
/// </summary>
internal sealed partial class ScreenSession
{
    private SslStream? _tls;

    /// <summary>Commands that postscreen_tls_security_level = encrypt lets through before TLS (the others get 530).</summary>
    private static bool AllowedBeforeTls(string verb) => verb is "HELO" or "EHLO" or "STARTTLS" or "NOOP" or "QUIT";

    /// <summary>Commands the engine answers with 502 whatever the TLS level (Postfix's disabled ones).</summary>
    private static bool Disabled(string verb) => verb is "XCLIENT" or "XFORWARD" or "AUTH";

    private async ValueTask StartTlsAsync(string argument)
    {
        if (argument.Length > 0)
        {
            // Postfix's reply, word for word.
            await WriteReplyAsync("501 Syntax: EHLO hostname");
            return;
        }
        if (_tls is not null)
        {
            await WriteReplyAsync("554 5.5.1 Error: TLS already active");
            return;
        }
        if (!_s.UseTls)
        {
            await WriteReplyAsync("502 5.5.1 Error: command not implemented");
            return;
        }
        if (_s.TlsProxy is not { } proxy)
        {
            MailLog.Warning($"STARTTLS from {ClientAddrPort}: no tlsproxy service serves TLS (master.cf, tlsproxy_tls_security_level)", Service);
            await WriteReplyAsync("454 4.7.0 TLS not available due to local problem");
            return;
        }
        // CVE-2011-0411: plaintext pipelined behind STARTTLS is thrown away, as Postfix purges its stream.
        if (_transport.Input.TryRead(out ReadResult pending))
        {
            _transport.Input.AdvanceTo(pending.Buffer.End);
        }
        await WriteReplyAsync("220 2.0.0 Ready to start TLS");
        var stream = new SslStream(new DuplexPipeStream(_transport), leaveInnerStreamOpen: false);
        using (var handshake = CancellationTokenSource.CreateLinkedTokenSource(_hardStop))
        {
            handshake.CancelAfter(_s.CommandTimeLimit);
            try
            {
                // postscreen takes no mail: a client certificate is asked for only as tlsproxy_tls_ask_ccert says, never judged.
                await stream.AuthenticateAsServerAsync(proxy.Settings.HandshakeOptions(proxy.Certificate), handshake.Token);
            }
            catch (Exception e) when (e is AuthenticationException or IOException or OperationCanceledException && !_hardStop.IsCancellationRequested)
            {
                EdgeMetrics.TlsHandshakes.Add(1, EdgeMetrics.Tag("role", "server"), EdgeMetrics.Tag("result", "failed"));
                MailLog.Warning($"TLS handshake with {ClientAddrPort} failed: {e.Message}", "tlsproxy");
                await stream.DisposeAsync();
                throw new IOException("TLS handshake failed", e);
            }
        }
        EdgeMetrics.TlsHandshakes.Add(1, EdgeMetrics.Tag("role", "server"), EdgeMetrics.Tag("result", "ok"));
        _tls = stream;
        bool? trusted = stream.RemoteCertificate is not { } remote ? null
            : ClientCertificates.Describe(remote as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(remote.GetRawCertData()), proxy.Settings).Trusted;
        if (proxy.Settings.LogLevel >= 1)
        {
            string kind = trusted switch { null => "Anonymous", true => "Trusted", false => "Untrusted" };
            MailLog.Info($"{kind} TLS connection established from {ClientAddrPort}: {TlsDescription.Summary(stream)}", "tlsproxy");
        }
        if (proxy.Settings.RequireClientCertificate && trusted != true)
        {
            // tlsproxy_tls_req_ccert with tlsproxy_tls_security_level = encrypt: tlsproxy's handshake fails, and
            // postscreen sees the client hang up.
            MailLog.Info($"TLS from {ClientAddrPort}: {(trusted is null ? "No client certificate presented" : "Client certificate not trusted")}", "tlsproxy");
            throw new IOException("client certificate required");
        }
        _transport = new TlsPipe(PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: true)),
            PipeWriter.Create(stream, new StreamPipeWriterOptions(leaveOpen: true)));
        // RFC 3207 4.2: nothing said before the handshake counts.
        (_helo, _sender) = (null, null);
    }

    private sealed record TlsPipe(PipeReader Input, PipeWriter Output) : IDuplexPipe;
}
