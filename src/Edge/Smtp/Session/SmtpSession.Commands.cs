using System.Buffers;
using System.Text;
using System.Text.Unicode;
using Edge.Logging;
using Edge.Metrics;
using Edge.Queue;
using Edge.Resolve;
using Edge.Restrictions;
using Edge.Smtp.Data;
using Edge.Smtp.Protocol;
using Edge.Tables;

namespace Edge.Smtp.Session;

internal sealed partial class SmtpSession
{
    /// <summary>Handles everything complete in <paramref name="buffer"/>, advancing it past what was used.</summary>
    private Step Process(ref ReadOnlySequence<byte> buffer)
    {
        while (true)
        {
            switch (_mode)
            {
                case Mode.SkipLine:
                    if (!LineFramer.SkipRestOfLine(ref buffer))
                    {
                        return Step.NeedInput;
                    }
                    _mode = Mode.Command;
                    continue;
                case Mode.Data:
                    if (!ScanData(ref buffer))
                    {
                        return Step.NeedInput;
                    }
                    return Step.EndOfMessage;
                case Mode.Bdat:
                    if (!ScanBdat(ref buffer))
                    {
                        return Step.NeedInput;
                    }
                    if (_bdatLast && !_bdatDiscard)
                    {
                        return Step.EndOfMessage;
                    }
                    EndChunk();
                    continue;
            }

            LineStatus status = LineFramer.TryReadLine(ref buffer, _s.LineLengthLimit, out ReadOnlySequence<byte> line,
                out bool bareLf, out bool skipRest);
            if (status == LineStatus.NeedMore)
            {
                return Step.NeedInput;
            }
            ReadOnlySpan<byte> command = line.IsSingleSegment ? line.FirstSpan : CopyLine(line);
            if (status == LineStatus.Truncated)
            {
                MailLog.Warning($"{_peer.NamAddr}: request longer than {_s.LineLengthLimit}: {Printable.Escape(command[..Math.Min(30, command.Length)])}...");
            }

            // Postfix sleeps before every reply once the client made smtpd_soft_error_limit errors.
            _sleepFirst |= _errors >= _s.SoftErrorLimit;
            // The rest of an over-long line is still that line, not a command sent ahead of our reply: as Postfix's
            // smtp_get() does, what of it has arrived goes before the command runs, the rest as it arrives.
            bool lineLeft = skipRest && !LineFramer.SkipRestOfLine(ref buffer);
            Step step;
            try
            {
                step = Execute(command, bareLf, status == LineStatus.Truncated, ref buffer);
            }
            catch (TableLookupException)
            {
                // A table asked outside the restrictions (mydestination, relay_domains …) could not answer: the
                // command is refused for now, as Postfix refuses one whose address it cannot resolve. After DATA or
                // BDAT the client may already be sending content, which must never be read as commands: the session ends.
                _errors++;
                if (VerbParser.Parse(command.Trim(" \t"u8), out _) is SmtpVerb.Data or SmtpVerb.Bdat || _mode != Mode.Command)
                {
                    Reply.Line(Replies.TemporaryLookupFailureClosing);
                    _closeReason = "temporary lookup failure";
                    return Step.Close;
                }
                Reply.Line(Replies.TemporaryLookupFailure);
                step = Step.NeedInput;
            }
            if (lineLeft && _mode == Mode.Command)
            {
                _mode = Mode.SkipLine;
            }
            if (step == Step.Close)
            {
                return step;
            }
            if (_errors >= _s.HardErrorLimit)
            {
                WriteHostReply(Replies.TooManyErrorsPrefix, Replies.TooManyErrorsSuffix);
                _closeReason = "too many errors";
                return Step.Close;
            }
            if (step != Step.NeedInput)
            {
                return step;
            }
            if (_sleepFirst || (_output.CanGetUnflushedBytes && _output.UnflushedBytes > MaxUnflushedReplies))
            {
                // A client that pipelines without reading must not make us buffer replies without end.
                return Step.Flush;
            }
        }
    }

    private const int MaxUnflushedReplies = 64 * 1024;

    private ReadOnlySpan<byte> CopyLine(in ReadOnlySequence<byte> line)
    {
        // Only a line that spans receive buffers is copied; sessions that never see one never allocate this.
        _lineBuffer ??= new byte[_s.LineLengthLimit + 2];
        line.CopyTo(_lineBuffer);
        return _lineBuffer.AsSpan(0, (int)line.Length);
    }

    /// <summary>Runs one command line. Returns NeedInput to go on with the next line.</summary>
    private Step Execute(ReadOnlySpan<byte> line, bool bareLf, bool truncated, ref ReadOnlySequence<byte> rest)
    {
        if (bareLf && _bareMode == BareNewlineMode.Reject)
        {
            RejectBareLf(_where);
            return Step.Close;
        }
        // Postfix parses commands as C strings: whatever follows a NUL is not there.
        int nul = line.IndexOf((byte)0);
        if (nul >= 0)
        {
            line = line[..nul];
        }
        // As Postfix protects its internal interfaces: with SMTPUTF8 on, a command must be well-formed UTF-8.
        if (_s.SmtpUtf8Enabled && !Utf8.IsValid(line))
        {
            _where = "UNKNOWN";
            _stats.Count(SmtpVerb.Unknown);
            _errors++;
            Reply.Line(Replies.BadUtf8);
            return Step.NeedInput;
        }
        line = line.Trim(" \t"u8);
        if (line.IsEmpty)
        {
            _errors++;
            Reply.Line(Replies.BadSyntax);
            return Step.NeedInput;
        }

        SmtpVerb verb = VerbParser.Parse(line, out int argumentStart);
        ReadOnlySpan<byte> argument = line[argumentStart..];
        // A password is the client's alone: an AUTH command goes into the history without its initial response.
        int response = verb == SmtpVerb.Auth ? argument.IndexOfAny(" \t"u8) : -1;
        _transcript?.Input(response < 0 ? line : line[..(argumentStart + response)]);
        _stats.Count(verb);
        if (_accessDenied is not null && verb is not (SmtpVerb.Quit or SmtpVerb.Forbidden))
        {
            // Postfix's access_denied: the client restrictions refused the connection (smtpd_delay_reject = no).
            _errors++;
            Reply.Line(Encoding.UTF8.GetBytes($"503 5.7.0 Error: access denied for {_peer.NamAddr}"));
            return Step.NeedInput;
        }
        switch (verb)
        {
            case SmtpVerb.Forbidden:
                MailLog.Warning($"non-SMTP command from {_peer.NamAddr}: {Printable.Escape(line)}");
                Reply.Line(Replies.Forbidden);
                return Step.Close;
            case SmtpVerb.Unknown or SmtpVerb.Expn:
                _where = "UNKNOWN";
                if (MilterWanted)
                {
                    // The filters hear of it first: a 4xx answer of theirs replaces the 500.
                    _filterRefusal = Encoding.ASCII.GetString(Replies.NotRecognized);
                    Step told = Step.NeedInput;
                    ParkForFilters(FilterStage.Unknown, default, [Encoding.UTF8.GetString(line)], ref told);
                    return told;
                }
                _errors++;
                Reply.Line(Replies.NotRecognized);
                return Step.NeedInput;
        }

        _where = VerbName(verb);
        if (_s.Tls == TlsLevel.Encrypt && _tls is null
            && verb is not (SmtpVerb.Helo or SmtpVerb.Ehlo or SmtpVerb.StartTls or SmtpVerb.Noop or SmtpVerb.Quit or SmtpVerb.Help))
        {
            _errors++;
            Reply.Line(Replies.MustStartTls);
            return Step.NeedInput;
        }
        if (truncated && verb is SmtpVerb.Data or SmtpVerb.Bdat)
        {
            // What follows an over-long DATA or BDAT line would be taken for message content: refuse it.
            _errors++;
            Reply.Line(verb == SmtpVerb.Data ? Replies.DataSyntax : Replies.BdatSyntax);
            return verb == SmtpVerb.Data ? Step.NeedInput : Step.Close;
        }
        if (IllegallyPipelined(verb, rest))
        {
            Reply.Line(Replies.Synchronization);
            return Step.Close;
        }

        Step step = Step.NeedInput;
        bool ok = verb switch
        {
            SmtpVerb.Helo => Helo(argument, extended: false, ref step),
            SmtpVerb.Ehlo => Helo(argument, extended: true, ref step),
            SmtpVerb.Mail => Mail(argument, ref step),
            SmtpVerb.Rcpt => Rcpt(argument, ref step),
            SmtpVerb.Data => Data(argument, ref step),
            SmtpVerb.Bdat => Bdat(argument, ref step),
            SmtpVerb.Rset => Rset(argument),
            SmtpVerb.Noop => Ok(),
            SmtpVerb.Vrfy => Vrfy(argument, ref step),
            SmtpVerb.Etrn => Etrn(argument, ref step),
            SmtpVerb.Help => Help(),
            SmtpVerb.StartTls => StartTls(argument, ref rest, ref step),
            SmtpVerb.XClient => Xclient(argument, ref step),
            SmtpVerb.Quit => Quit(ref step),
            SmtpVerb.Auth => Auth(argument, ref step),
            _ => Fail(Replies.NotImplemented),
        };
        // DATA and BDAT succeed or fail when their content is complete (EndChunk, FinishMessage).
        if (!ok)
        {
            _errors++;
        }
        else if (verb is not (SmtpVerb.Data or SmtpVerb.Bdat) && step is not (Step.Lookup or Step.Filters or Step.Await))
        {
            _stats.Succeeded(verb);
        }
        if (verb is SmtpVerb.Helo or SmtpVerb.Ehlo or SmtpVerb.Rset or SmtpVerb.Noop or SmtpVerb.Vrfy or SmtpVerb.Etrn
                or SmtpVerb.XClient
            && _junk++ > _s.JunkCommandLimit)
        {
            _errors++;
        }
        return step;
    }

    /// <summary>
    /// RFC 2920: EHLO, DATA, VRFY and NOOP end a pipelined group, and a client that never said EHLO may not
    /// pipeline at all. Input already waiting behind such a command means the client did not wait for our reply.
    /// </summary>
    private bool IllegallyPipelined(SmtpVerb verb, in ReadOnlySequence<byte> rest)
    {
        if (_illPipelining || rest.IsEmpty
            || (_esmtp && verb is not (SmtpVerb.Helo or SmtpVerb.Ehlo or SmtpVerb.Data or SmtpVerb.Noop or SmtpVerb.Vrfy)))
        {
            return false;
        }
        _illPipelining = true;
        MailLog.Info($"improper command pipelining after {_where} from {_peer.NamAddr}: {Printable.Escape(rest)}");
        return _s.ForbidUnauthPipelining;
    }

    private bool Ok()
    {
        Reply.Line(Replies.Ok);
        return true;
    }

    private bool Fail(ReadOnlySpan<byte> reply)
    {
        Reply.Line(reply);
        return false;
    }

    private bool Helo(ReadOnlySpan<byte> argument, bool extended, ref Step step)
    {
        _transcript?.Checkpoint();
        if (argument.IsEmpty)
        {
            return Fail(extended ? Replies.EhloSyntax : Replies.HeloSyntax);
        }
        if (!_s.Restrictions.DelayReject)
        {
            _candidateHelo = Printable.Text(argument);
        }
        if (EarlyRejection(Subject.Helo, extended ? "EHLO" : "HELO", out bool asking) is { } rejection)
        {
            return Fail(Encoding.UTF8.GetBytes(rejection));
        }
        if (asking || MilterWanted)
        {
            _milterExtended = extended;
            SetTlsMacros();
            return ParkForFilters(FilterStage.Helo, argument, [Printable.Text(argument)], ref step);
        }
        _helo = Printable.Text(argument);
        _submission = null;
        _esmtp |= extended;
        ResetTransaction();
        if (extended)
        {
            bool offerTls = _s.Tls != TlsLevel.None && _s.Certificate is not null && _tls is null;
            // With AUTH on offer the reply is made for the session (its mechanisms depend on TLS); otherwise it is ready-made.
            Reply.Write(OfferedMechanisms() is { } mechanisms
                ? _s.Ehlo(offerTls, _xclientAllowed, mechanisms)
                : _s.EhloReplies[SmtpdSettings.EhloIndex(offerTls, _xclientAllowed)]);
        }
        else
        {
            Reply.Write(_s.HeloReply);
        }
        return true;
    }

    private bool Mail(ReadOnlySpan<byte> argument, ref Step step)
    {
        if (_s.HeloRequired && _helo is null)
        {
            return Fail(Replies.SendHeloFirst);
        }
        if (_envelope.Active)
        {
            return Fail(Replies.NestedMail);
        }
        EnvelopeError error = EnvelopeParser.ParseMail(argument, _s.StrictRfc821Envelopes, _s.SmtpUtf8Enabled,
            out MailArguments mail);
        // As in Postfix: after the command's own syntax, before its address and parameters are judged; once per
        // command, not again when it runs on after waiting for the filters or a table.
        if (error != EnvelopeError.MailSyntax && !_filtersPassed && RateExceeded(AnvilEvent.Message, _s.ClientMessageRateLimit, "Message delivery request rate limit exceeded"))
        {
            return Fail(Encoding.ASCII.GetBytes($"450 4.7.1 Error: too much mail from {_peer.Address}"));
        }
        if (error != EnvelopeError.None)
        {
            return ReplyEnvelopeError(error, argument, mail.BadParameter);
        }
        if (mail.Auth.End.Value != 0)
        {
            TakeAuthParameter(argument[mail.Auth]);
        }
        if (mail.Size > 0 && _s.MessageSizeLimit > 0 && mail.Size > _s.MessageSizeLimit)
        {
            return Fail(Replies.SizeExceedsLimit);
        }
        if (_queue.RoomFor(_s.MessageSizeLimit) is var room and not QueueRoom.Enough)
        {
            return RefuseForSpace(room, argument[mail.Address]);
        }
        if (!_filtersPassed)
        {
            _prepend = null;
        }
        if (!_s.Restrictions.DelayReject)
        {
            // Copied only when the sender restrictions run here: MAIL FROM allocates nothing for them otherwise.
            _candidateSender = argument[mail.Address].ToArray();
        }
        if (EarlyRejection(Subject.Sender, "MAIL", out bool asking) is { } rejection)
        {
            // Postfix's mail_reset(): what the refused command's restrictions saved goes with it.
            _saved = null;
            _prepend = null;
            return Fail(Encoding.UTF8.GetBytes(rejection));
        }
        if (asking || MilterWanted || HeaderRewriteWaits)
        {
            if (_milters is { } milters)
            {
                milters.Macros["{mail_addr}"] = Encoding.UTF8.GetString(argument[mail.Address]);
                SetAuthMacros(milters);
            }
            return ParkForFilters(FilterStage.Mail, argument, MailArguments(argument, mail.Address), ref step);
        }
        if (LocalHeaders() is { } failure)
        {
            // As Postfix's smtpd_check_rewrite(), logged before the transaction has a sender: local_header_rewrite_clients
            // could not be decided.
            LogReject("MAIL", failure, null);
            _saved = null;
            _prepend = null;
            return Fail(Encoding.ASCII.GetBytes(failure));
        }
        _envelope.Begin(default, argument[mail.Address], argument[mail.EnvId], mail.Ret, mail.Body, mail.SmtpUtf8);
        _mailCommand = _s.ProxyFilter is null ? null : $"MAIL FROM:{Encoding.UTF8.GetString(argument[(argument.IndexOf((byte)':') + 1)..])}";
        _declaredSize = mail.Size;
        _transactions++;
        Reply.Line(Replies.MailOk);
        return true;
    }

    /// <summary>
    /// Postfix's answer at MAIL FROM when the queue file system is short of space (452 4.3.1, with its warning); when
    /// the queue log is broken, the reply a failed queue write gets.
    /// </summary>
    private bool RefuseForSpace(QueueRoom room, ReadOnlySpan<byte> sender)
    {
        if (room == QueueRoom.Short)
        {
            MailLog.Warning($"not enough free space in mail queue: {_queue.FreeBytes()} bytes < 1.5*message size limit");
        }
        ReadOnlySpan<byte> reply = room == QueueRoom.Short ? Replies.InsufficientStorage : Replies.QueueWriteError;
        string helo = _helo is null ? "" : $" helo=<{_helo}>";
        MailLog.Info($"NOQUEUE: reject: MAIL from {_peer.NamAddr}: {System.Text.Encoding.ASCII.GetString(reply)}; from=<{Printable.Text(sender)}> proto={LogProtocol}{helo}");
        return Fail(reply);
    }

    private bool Rcpt(ReadOnlySpan<byte> argument, ref Step step)
    {
        if (!_envelope.Active)
        {
            return Fail(Replies.NeedMail);
        }
        if (_bdatStarted)
        {
            return Fail(Replies.RcptAfterBdat);
        }
        EnvelopeError error = EnvelopeParser.ParseRcpt(argument, _s.StrictRfc821Envelopes,
            _s.SmtpUtf8Enabled && _envelope.SmtpUtf8, out RcptArguments rcpt);
        if (error != EnvelopeError.RcptSyntax && RateExceeded(AnvilEvent.Recipient, _s.ClientRecipientRateLimit, "Recipient address rate limit exceeded"))
        {
            return Fail(Encoding.ASCII.GetBytes($"450 4.7.1 Error: too many recipients from {_peer.Address}"));
        }
        if (error != EnvelopeError.None)
        {
            return ReplyEnvelopeError(error, argument, rcpt.BadParameter);
        }
        if ((_s.RecipientLimit > 0 && _envelope.RecipientCount >= _s.RecipientLimit)
            || !_envelope.HasRoomFor(rcpt.Address.End.Value - rcpt.Address.Start.Value + rcpt.Orcpt.End.Value - rcpt.Orcpt.Start.Value))
        {
            Reply.Line(Replies.TooManyRecipients);
            // Postfix forgives overshoot up to smtpd_recipient_overshoot_limit (1000) before counting errors.
            return _rcptOvershoot++ < 1000;
        }

        ReadOnlySpan<byte> address = argument[rcpt.Address];
        Decision? unresolved = Resolve(address, out Resolution resolution);
        Decision decision = unresolved ?? CheckRecipient(address, resolution);
        if (decision.Outcome == Outcome.Lookup)
        {
            AwaitLookup(decision, address, argument[rcpt.Orcpt], rcpt.Notify, unresolved is null ? resolution : null);
            step = Step.Lookup;
            return true;
        }
        return FinishRcpt(decision, address, argument[rcpt.Orcpt], rcpt.Notify, ref step);
    }

    private string QueueIdOrNoQueue => _envelope.RecipientCount > 0 ? _envelope.Id.ToString() : "NOQUEUE";

    /// <param name="sender">The sender a refused MAIL FROM gave (the transaction's otherwise).</param>
    /// <param name="heloName">The name a refused HELO gave (the session's otherwise).</param>
    /// <summary>The NOQUEUE (or queue ID) reject line, counted in edge.smtpd.rejects by the restriction that decided.</summary>
    private void LogReject(string where, string reply, string? recipient, string? sender = null, string? heloName = null,
        RestrictionLabel? by = null, int code = 0)
    {
        by ??= RestrictionLabel.None;
        char replyClass = code > 0 ? (char)('0' + code / 100) : reply[0];
        EdgeMetrics.Rejects.Add(1, new System.Diagnostics.TagList
        {
            { "stage", where }, { "class", replyClass == '4' ? "4xx" : "5xx" }, { "restriction", by.Restriction }, { "table", by.Table },
        });
        string to = recipient is null ? "" : $" to=<{recipient}>";
        heloName ??= _helo;
        string helo = heloName is null ? "" : $" helo=<{heloName}>";
        string from = sender is not null ? $" from=<{sender}>" : _envelope.Active ? $" from=<{Printable.Text(_envelope[_envelope.Sender])}>" : "";
        MailLog.Info($"{QueueIdOrNoQueue}: reject: {where} from {_peer.NamAddr}: {reply};{from}{to} proto={LogProtocol}{helo}");
    }

    private bool ReplyEnvelopeError(EnvelopeError error, ReadOnlySpan<byte> argument, Range badParameter)
    {
        if (error == EnvelopeError.Unsupported)
        {
            Reply.Write(Replies.UnsupportedOption);
            Reply.Line(argument[badParameter]);
            return false;
        }
        return Fail(Replies.ForEnvelopeError(error));
    }

    private bool Rset(ReadOnlySpan<byte> argument)
    {
        _transcript?.Checkpoint();
        if (!argument.IsEmpty)
        {
            return Fail(Replies.RsetSyntax);
        }
        ResetTransaction();
        return Ok();
    }

    private bool Help()
    {
        Reply.Line(Replies.Help);
        return true;
    }

    private bool Quit(ref Step step)
    {
        Reply.Line(Replies.Bye);
        step = Step.Close;
        return true;
    }

    private bool StartTls(ReadOnlySpan<byte> argument, ref ReadOnlySequence<byte> rest, ref Step step)
    {
        if (!argument.IsEmpty)
        {
            return Fail(Replies.StartTlsSyntax);
        }
        if (_tls is not null)
        {
            return Fail(Replies.TlsAlreadyActive);
        }
        if (_s.Tls == TlsLevel.None || _s.Certificate is null)
        {
            return Fail(Replies.NotImplemented);
        }
        if (_s.ClientNewTlsSessionRateLimit > 0 && _counted is not null && _anvil.Rate(_counted, AnvilEvent.NewTlsSession) > _s.ClientNewTlsSessionRateLimit)
        {
            MailLog.Warning($"Refusing STARTTLS request from {_peer.NamAddr} for service smtp");
            return Fail(Encoding.ASCII.GetBytes($"454 4.7.0 Error: too many new TLS sessions from {_peer.NamAddr}"));
        }
        Reply.Line(Replies.ReadyToStartTls);
        // CVE-2011-0411: plaintext pipelined behind STARTTLS must not survive into the TLS session.
        rest = rest.Slice(rest.End);
        step = Step.StartTls;
        return true;
    }

    private void ResetTransaction()
    {
        _envelope.Reset();
        _cleanup.Release();
        ResetFilters();
        _saved = null;
        _bdatStarted = false;
        _bdatFailed = false;
        _rcptOvershoot = 0;
        _saslSender = null;
    }

    /// <summary>
    /// The Received: header's "with" protocol (RFC 3848: S for TLS, A for AUTH, on ESMTP only): always one of these
    /// literals, so that a session can tell cheaply whether it changed.
    /// </summary>
    private string Protocol => !_esmtp ? "SMTP" : (_envelope.Active && _envelope.SmtpUtf8, _tls is not null, _saslUsername.Length > 0) switch
    {
        (true, true, true) => "UTF8SMTPSA",
        (true, true, false) => "UTF8SMTPS",
        (true, false, true) => "UTF8SMTPA",
        (true, false, false) => "UTF8SMTP",
        (false, true, true) => "ESMTPSA",
        (false, true, false) => "ESMTPS",
        (false, false, true) => "ESMTPA",
        (false, false, false) => "ESMTP",
    };

    /// <summary>The log lines' proto= and the session's protocol as Postfix records it: SMTP or ESMTP.</summary>
    private string LogProtocol => _esmtp ? "ESMTP" : "SMTP";

    private static string VerbName(SmtpVerb verb) => verb switch
    {
        SmtpVerb.Helo => "HELO",
        SmtpVerb.Ehlo => "EHLO",
        SmtpVerb.StartTls => "STARTTLS",
        SmtpVerb.XClient => "XCLIENT",
        SmtpVerb.Mail => "MAIL",
        SmtpVerb.Rcpt => "RCPT",
        SmtpVerb.Data => "DATA",
        SmtpVerb.Bdat => "BDAT",
        SmtpVerb.Rset => "RSET",
        SmtpVerb.Noop => "NOOP",
        SmtpVerb.Vrfy => "VRFY",
        SmtpVerb.Quit => "QUIT",
        SmtpVerb.Help => "HELP",
        SmtpVerb.Etrn => "ETRN",
        SmtpVerb.Auth => "AUTH",
        _ => "UNKNOWN",
    };
}
