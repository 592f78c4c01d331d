using System.Diagnostics;
using System.Text;
using Edge.Smtp.Data;
using Edge.Smtp.Protocol;

namespace Edge.Load;

internal sealed partial class SinkSession
{
    private string? _helo;
    private bool _esmtp;
    private bool _mail;
    /// <summary>The sender as the client gave it, when something needs it as text (a policy, greylisting, --keep).</summary>
    private string? _sender;
    private int _recipients;
    /// <summary>The accepted recipients, when --keep or endOfData() needs them.</summary>
    private List<string>? _recipientList;
    private bool _bdat;
    private long _chunkLeft;
    private long _chunkSize;
    private bool _chunkLast;
    /// <summary>The BDAT transaction failed: its chunks are read and thrown away until its LAST.</summary>
    private bool _bdatFailed;
    /// <summary>The reply to the chunk being read when it is refused; its bytes are then thrown away.</summary>
    private byte[]? _chunkRefusal;
    private long _chunkStarted;
    private long _contentBytes;
    /// <summary>--disconnect chose this message: the connection is dropped when its content starts.</summary>
    private bool _drop;
    private bool _dropped;

    private bool NeedsSender => _options.KeepDirectory is not null || sink.Policy is not null || _options.Greylist is not null;

    private bool NeedsRecipients => _options.KeepDirectory is not null || sink.PolicySeesMessage;

    private async ValueTask<Next> CommandAsync(int length, bool truncated)
    {
        long started = Stopwatch.GetTimestamp();
        SmtpVerb verb = VerbParser.Parse(_line.AsSpan(0, length), out int argumentStart);
        int argument = Math.Min(argumentStart, length);
        if (_refusedAtGreeting && verb is not (SmtpVerb.Quit or SmtpVerb.Noop or SmtpVerb.Bdat))
        {
            Reply("503 5.7.1 Error: access denied (edge sink)"u8);
            return Next.Go;
        }
        if (truncated && verb is SmtpVerb.Data or SmtpVerb.Bdat or SmtpVerb.StartTls)
        {
            // What follows an over-long DATA, BDAT or STARTTLS line would be taken for content or a handshake: refused.
            Reply(verb switch { SmtpVerb.Data => Replies.DataSyntax, SmtpVerb.Bdat => Replies.BdatSyntax, _ => Replies.StartTlsSyntax });
            return verb == SmtpVerb.Bdat ? Next.Close : Next.Go;
        }
        switch (verb)
        {
            case SmtpVerb.Helo:
            case SmtpVerb.Ehlo:
                await HeloAsync(verb == SmtpVerb.Ehlo, argument, length, started);
                return Next.Go;
            case SmtpVerb.Mail:
                await MailAsync(argument, length, started);
                return Next.Go;
            case SmtpVerb.Rcpt:
                await RcptAsync(argument, length, started);
                return Next.Go;
            case SmtpVerb.Data:
                await DataCommandAsync(argument, length, started);
                return Next.Go;
            case SmtpVerb.Bdat:
                return await BdatAsync(argument, length, started);
            case SmtpVerb.StartTls:
                return StartTls(argument, length);
            case SmtpVerb.Rset:
                ResetTransaction();
                Reply(Replies.Ok);
                return Next.Go;
            case SmtpVerb.Noop:
                Reply(Replies.Ok);
                return Next.Go;
            case SmtpVerb.Quit:
                Reply(Replies.Bye);
                return Next.Close;
            case SmtpVerb.Vrfy:
                Reply(Replies.VrfyDisabled);
                return Next.Go;
            case SmtpVerb.Help:
                Reply(Replies.Help);
                return Next.Go;
            case SmtpVerb.Forbidden:
                Reply(Replies.Forbidden);
                return Next.Close;
            case SmtpVerb.Auth:
                Reply(Replies.AuthNotEnabled);
                return Next.Go;
            default:
                Reply(Replies.NotRecognized);
                return Next.Go;
        }
    }

    private async ValueTask HeloAsync(bool esmtp, int argument, int length, long started)
    {
        if (argument >= length)
        {
            Reply(esmtp ? Replies.EhloSyntax : Replies.HeloSyntax);
            return;
        }
        string helo = Encoding.UTF8.GetString(_line, argument, length - argument);
        ResetTransaction();
        if (await DecideAsync(SinkStage.Helo, "EHLO", null, helo) is { } refusal)
        {
            Reply(refusal);
        }
        else
        {
            _helo = helo;
            _esmtp = esmtp;
            Reply(!esmtp ? Encoding.ASCII.GetBytes($"250 {sink.Hostname}") : _tls is null ? sink.EhloBeforeTls : sink.EhloAfterTls);
        }
        _stats.Record(SinkStats.Helo, Stopwatch.GetElapsedTime(started));
    }

    private Next StartTls(int argument, int length)
    {
        if (!_options.Tls)
        {
            Reply(Replies.NotImplemented);
            return Next.Go;
        }
        if (_tls is not null)
        {
            Reply(Replies.TlsAlreadyActive);
            return Next.Go;
        }
        if (argument < length)
        {
            Reply(Replies.StartTlsSyntax);
            return Next.Go;
        }
        Reply(Replies.ReadyToStartTls);
        return Next.StartTls;
    }

    private async ValueTask MailAsync(int argument, int length, long started)
    {
        if (_mail)
        {
            Reply(Replies.NestedMail);
            return;
        }
        EnvelopeError error = EnvelopeParser.ParseMail(_line.AsSpan(argument, length - argument), strict: false, _options.SmtpUtf8, out MailArguments mail);
        if (error != EnvelopeError.None)
        {
            ReplyEnvelopeError(error, _line.AsSpan(argument, length - argument), mail.BadParameter);
            return;
        }
        if (sink.SizeLimit > 0 && mail.Size > sink.SizeLimit)
        {
            Reply(Replies.SizeExceedsLimit);
            return;
        }
        string? sender = NeedsSender ? Encoding.UTF8.GetString(_line.AsSpan(argument, length - argument)[mail.Address]) : null;
        if (await DecideAsync(SinkStage.Mail, "MAIL", null, sender) is { } refusal)
        {
            Reply(refusal);
        }
        else
        {
            _mail = true;
            _sender = sender;
            _recipientList = NeedsRecipients ? [] : null;
            if (_options.KeepDirectory is not null)
            {
                _mailArguments = Encoding.UTF8.GetString(_line, argument + 5, length - argument - 5).Trim();
            }
            Reply(Replies.MailOk);
        }
        _stats.Record(SinkStats.Mail, Stopwatch.GetElapsedTime(started));
    }

    private async ValueTask RcptAsync(int argument, int length, long started)
    {
        if (!_mail)
        {
            Reply(Replies.NeedMail);
            return;
        }
        if (_bdat)
        {
            Reply(Replies.RcptAfterBdat);
            return;
        }
        EnvelopeError error = EnvelopeParser.ParseRcpt(_line.AsSpan(argument, length - argument), strict: false, _options.SmtpUtf8, out RcptArguments rcpt);
        if (error != EnvelopeError.None)
        {
            ReplyEnvelopeError(error, _line.AsSpan(argument, length - argument), rcpt.BadParameter);
            return;
        }
        bool needsText = NeedsSender || NeedsRecipients || _options.RecipientRules.Count > 0;
        string? recipient = needsText ? Encoding.UTF8.GetString(_line.AsSpan(argument, length - argument)[rcpt.Address]) : null;
        // A --rcpt rule answers first, then greylisting; the policy and the fractions only recipients neither answered.
        string? answer = await DecideAsync(SinkStage.Rcpt, "RCPT", recipient, null, recipient is null ? null : RuleFor(recipient) ?? Greylisted(recipient));
        if (answer is null || answer[0] == '2')
        {
            _recipients++;
            _recipientList?.Add(recipient!);
            if (_options.KeepDirectory is not null)
            {
                (_recipientArguments ??= []).Add(Encoding.UTF8.GetString(_line, argument + 3, length - argument - 3).Trim());
            }
        }
        Reply(answer is null ? Replies.RcptOk : Encoding.UTF8.GetBytes(answer));
        _stats.Record(SinkStats.Rcpt, Stopwatch.GetElapsedTime(started));
    }

    private async ValueTask DataCommandAsync(int argument, int length, long started)
    {
        if (argument < length)
        {
            Reply(Replies.DataSyntax);
            return;
        }
        if (_bdat)
        {
            Reply(Replies.DataAfterBdat);
            return;
        }
        if (NotReadyForContent() is { } error)
        {
            Reply(error);
            return;
        }
        if (await DecideAsync(SinkStage.Data, "DATA", null, null) is { } refusal)
        {
            Reply(refusal);
        }
        else
        {
            BeginContent();
            _mode = Mode.Data;
            _scanner.StartData(BareNewlineMode.Normalize);
            Reply(Replies.StartData);
        }
        _stats.Record(SinkStats.Data, Stopwatch.GetElapsedTime(started));
    }

    /// <summary>Why the transaction cannot take content now (Postfix's replies), or null when it can.</summary>
    private byte[]? NotReadyForContent() =>
        _recipients > 0 ? null
        : _mail ? Replies.NoValidRecipients.ToArray()
        : Replies.NeedRcpt.ToArray();

    /// <summary>BDAT size [LAST]: the chunk is read whatever the answer, as RFC 3030 requires (never as commands), then answered.</summary>
    private async ValueTask<Next> BdatAsync(int argument, int length, long started)
    {
        if (!BdatCommand.TryParse(_line.AsSpan(argument, length - argument), out long size, out bool last))
        {
            // The chunk's length is unknown: nothing that follows can be read as commands.
            Reply(Replies.BdatSyntax);
            return Next.Close;
        }
        _chunkLeft = size;
        _chunkSize = size;
        _chunkLast = last;
        _chunkStarted = started;
        _mode = Mode.Bdat;
        _chunkRefusal = null;
        if (_refusedAtGreeting)
        {
            // Refused at connect: the chunk is read and thrown away like any refused one, never taken as commands.
            _chunkRefusal = "503 5.7.1 Error: access denied (edge sink)"u8.ToArray();
        }
        else if (!_options.Chunking)
        {
            // Not offered, but a client that sends it anyway has its chunk thrown away, not read as commands.
            _chunkRefusal = Replies.NotRecognized.ToArray();
        }
        else if (_bdatFailed)
        {
            _chunkRefusal = Encoding.ASCII.GetBytes($"551 5.0.0 Discarded {size} bytes after earlier error");
        }
        else if (!_bdat && NotReadyForContent() is { } error)
        {
            _chunkRefusal = error;
        }
        else if (size == 0 && !last)
        {
            _chunkRefusal = Replies.NullBdat.ToArray();
        }
        else if (!_bdat)
        {
            if (await DecideAsync(SinkStage.Data, "DATA", null, null) is { } refusal)
            {
                _bdatFailed = true;
                _chunkRefusal = Encoding.UTF8.GetBytes(refusal);
            }
            else
            {
                BeginContent();
            }
            _bdat = true;
            _stats.Record(SinkStats.Data, Stopwatch.GetElapsedTime(started));
        }
        return Next.Go;
    }

    private void ReplyEnvelopeError(EnvelopeError error, ReadOnlySpan<byte> argument, Range badParameter)
    {
        if (error == EnvelopeError.Unsupported)
        {
            Reply([.. Replies.UnsupportedOption, .. argument[badParameter]]);
            return;
        }
        Reply(Replies.ForEnvelopeError(error));
    }

    private void ResetTransaction()
    {
        _mail = false;
        _sender = null;
        _recipients = 0;
        _recipientList = null;
        _recipientArguments = null;
        _mailArguments = null;
        _bdat = false;
        _bdatFailed = false;
        _contentBytes = 0;
        _drop = false;
        DiscardKept();
    }
}
