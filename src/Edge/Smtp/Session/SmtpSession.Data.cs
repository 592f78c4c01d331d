using System.Buffers;
using System.IO.Pipelines;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Edge.Cleanup;
using Edge.Logging;
using Edge.Mail;
using Edge.Metrics;
using Edge.Queue;
using Edge.Restrictions;
using Edge.Smtp.Data;
using Edge.Smtp.Protocol;
using Edge.Smtp.Tls;

namespace Edge.Smtp.Session;

/// <summary>DATA and BDAT: message content from the wire into the queue, and the reply once it is durable.</summary>
internal sealed partial class SmtpSession
{
    private enum ChunkReply : byte
    {
        None,
        NeedRcpt,
        NoValidRecipients,
        NullBdat,
        Discarded,
        TooBig,
        Rejected,
    }

    private bool _bdatStarted;

    private bool _bdatFailed;
    private bool _bdatLast;
    private bool _bdatDiscard;
    private long _bdatRemaining;
    private long _bdatChunkSize;
    private ChunkReply _bdatReply;
    private string? _bdatRejection;

    /// <summary>
    /// DATA and the first BDAT wait (as for the filters) for what rewriting the envelope asks of tables a server
    /// answers, fetched before cleanup starts the message (<see cref="ResumeAfterFiltersAsync"/>).
    /// </summary>
    private bool EnvelopeWaitsForTables => !_filtersPassed && _s.ProxyFilter is null && _cleanup.EnvelopeWaitsForTables(_s.Cleanup);

    private bool Data(ReadOnlySpan<byte> argument, ref Step step)
    {
        if (_bdatStarted)
        {
            return Fail(Replies.DataAfterBdat);
        }
        if (_envelope.RecipientCount == 0)
        {
            return Fail(_envelope.Active ? Replies.NoValidRecipients : Replies.NeedRcpt);
        }
        if (!argument.IsEmpty)
        {
            return Fail(Replies.DataSyntax);
        }
        bool asking = false;
        if (!_filtersPassed && CheckStage(Subject.Data, "DATA", out asking) is { } rejection)
        {
            return Fail(System.Text.Encoding.UTF8.GetBytes(rejection));
        }
        if (asking || FiltersWanted || EnvelopeWaitsForTables)
        {
            return ParkForFilters(FilterStage.Data, argument, [], ref step);
        }
        Reply.Line(Replies.StartData);
        BeginContent();
        _scanner.StartData(_bareMode);
        _mode = Mode.Data;
        return true;
    }

    private bool Bdat(ReadOnlySpan<byte> argument, ref Step step)
    {
        if (!BdatCommand.TryParse(argument, out long size, out bool last))
        {
            MailLog.Warning($"{QueueIdOrNoQueue}: malformed BDAT command syntax from {_peer.NamAddr}: {Printable.Escape(argument)}");
            Reply.Line(Replies.BdatSyntax);
            step = Step.Close;
            return false;
        }
        _bdatChunkSize = size;
        _bdatRemaining = size;
        _bdatLast = last;
        _bdatDiscard = true;
        bool asking = false;
        if (_bdatFailed)
        {
            _bdatReply = ChunkReply.Discarded;
        }
        else if (!_bdatStarted && _envelope.RecipientCount == 0)
        {
            _bdatReply = _envelope.Active ? ChunkReply.NoValidRecipients : ChunkReply.NeedRcpt;
        }
        else if (size == 0 && !last)
        {
            _bdatReply = ChunkReply.NullBdat;
        }
        else if (!_bdatStarted && CheckStage(Subject.Data, "BDAT", out asking) is { } rejection)
        {
            _bdatReply = ChunkReply.Rejected;
            _bdatRejection = rejection;
        }
        else if (!_bdatStarted && (asking || FiltersWanted || EnvelopeWaitsForTables))
        {
            _mode = Mode.Bdat;
            _bdatReply = ChunkReply.None;
            _bdatDiscard = false;
            return ParkForFilters(FilterStage.Bdat, default, [], ref step);
        }
        else if (!_bdatStarted)
        {
            StartBdatContent();
        }
        else
        {
            bool tooBig = _s.MessageSizeLimit > 0 && _cleanup.Size > _s.MessageSizeLimit - size;
            _bdatReply = tooBig ? ChunkReply.TooBig : ChunkReply.None;
            _bdatDiscard = tooBig;
        }
        _mode = Mode.Bdat;
        return true;
    }

    /// <summary>Opens the message in cleanup, with the headers of PREPEND actions the restrictions gave.</summary>
    private void BeginContent()
    {
        string protocol = Protocol;
        if (_submission is null || !ReferenceEquals(_submission.Client.Protocol, protocol) || _submission.LocalHeaders != _localHeaders)
        {
            _submission = new Submission(new EnvelopeRecord.Client(_peer.Name, _peer.Address, _helo ?? _peer.Name, protocol),
                _helo, _tlsSummary, Received: true, _localHeaders,
                _s.Sasl is { AuthenticatedHeader: true } && _saslUsername.Length > 0 ? CommentText(_saslUsername) : null, _tlsClient);
        }
        if (_proxy is not null)
        {
            // The before-queue filter gets what cleanup would have: PREPEND headers and the Received: header first.
            _content = _proxy;
            if (_prepend is not null)
            {
                _proxy.Write(System.Text.Encoding.UTF8.GetBytes(_prepend));
            }
            ReceivedHeader.Write(_proxy, _envelope, _submission, _s.MyHostname, _s.MailName);
            return;
        }
        _content = _cleanup;
        _cleanup.Begin(_s.Cleanup, _envelope, _submission, _s.MessageSizeLimit, _prepend);
    }

    /// <summary>Feeds DATA content to the scanner; true once CRLF.CRLF ended it.</summary>
    private bool ScanData(ref ReadOnlySequence<byte> buffer)
    {
        long offset = 0;
        foreach (ReadOnlyMemory<byte> segment in buffer)
        {
            if (_scanner.Scan(segment.Span, _content, out int consumed))
            {
                buffer = buffer.Slice(offset + consumed);
                return true;
            }
            offset += segment.Length;
        }
        buffer = buffer.Slice(buffer.End);
        return false;
    }

    /// <summary>Takes the current chunk's bytes; true once all of them arrived.</summary>
    private bool ScanBdat(ref ReadOnlySequence<byte> buffer)
    {
        while (_bdatRemaining > 0 && !buffer.IsEmpty)
        {
            ReadOnlySpan<byte> span = buffer.FirstSpan;
            int take = (int)Math.Min(span.Length, _bdatRemaining);
            if (!_bdatDiscard)
            {
                _scanner.Scan(span[..take], _content, out _);
            }
            _bdatRemaining -= take;
            buffer = buffer.Slice(take);
        }
        return _bdatRemaining == 0;
    }

    /// <summary>A chunk that was discarded or is not the last one: reply and go back to commands.</summary>
    private void EndChunk()
    {
        _mode = Mode.Command;
        if (_bdatDiscard)
        {
            _errors++;
            switch (_bdatReply)
            {
                case ChunkReply.NeedRcpt: Reply.Line(Replies.NeedRcpt); break;
                case ChunkReply.NoValidRecipients: Reply.Line(Replies.NoValidRecipients); break;
                case ChunkReply.NullBdat: Reply.Line(Replies.NullBdat); _bdatFailed = _bdatStarted; break;
                case ChunkReply.TooBig: Reply.Line(Replies.ChunkTooBig); _bdatFailed = true; break;
                case ChunkReply.Rejected: Reply.Line(System.Text.Encoding.UTF8.GetBytes(_bdatRejection!)); _bdatFailed = true; break;
                default:
                    Reply.Write(Replies.BdatDiscardedPrefix);
                    Reply.WriteNumber(_bdatChunkSize);
                    Reply.Line(Replies.BdatDiscardedSuffix);
                    break;
            }
            if (_bdatLast)
            {
                ResetTransaction();
            }
            return;
        }
        if (_scanner.SawBareLf && _bareMode == BareNewlineMode.Reject)
        {
            RejectBareLf("END-OF-MESSAGE");
            _cleanup.Discard();
            _bdatFailed = true;
            _errors++;
            return;
        }
        Reply.Write(Replies.BdatOkPrefix);
        Reply.WriteNumber(_bdatChunkSize);
        Reply.Line(Replies.BdatBytes);
        _stats.Succeeded(SmtpVerb.Bdat);
    }

    /// <summary>
    /// End of DATA or the last BDAT chunk: refuse the message (bare LF in reject mode) or let cleanup finish it.
    /// Returns the address to wait for, or -1 when the reply is already written.
    /// </summary>
    private long EndMessage()
    {
        _mode = Mode.Command;
        if (_scanner.SawBareLf && _bareMode == BareNewlineMode.Reject)
        {
            RejectBareLf("END-OF-MESSAGE");
            _errors++;
            return -1;
        }
        return Queued(_cleanup.End(_saved));
    }

    /// <summary><see cref="EndMessage"/> with mail filters, which see the message in cleanup before it is queued.</summary>
    private async Task<long> EndMessageWithMiltersAsync()
    {
        _mode = Mode.Command;
        if (_scanner.SawBareLf && _bareMode == BareNewlineMode.Reject)
        {
            RejectBareLf("END-OF-MESSAGE");
            _errors++;
            return -1;
        }
        return Queued(await _cleanup.EndAsync(_saved, _milters!, _hardStop));
    }

    /// <summary>The address to wait for when cleanup queued the message; otherwise the reply is written and -1.</summary>
    private long Queued(CleanupResult result)
    {
        if (result.Outcome == CleanupOutcome.Queued)
        {
            return result.Address;
        }
        Refused(result);
        return -1;
    }

    /// <summary>The reply for a message cleanup did not queue; a discarded one is claimed to be.</summary>
    private void Refused(CleanupResult result)
    {
        switch (result.Outcome)
        {
            case CleanupOutcome.Discarded:
                WriteQueuedReply(_bdatStarted);
                return;
            case CleanupOutcome.Rejected: Reply.Line(System.Text.Encoding.UTF8.GetBytes(result.Reply!)); break;
            case CleanupOutcome.TooManyHops: Reply.Line(Replies.TooManyHops); break;
            case CleanupOutcome.Shutdown: Reply.Line(System.Text.Encoding.UTF8.GetBytes(result.Reply!)); _milterShutdown = true; break;
            case CleanupOutcome.TooBig: Reply.Line(Replies.MessageTooBig); break;
            case CleanupOutcome.AliasError: Reply.Line(Replies.AliasExpansionError); break;
            default: Reply.Line(Replies.QueueWriteError); break;
        }
        _errors++;
    }

    /// <summary>
    /// After the commit of a message appended at <paramref name="address"/> (or when it was refused, -1):
    /// the reply. Returns true when the session must end.
    /// </summary>
    private bool FinishMessage(long address, Exception? commitFailure)
    {
        _transcript?.Checkpoint();
        bool bdat = _bdatStarted;
        if (address >= 0 && commitFailure is not null)
        {
            Refused(_cleanup.WriteFailed(commitFailure));
        }
        else if (address >= 0)
        {
            _cleanup.Committed(address);
            WriteQueuedReply(bdat);
            _stats.Succeeded(bdat ? SmtpVerb.Bdat : SmtpVerb.Data);
            // Postfix forgives earlier client errors once a message was accepted.
            _errors = 0;
            _junk = 0;
        }
        _where = "END-OF-MESSAGE";
        ResetTransaction();
        // Postfix hangs up after any 421 or 521 reply; a bare-LF reject code of 521 is one.
        return _milterShutdown || (_scanner.SawBareLf && _bareMode == BareNewlineMode.Reject && _s.BareNewlineRejectCode == 521);
    }

    private void WriteQueuedReply(bool bdat)
    {
        if (bdat)
        {
            Reply.Write(Replies.BdatOkPrefix);
            Reply.WriteNumber(_cleanup.Size);
            Reply.Write(Replies.BdatBytesQueuedAs);
        }
        else
        {
            Reply.Write(Replies.QueuedAs);
        }
        Span<char> id = stackalloc char[QueueId.TextLength];
        _envelope.Id.Format(id);
        Reply.WriteAscii(id);
        Reply.CrLf();
    }

    private void RejectBareLf(string where)
    {
        Reply.WriteNumber(_s.BareNewlineRejectCode);
        Reply.Write(" 5.5.2 "u8);
        Reply.WriteAscii(_s.MyHostname);
        Reply.Line(" Error: bare <LF> received"u8);
        string? recipient = _envelope.RecipientCount > 0 ? Printable.Text(_envelope[_envelope.Recipients[0].Address]) : null;
        LogReject(where, "bare <LF> received", recipient, code: _s.BareNewlineRejectCode);
    }

    /// <summary>
    /// The TLS handshake (after STARTTLS, or at connect in wrapper mode), then Postfix's checks of the client's
    /// certificate. False when the session ends here (smtpd_tls_req_ccert); throws <see cref="IOException"/> when the
    /// handshake fails.
    /// </summary>
    private async Task<bool> StartTlsAsync()
    {
        ServerTlsSettings settings = _s.ServerTls;
        var stream = new SslStream(new DuplexPipeStream(_transport), leaveInnerStreamOpen: false);
        using (var handshake = CancellationTokenSource.CreateLinkedTokenSource(_connectionClosed))
        {
            handshake.CancelAfter(_s.StartTlsTimeout);
            try
            {
                // smtpd_tls_ask_ccert: the certificate is asked for, and any is taken; whether it is trusted is decided below.
                await stream.AuthenticateAsServerAsync(settings.HandshakeOptions(_s.Certificate), handshake.Token);
            }
            catch (Exception e) when (e is AuthenticationException or IOException or OperationCanceledException)
            {
                EdgeMetrics.TlsHandshakes.Add(1, EdgeMetrics.Tag("role", "server"), EdgeMetrics.Tag("result", "failed"));
                MailLog.Warning($"TLS library problem: handshake with {_peer.NamAddr} failed: {e.Message}");
                await stream.DisposeAsync();
                throw new IOException("TLS handshake failed", e);
            }
        }
        EdgeMetrics.TlsHandshakes.Add(1, EdgeMetrics.Tag("role", "server"), EdgeMetrics.Tag("result", "ok"));
        _tls = stream;
        _clientCertificate = stream.RemoteCertificate is { } remote
            ? ClientCertificates.Describe(remote as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(remote.GetRawCertData()), settings)
            : null;
        if (RateExceeded(AnvilEvent.NewTlsSession, _s.ClientNewTlsSessionRateLimit, "New TLS session rate limit exceeded"))
        {
            // Every handshake counts: SslStream does not say whether the client resumed an earlier session.
            await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes($"421 4.7.0 {_s.MyHostname} Error: too many new TLS sessions from {_peer.NamAddr}\r\n"));
            throw new IOException("too many new TLS sessions");
        }
        // Zero-byte reads: an idle TLS session holds no receive buffer, as Kestrel's plain sockets do.
        _input = PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: true, useZeroByteReads: true));
        _output = PipeWriter.Create(stream, new StreamPipeWriterOptions(leaveOpen: true));
        string summary = TlsDescription.Summary(stream);
        // smtpd_tls_received_header: the Received: header tells of the session only when asked to, as in Postfix.
        _tlsSummary = settings.ReceivedHeader ? summary : null;
        _tlsClient = !settings.ReceivedHeader ? null
            : _clientCertificate is { } certificate
                ? $"(Client CN \"{certificate.SubjectCn}\", Issuer \"{certificate.IssuerCn}\" ({(certificate.Trusted ? "verified OK" : "not verified")}))"
                : settings.AskClientCertificate ? "(Client did not present a certificate)" : "(No client certificate requested)";
        _submission = null;
        if (settings.LogLevel >= 1)
        {
            string kind = _clientCertificate is null ? "Anonymous" : _clientCertificate.Trusted ? "Trusted" : "Untrusted";
            MailLog.Info($"{kind} TLS connection established from {_peer.NamAddr}: {summary}");
        }
        if (settings.RequireClientCertificate && _clientCertificate is not { Trusted: true })
        {
            // smtpd_tls_req_ccert: a session without a trusted certificate ends here, politely, as Postfix ends it.
            string why = _clientCertificate is null ? "No client certificate presented" : "Client certificate not trusted";
            MailLog.Info($"NOQUEUE: abort: TLS from {_peer.NamAddr}: {why}");
            _errors++;
            Reply.Line(System.Text.Encoding.ASCII.GetBytes($"421 4.7.1 {_s.MyHostname} Error: {why}"));
            await FlushAsync();
            return false;
        }
        // RFC 3207 4.2: the client must start over with EHLO; nothing said before the handshake counts, a login neither.
        _helo = null;
        (_saslUsername, _saslMethod) = ("", "");
        ResetTransaction();
        return true;
    }
}
