using System.Net.Sockets;
using System.Security.Authentication;

namespace Edge.Delivery.Smtp;

/// <summary>
/// Opens a session up to the point where MAIL FROM may be sent: connect, greeting, EHLO (HELO when EHLO is
/// refused with 5xx) or LHLO, and STARTTLS with a second EHLO. Whatever goes wrong is a
/// <see cref="SessionFailure"/>, after which the caller moves on to the next server.
/// </summary>
internal sealed class SessionOpener
{
    private readonly NextHopServer _server;
    private readonly SmtpClientOptions _options;
    private readonly SmtpTlsLevel _tls;
    private readonly SmtpClientSession _session;
    private readonly StageDeadline _stage;
    private string _step = FailureText.Greeting;

    private SessionOpener(NextHopServer server, SmtpClientOptions options, SmtpTlsLevel tls, SmtpClientSession session, StageDeadline stage)
    {
        _server = server;
        _options = options;
        _tls = tls;
        _session = session;
        _stage = stage;
    }

    /// <summary>A session ready for MAIL FROM, or why there is none. Only the caller's cancellation throws.</summary>
    public static async Task<(SmtpClientSession? Session, SessionFailure? Failure)> OpenAsync(
        NextHopServer server, SmtpClientOptions options, SmtpTlsLevel tls, CancellationToken cancellationToken)
    {
        SmtpClientSession session;
        using (var connect = new StageDeadline(cancellationToken))
        {
            connect.Start(options.ConnectTimeout);
            try
            {
                session = await SmtpClientSession.ConnectAsync(server, connect.Token);
            }
            catch (SocketException e)
            {
                return (null, ConnectFailure(server, e.Message));
            }
            catch (OperationCanceledException) when (connect.Expired)
            {
                return (null, ConnectFailure(server, "Connection timed out"));
            }
        }

        using var stage = new StageDeadline(cancellationToken);
        var opener = new SessionOpener(server, options, tls, session, stage);
        SessionFailure? failure;
        try
        {
            failure = await opener.GreetAsync();
        }
        catch (Exception e) when (SmtpClientSession.IsTransportFailure(e) && !cancellationToken.IsCancellationRequested)
        {
            failure = opener.Broken();
        }
        catch
        {
            await session.DisposeAsync();
            throw;
        }
        if (failure is not null)
        {
            await session.DisposeAsync();
            return (null, failure);
        }
        return (session, null);
    }

    private static SessionFailure ConnectFailure(NextHopServer server, string error) =>
        new(RecipientStatus.Deferred, "4.4.1", FailureText.Connect(server, error), "none");

    private SessionFailure Broken() => new(RecipientStatus.Deferred, "4.4.2",
        _stage.Expired ? FailureText.TimedOut(_server, _step) : FailureText.LostConnection(_server, _step), _server.Relay);

    private SessionFailure Refused(SmtpReply reply) =>
        new(reply.IsPermanent ? RecipientStatus.Bounced : RecipientStatus.Deferred, reply.Dsn, FailureText.RefusedToTalk(_server, reply), _server.Relay);

    private async Task<SessionFailure?> GreetAsync()
    {
        _stage.Start(_options.HeloTimeout);
        SmtpReply greeting = await _session.ReadReplyAsync(_stage.Token);
        if (!greeting.IsPositive)
        {
            // smtp_skip_5xx_greeting (yes by default): a 5xx greeting says nothing about the mail, only
            // about this server, so it defers instead of bouncing.
            return Refused(greeting) with { Status = RecipientStatus.Deferred, Dsn = "4" + greeting.Dsn[1..] };
        }
        if (await HelloAsync() is { } refused)
        {
            return refused;
        }
        if (_tls == SmtpTlsLevel.None)
        {
            return null;
        }
        if (!_session.Features.StartTls)
        {
            return _tls == SmtpTlsLevel.Encrypt
                ? new SessionFailure(RecipientStatus.Deferred, "4.7.4", $"TLS is required, but was not offered by host {_server.NameAddr}", _server.Relay)
                : null;
        }
        return await StartTlsAsync();
    }

    private async Task<SessionFailure?> HelloAsync()
    {
        _stage.Start(_options.HeloTimeout);
        if (_options.Lmtp)
        {
            _step = FailureText.Lhlo;
            SmtpReply lhlo = await _session.CommandAsync($"LHLO {_options.HeloName}", _stage.Token);
            return Accept(lhlo);
        }
        if (!_options.NeverSendEhlo)
        {
            _step = FailureText.Ehlo;
            SmtpReply ehlo = await _session.CommandAsync($"EHLO {_options.HeloName}", _stage.Token);
            if (ehlo.IsPositive || !ehlo.IsPermanent)
            {
                return Accept(ehlo);
            }
        }
        _step = FailureText.Helo;
        SmtpReply helo = await _session.CommandAsync($"HELO {_options.HeloName}", _stage.Token);
        if (!helo.IsPositive)
        {
            return Refused(helo);
        }
        _session.Features = EhloFeatures.None;
        return null;
    }

    private SessionFailure? Accept(SmtpReply hello)
    {
        if (!hello.IsPositive)
        {
            return Refused(hello);
        }
        _session.Features = EhloFeatures.Parse(hello);
        return null;
    }

    private async Task<SessionFailure?> StartTlsAsync()
    {
        _step = FailureText.StartTls;
        _stage.Start(_options.StartTlsTimeout);
        SmtpReply reply = await _session.CommandAsync("STARTTLS", _stage.Token);
        if (!reply.IsPositive)
        {
            // Opportunistic TLS carries on in plaintext on the same connection, as Postfix does.
            return _tls == SmtpTlsLevel.Encrypt
                ? Refused(reply) with { Reason = $"TLS is required, but host {_server.NameAddr} refused to start TLS: {reply.Text}" }
                : null;
        }
        try
        {
            await _session.StartTlsAsync(_stage.Token);
        }
        catch (Exception e) when (e is AuthenticationException or IOException && !_stage.Token.IsCancellationRequested)
        {
            return new SessionFailure(RecipientStatus.Deferred, "4.7.5", "Cannot start TLS: handshake failure", _server.Relay,
                RetryPlaintext: _tls == SmtpTlsLevel.May);
        }
        // The server's extensions may differ inside TLS: everything learned before the handshake is forgotten.
        return await HelloAsync();
    }
}
