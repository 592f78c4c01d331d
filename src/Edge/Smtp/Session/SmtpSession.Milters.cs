using System.Net;
using System.Text;
using Edge.Logging;
using Edge.Mail;
using Edge.Milter;
using Edge.Smtp.Protocol;

namespace Edge.Smtp.Session;

/// <summary>
/// smtpd_milters: the mail filters see the connection, HELO, MAIL FROM, each accepted RCPT TO and DATA as they
/// happen (each such command waits for them: <see cref="Step.Milter"/>), and the message at its end, through cleanup.
/// Their decisions are carried out as Postfix's smtpd does (check_milter_reply): a reply refuses the command, "D"
/// discards and "H" holds the message, "S" closes the session with 421.
/// </summary>
internal sealed partial class SmtpSession
{
    private enum MilterStage : byte
    {
        None,
        Helo,
        Mail,
        Rcpt,
        Data,
        Bdat,
    }

    private MilterChain? _milters;
    private MilterStage _milterStage;
    private string[] _milterArguments = [];
    private byte[] _milterCommand = [];
    private bool _milterExtended;
    private PendingRecipient? _milterRecipient;

    /// <summary>A filter shut the session down at the end of the data (421).</summary>
    private bool _milterShutdown;

    /// <summary>The filters decided DISCARD for this transaction: they see nothing more of it (Postfix's MILTER_SKIP_FLAGS).</summary>
    private bool _milterDiscard;

    /// <summary>A command the filters have already passed is running again to finish.</summary>
    private bool _milterPassed;

    private bool MilterWanted => _milters is not null && !_milterDiscard && !_milterPassed;

    /// <summary>
    /// Connects the filters and reports the connection. A filter that rejects it turns the greeting into 554 (and every
    /// later command is refused by it); one that says 421 ends the session. Returns false when the session must end;
    /// the greeting is written either way.
    /// </summary>
    private async Task<bool> GreetAsync()
    {
        if (_s.Milters is not { } settings)
        {
            Reply.Write(_s.Greeting);
            return true;
        }
        _milters = await MilterChain.OpenAsync(settings, _hardStop);
        Dictionary<string, string> macros = _milters.Macros;
        macros["_"] = $"{_peer.Name} [{_peer.Address}]";
        macros["{client_addr}"] = _peer.Address;
        macros["{client_name}"] = _peer.Name;
        macros["{client_ptr}"] = _peer.ReverseName;
        macros["{client_port}"] = _peer.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (_socket?.LocalEndPoint is IPEndPoint local)
        {
            macros["{daemon_addr}"] = (local.Address.IsIPv4MappedToIPv6 ? local.Address.MapToIPv4() : local.Address).ToString();
            macros["{daemon_port}"] = local.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        string? reply = MilterReply(await _milters.ConnectAsync(_peer.Name, _peer.Address, _peer.Port, _hardStop), null);
        if (reply is not null && reply.StartsWith("421", StringComparison.Ordinal))
        {
            WriteHostReply("421 "u8, " Service unavailable - try again later"u8);
            return false;
        }
        if (reply is not null && reply[0] == '5')
        {
            WriteHostReply("554 "u8, " ESMTP not accepting connections"u8);
            _errors++;
            return true;
        }
        Reply.Write(_s.Greeting);
        return true;
    }

    /// <summary>
    /// Parks the command for the filters when they want it: the session loop sends the event, then runs the command
    /// again to finish it (<see cref="ResumeAfterMilterAsync"/>).
    /// </summary>
    private bool ParkForMilter(MilterStage stage, ReadOnlySpan<byte> command, string[] arguments, ref Step step)
    {
        _milterStage = stage;
        _milterCommand = command.ToArray();
        _milterArguments = arguments;
        step = Step.Milter;
        return true;
    }

    /// <summary>The parked command's event; then the command finishes, or gets the filters' reply.</summary>
    private async Task<bool> ResumeAfterMilterAsync()
    {
        MilterChain milters = _milters!;
        MilterStage stage = _milterStage;
        _milterStage = MilterStage.None;
        string? raw = stage switch
        {
            MilterStage.Helo => await milters.HeloAsync(_milterArguments[0], _hardStop),
            MilterStage.Mail => await milters.MailAsync(_milterArguments, _hardStop),
            MilterStage.Rcpt => await milters.RcptAsync(_milterArguments, _hardStop),
            _ => await milters.DataAsync(_hardStop),
        };
        string? reply = MilterReply(raw, stage == MilterStage.Rcpt ? _milterArguments[0].Trim('<', '>') : null);
        if (reply is not null && reply.StartsWith("421", StringComparison.Ordinal))
        {
            Reply.Line(Encoding.UTF8.GetBytes(reply));
            return false;
        }
        // As Postfix: a filter's rejection of HELO does not refuse HELO itself; it sticks, and refuses MAIL FROM.
        if (reply is not null && stage != MilterStage.Helo)
        {
            MilterRefused(stage, reply);
            return true;
        }
        _milterPassed = true;
        Step ignored = Step.NeedInput;
        bool ok = stage switch
        {
            MilterStage.Helo => Helo(_milterCommand, _milterExtended, ref ignored),
            MilterStage.Mail => Mail(_milterCommand, ref ignored),
            MilterStage.Rcpt => AddRecipient(_milterRecipient!),
            MilterStage.Data => Data(_milterCommand, ref ignored),
            _ => StartBdatContent(),
        };
        _milterPassed = false;
        if (!ok)
        {
            _errors++;
        }
        else if (stage is not (MilterStage.Data or MilterStage.Bdat))
        {
            _stats.Succeeded(stage switch
            {
                MilterStage.Helo => _milterExtended ? SmtpVerb.Ehlo : SmtpVerb.Helo,
                MilterStage.Mail => SmtpVerb.Mail,
                _ => SmtpVerb.Rcpt,
            });
        }
        return true;
    }

    /// <summary>A command the filters refused: its reply (a first BDAT chunk is read and thrown away with it).</summary>
    private void MilterRefused(MilterStage stage, string reply)
    {
        if (stage == MilterStage.Bdat)
        {
            _bdatReply = ChunkReply.Rejected;
            _bdatRejection = reply;
            _bdatDiscard = true;
            return;
        }
        if (stage == MilterStage.Mail)
        {
            _milters!.Abort();
        }
        Reply.Line(Encoding.UTF8.GetBytes(reply));
        _errors++;
    }

    /// <summary>
    /// Postfix's check_milter_reply(): logs what the filters decided and returns the reply for the client, or null
    /// when the command goes on (nothing said, or a HOLD or DISCARD kept for the end of the data).
    /// </summary>
    private string? MilterReply(string? reply, string? recipient)
    {
        if (reply is null)
        {
            return null;
        }
        string action;
        string text;
        switch (reply[0])
        {
            case 'H':
                if (_saved?.Hold ?? false)
                {
                    return null;
                }
                _saved = SavedActions.Merge(_saved, new SavedActions(Hold: true));
                (action, text, reply) = ("milter-hold", reply.Length > 1 ? reply[1..] : "milter triggers HOLD action", null);
                break;
            case 'D':
                if (_milterDiscard)
                {
                    return null;
                }
                _milterDiscard = true;
                _saved = SavedActions.Merge(_saved, new SavedActions(Discard: true));
                (action, text, reply) = ("milter-discard", "milter triggers DISCARD action", null);
                break;
            case 'S':
                (action, reply) = ("milter-reject", "421 4.7.0 Server closing connection");
                text = reply;
                break;
            case '4' or '5':
                (action, text) = ("milter-reject", reply);
                break;
            default:
                (action, reply) = ("reject", "421 4.3.5 Server configuration error");
                text = reply;
                break;
        }
        string helo = _helo is null ? "" : $" helo=<{_helo}>";
        string from = _envelope.Active ? $" from=<{Printable.Text(_envelope[_envelope.Sender])}>" : "";
        string to = recipient is null ? "" : $" to=<{recipient}>";
        MailLog.Info($"{QueueIdOrNoQueue}: {action}: {_where} from {_peer.NamAddr}: {text};{from}{to} proto={Protocol}{helo}");
        return reply;
    }

    /// <summary>The end of a transaction: the filters forget it (SMFIC_ABORT before their next event).</summary>
    private void ResetMilters()
    {
        _milters?.Abort();
        _milterDiscard = false;
    }

    /// <summary>The first BDAT chunk, once the filters let the data begin: cleanup opens the message.</summary>
    private bool StartBdatContent()
    {
        _bdatStarted = true;
        BeginContent();
        _scanner.StartBdat(_bareMode);
        bool tooBig = _s.MessageSizeLimit > 0 && _cleanup.Size > _s.MessageSizeLimit - _bdatChunkSize;
        _bdatReply = tooBig ? ChunkReply.TooBig : ChunkReply.None;
        _bdatDiscard = tooBig;
        return true;
    }

    /// <summary>The TLS session as the HELO macros describe it.</summary>
    private void SetTlsMacros()
    {
        if (_milters is null || _tls is null)
        {
            return;
        }
        _milters.Macros["{tls_version}"] = TlsVersion(_tls);
        _milters.Macros["{cipher}"] = _tls.NegotiatedCipherSuite.ToString();
    }

    /// <summary>MAIL FROM's arguments as a filter gets them: "&lt;address&gt;", then each ESMTP parameter as the client wrote it.</summary>
    private static string[] MailArguments(ReadOnlySpan<byte> argument, Range address)
    {
        string rest = Encoding.UTF8.GetString(argument[address.End.Value..]).TrimStart('>');
        return [$"<{Encoding.UTF8.GetString(argument[address])}>", .. rest.Split(' ', StringSplitOptions.RemoveEmptyEntries)];
    }
}
