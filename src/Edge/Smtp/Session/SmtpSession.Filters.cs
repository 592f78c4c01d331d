using System.Text;
using Edge.Logging;
using Edge.Mail;
using Edge.Restrictions;
using Edge.Milter;
using Edge.Smtp.BeforeQueue;
using Edge.Smtp.Protocol;
using Edge.Smtp.Tls;

namespace Edge.Smtp.Session;

/// <summary>
/// smtpd_milters: the mail filters see the connection, HELO, MAIL FROM, each accepted RCPT TO and DATA as they
/// happen (each such command waits for them: <see cref="Step.Filters"/>), and the message at its end, through cleanup.
/// Their decisions are carried out as Postfix's smtpd does (check_milter_reply): a reply refuses the command, "D"
/// discards and "H" holds the message, "S" closes the session with 421.
/// </summary>
internal sealed partial class SmtpSession
{
    private enum FilterStage : byte
    {
        None,
        Connect,
        Helo,
        Mail,
        Rcpt,
        Data,
        Bdat,
        RejectedRcpt,
        Unknown,
    }

    private MilterChain? _milters;
    private FilterStage _filterStage;
    private string[] _filterArguments = [];
    private byte[] _filterCommand = [];
    private bool _milterExtended;
    private PendingRecipient? _filterRecipient;

    /// <summary>The reply a refused RCPT TO or an unknown command gets once the filters have been told of it.</summary>
    private string? _filterRefusal;

    /// <summary>A filter shut the session down at the end of the data (421).</summary>
    private bool _milterShutdown;

    /// <summary>The filters decided DISCARD for this transaction: they see nothing more of it (Postfix's MILTER_SKIP_FLAGS).</summary>
    private bool _milterDiscard;

    /// <summary>A command the filters have already passed is running again to finish.</summary>
    private bool _filtersPassed;

    private bool MilterWanted => _milters is not null && !_milterDiscard && !_filtersPassed;

    /// <summary>RCPT TO, DATA and the first BDAT wait for the mail filters or for the before-queue proxy filter.</summary>
    private bool FiltersWanted => MilterWanted || (_s.ProxyFilter is not null && !_filtersPassed);

    /// <summary>The before-queue filter this transaction goes to (smtpd_proxy_filter), once a recipient opened it.</summary>
    private ProxyFilter? _proxy;

    /// <summary>MAIL FROM as the client gave it, replayed to the before-queue filter.</summary>
    private string? _mailCommand;

    /// <summary>Where the content goes: cleanup, or the before-queue filter.</summary>
    private IContentSink _content = null!;

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
        if (_server is { } local)
        {
            macros["{daemon_addr}"] = local.Address.Unmapped().ToString();
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
    /// again to finish it (<see cref="ResumeAfterFiltersAsync"/>).
    /// </summary>
    private bool ParkForFilters(FilterStage stage, ReadOnlySpan<byte> command, string[] arguments, ref Step step)
    {
        _filterStage = stage;
        _filterCommand = command.ToArray();
        _filterArguments = arguments;
        step = Step.Filters;
        return true;
    }

    /// <summary>The parked command's event; then the command finishes, or gets the filters' reply.</summary>
    private async Task<bool> ResumeAfterFiltersAsync()
    {
        FilterStage stage = _filterStage;
        _filterStage = FilterStage.None;
        if (stage == FilterStage.Connect)
        {
            // After XCLIENT: the filters start over with the new client.
            await _milters!.DisposeAsync();
            _milters = null;
            _stats.Succeeded(SmtpVerb.XClient);
            return await GreetAsync();
        }
        if (stage is FilterStage.RejectedRcpt or FilterStage.Unknown)
        {
            await TellFiltersAsync(stage);
            return true;
        }
        // The restrictions' policies and DNS answer before the filters hear of the command, as the restrictions come
        // first: smtpd_data_restrictions, and with smtpd_delay_reject = no the helo and sender restrictions.
        if (stage is FilterStage.Helo or FilterStage.Mail or FilterStage.Data or FilterStage.Bdat && _pendingLookup.Outcome == Outcome.Lookup)
        {
            (Subject subject, string command) = stage switch
            {
                FilterStage.Helo => (Subject.Helo, _milterExtended ? "EHLO" : "HELO"),
                FilterStage.Mail => (Subject.Sender, "MAIL"),
                FilterStage.Data => (Subject.Data, "DATA"),
                _ => (Subject.Data, "BDAT"),
            };
            string? rejection = await AskPoliciesAsync(subject, command);
            _earlyState = null;
            if (rejection is not null)
            {
                if (stage == FilterStage.Mail)
                {
                    _saved = null;
                    _prepend = null;
                }
                FilterRefused(stage, rejection);
                return true;
            }
        }
        string? raw = _milters is not { } milters || _milterDiscard ? null : stage switch
        {
            FilterStage.Helo => await milters.HeloAsync(_filterArguments[0], _hardStop),
            FilterStage.Mail => await milters.MailAsync(_filterArguments, _hardStop),
            FilterStage.Rcpt => await milters.RcptAsync(_filterArguments, _hardStop),
            _ => await milters.DataAsync(_hardStop),
        };
        string? reply = MilterReply(raw, stage == FilterStage.Rcpt ? _filterArguments[0].Trim('<', '>') : null);
        if (reply is not null && reply.StartsWith("421", StringComparison.Ordinal))
        {
            Reply.Line(Encoding.UTF8.GetBytes(reply));
            return false;
        }
        // As Postfix: a filter's rejection of HELO does not refuse HELO itself; it sticks, and refuses MAIL FROM.
        if (reply is not null && stage != FilterStage.Helo)
        {
            FilterRefused(stage, reply);
            return true;
        }
        if (_s.ProxyFilter is not null && stage is FilterStage.Rcpt or FilterStage.Data or FilterStage.Bdat
            && await ProxyAsync(stage) is { } refused)
        {
            FilterRefused(stage, refused);
            return true;
        }
        if (stage == FilterStage.Mail && HeaderRewriteWaits)
        {
            await _tableAnswers.AskAheadAsync(IsLocalClient, _hardStop);
        }
        if (stage is FilterStage.Data or FilterStage.Bdat && EnvelopeWaitsForTables)
        {
            // What rewriting the envelope asks of a directory comes in here, not on this thread in cleanup.
            await _cleanup.PrefetchEnvelopeAsync(_s.Cleanup, _envelope, _hardStop);
        }
        _filtersPassed = true;
        Step ignored = Step.NeedInput;
        bool ok = stage switch
        {
            FilterStage.Helo => Helo(_filterCommand, _milterExtended, ref ignored),
            FilterStage.Mail => Mail(_filterCommand, ref ignored),
            FilterStage.Rcpt => AddRecipient(_filterRecipient!),
            FilterStage.Data => Data(_filterCommand, ref ignored),
            _ => StartBdatContent(),
        };
        _filtersPassed = false;
        if (!ok)
        {
            _errors++;
        }
        else if (stage is not (FilterStage.Data or FilterStage.Bdat))
        {
            _stats.Succeeded(stage switch
            {
                FilterStage.Helo => _milterExtended ? SmtpVerb.Ehlo : SmtpVerb.Helo,
                FilterStage.Mail => SmtpVerb.Mail,
                _ => SmtpVerb.Rcpt,
            });
        }
        return true;
    }

    /// <summary>
    /// What the filters are only told of, as Postfix's smtpd tells them: a recipient the restrictions refused (to the
    /// filters that asked for those; their answer changes nothing), or a command the server does not know, whose reply
    /// a filter can turn into its own 4xx one.
    /// </summary>
    private async Task TellFiltersAsync(FilterStage stage)
    {
        string reply = _filterRefusal!;
        _filterRefusal = null;
        if (stage == FilterStage.RejectedRcpt)
        {
            await _milters!.RejectedRcptAsync(_filterArguments, _hardStop);
        }
        else if (await _milters!.UnknownAsync(_filterArguments[0], _hardStop) is { } answer)
        {
            if (answer[0] == '4')
            {
                reply = answer;
            }
            else if (answer[0] is not ('H' or 'D' or 'S' or '5'))
            {
                MailLog.Warning($"unexpected SMFIC_UNKNOWN response: {answer}");
            }
        }
        Reply.Line(Encoding.UTF8.GetBytes(reply));
        _errors++;
    }

    /// <summary>A command the filters refused: its reply (a first BDAT chunk is read and thrown away with it).</summary>
    private void FilterRefused(FilterStage stage, string reply)
    {
        if (stage == FilterStage.Bdat)
        {
            _bdatReply = ChunkReply.Rejected;
            _bdatRejection = reply;
            _bdatDiscard = true;
            return;
        }
        if (stage == FilterStage.Mail)
        {
            _milters?.Abort();
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
        MailLog.Info($"{QueueIdOrNoQueue}: {action}: {_where} from {_peer.NamAddr}: {text};{from}{to} proto={LogProtocol}{helo}{WhatsupSasl}");
        return reply;
    }

    /// <summary>The end of a transaction: the mail filters forget it (SMFIC_ABORT before their next event), the proxy filter is let go.</summary>
    private void ResetFilters()
    {
        _milters?.Abort();
        _milterDiscard = false;
        if (_proxy is not null)
        {
            _ = _proxy.DisposeAsync().AsTask();
            _proxy = null;
        }
    }

    /// <summary>
    /// RCPT TO (connecting the before-queue filter for the first one, with MAIL FROM replayed), DATA or the first BDAT
    /// to the proxy filter: null when it takes them, otherwise its reply for the client.
    /// </summary>
    private async Task<string?> ProxyAsync(FilterStage stage)
    {
        if (_proxy is null)
        {
            var client = new ProxyClient(_peer.Name, _peer.Address, _peer.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                LogProtocol, _helo);
            (_proxy, string opened) = await ProxyFilter.OpenAsync(_s.ProxyFilter!, client, _mailCommand!, _hardStop);
            if (_proxy is null)
            {
                return opened;
            }
        }
        string command = stage == FilterStage.Rcpt ? RcptCommand(_filterRecipient!) : "DATA";
        string reply = await _proxy.CommandAsync(command, _hardStop);
        if (reply[0] == (stage == FilterStage.Rcpt ? '2' : '3'))
        {
            return null;
        }
        return _proxy.Refused(command, reply);
    }

    /// <summary>RCPT TO for the before-queue filter, with the NOTIFY and ORCPT the client gave.</summary>
    private static string RcptCommand(PendingRecipient recipient)
    {
        var command = new StringBuilder($"RCPT TO:<{Encoding.UTF8.GetString(recipient.Address)}>");
        if (recipient.Notify != DsnNotify.Unspecified)
        {
            command.Append(" NOTIFY=").Append(recipient.Notify.HasFlag(DsnNotify.Never) ? "NEVER"
                : string.Join(',', new[] { (DsnNotify.Success, "SUCCESS"), (DsnNotify.Failure, "FAILURE"), (DsnNotify.Delay, "DELAY") }
                    .Where(f => recipient.Notify.HasFlag(f.Item1)).Select(f => f.Item2)));
        }
        if (recipient.Orcpt.Length > 0)
        {
            command.Append(" ORCPT=").Append(Encoding.UTF8.GetString(recipient.Orcpt));
        }
        return command.ToString();
    }

    /// <summary>The end of a message that went to the before-queue filter: its reply is the client's, and Postfix's log line.</summary>
    private async Task EndProxiedMessageAsync()
    {
        _mode = Mode.Command;
        bool bdat = _bdatStarted;
        string reply = await _proxy!.EndAsync(_hardStop);
        bool accepted = reply[0] == '2';
        string helo = _helo is null ? "" : $" helo=<{_helo}>";
        string to = _envelope.RecipientCount > 0 ? $" to=<{Printable.Text(_envelope[_envelope.Recipients[^1].Address])}>" : "";
        MailLog.Info($"proxy-{(accepted ? "accept" : "reject")}: END-OF-MESSAGE: {reply}; from=<{Printable.Text(_envelope[_envelope.Sender])}>{to} proto={LogProtocol}{helo}{WhatsupSasl}");
        Reply.Line(Encoding.UTF8.GetBytes(reply));
        if (accepted)
        {
            _stats.Succeeded(bdat ? SmtpVerb.Bdat : SmtpVerb.Data);
            _errors = 0;
            _junk = 0;
        }
        else
        {
            _errors++;
        }
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

    /// <summary>
    /// The TLS session as the HELO macros describe it, as Postfix's smtpd_milter.c does: the certificate's names only
    /// when it is trusted.
    /// </summary>
    private void SetTlsMacros()
    {
        if (_milters is null || _tls is null)
        {
            return;
        }
        (string cipher, int bits, _) = OpenSslCipherList.Describe(_tls.NegotiatedCipherSuite);
        _milters.Macros["{tls_version}"] = TlsDescription.Version(_tls);
        _milters.Macros["{cipher}"] = cipher;
        _milters.Macros["{cipher_bits}"] = bits.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (_clientCertificate is { Trusted: true } certificate)
        {
            _milters.Macros["{cert_subject}"] = certificate.SubjectCn;
            _milters.Macros["{cert_issuer}"] = certificate.IssuerCn;
        }
    }

    /// <summary>The MAIL macros of an authenticated client: the mechanism, the login, and the AUTH= sender.</summary>
    private void SetAuthMacros(MilterChain milters)
    {
        if (_saslUsername.Length > 0)
        {
            milters.Macros["{auth_type}"] = _saslMethod;
            milters.Macros["{auth_authen}"] = _saslUsername;
        }
        if (_saslSender is not null)
        {
            milters.Macros["{auth_author}"] = _saslSender;
        }
    }

    /// <summary>MAIL FROM's arguments as a filter gets them: "&lt;address&gt;", then each ESMTP parameter as the client wrote it.</summary>
    private static string[] MailArguments(ReadOnlySpan<byte> argument, Range address)
    {
        string rest = Encoding.UTF8.GetString(argument[address.End.Value..]).TrimStart('>');
        return [$"<{Encoding.UTF8.GetString(argument[address])}>", .. rest.Split(' ', StringSplitOptions.RemoveEmptyEntries)];
    }
}
