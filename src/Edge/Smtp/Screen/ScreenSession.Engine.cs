using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Edge.Logging;
using Edge.Smtp.Protocol;

namespace Edge.Smtp.Screen;

/// <summary>
/// postscreen's own SMTP engine (Postfix's postscreen_smtpd.c): it talks to clients that a test caught with action
/// enforce, and to new clients while the deep protocol tests (pipelining, non-SMTP command, bare newline) watch them.
/// It accepts no mail: every RCPT gets the 450 "try again" (or the 550 of an enforced test), and a client that passed
/// must connect again to reach smtpd.
/// </summary>
internal sealed partial class ScreenSession
{
    private static readonly string[] EngineCommands =
        ["HELO", "EHLO", "MAIL", "RCPT", "DATA", "BDAT", "RSET", "NOOP", "VRFY", "ETRN", "QUIT", "STARTTLS", "XCLIENT", "XFORWARD", "AUTH"];

    private string _where = "CONNECT";
    private string? _helo;
    private string? _sender;
    private bool _esmtp;
    private readonly bool[] _deepTested = new bool[ScreenCache.Tests];
    private string? _finalReply;

    private async Task EngineAsync()
    {
        _noForward = true;
        _start = Environment.TickCount64;
        if (Failed)
        {
            // A client caught once is watched by every deep test in this session.
            for (int i = (int)ScreenTest.Pipelining; i < ScreenCache.Tests; i++)
            {
                _todo[i] = true;
            }
        }
        if (!_pregreeted)
        {
            await _transport.Output.WriteAsync(_s.Greeting, _hardStop);
        }
        int commands = 0;
        while (true)
        {
            (string? line, bool bareNewline, bool pipelined, string pending) = await ReadCommandAsync();
            if (line is null)
            {
                return;
            }
            string command = line.TrimStart(' ');
            int space = command.IndexOf(' ');
            string word = space < 0 ? command : command[..space];
            string verb = word.ToUpperInvariant();
            string argument = space < 0 ? "" : command[(space + 1)..].Trim();
            bool known = Array.IndexOf(EngineCommands, verb) >= 0;
            if (bareNewline && await DeepFailAsync(ScreenTest.BareNewline, $"BARE NEWLINE from {ClientAddrPort} after {Escaped(line)}", _s.BareNewlineAction))
            {
                return;
            }
            if (!known && command.Length > 0 && VerbParser.IsForbidden(Encoding.UTF8.GetBytes(command))
                && await DeepFailAsync(ScreenTest.NonSmtp,
                    $"NON-SMTP COMMAND from {ClientAddrPort} after {_where}: {Escaped(word)} {Escaped(argument)}", _s.NonSmtpAction))
            {
                return;
            }
            if (pipelined && verb != "BDAT"
                && await DeepFailAsync(ScreenTest.Pipelining, $"COMMAND PIPELINING from {ClientAddrPort} after {Escaped(word)}: {pending}", _s.PipeliningAction))
            {
                return;
            }
            if (verb == "RCPT")
            {
                PassDeepTests();
            }
            if (++commands > _s.CommandCountLimit && verb != "QUIT")
            {
                Log($"COMMAND COUNT LIMIT from {ClientAddrPort} after {_where}");
                await WriteReplyAsync($"421 {_s.MyHostname} Service unavailable - try again later");
                return;
            }
            _where = known ? verb : "UNIMPLEMENTED";
            if (!await ExecuteAsync(verb, argument))
            {
                return;
            }
        }
    }

    /// <summary>At most 100 bytes of what a client sent, as Postfix's logs escape it.</summary>
    private static string Escaped(string text) => Printable.Escape(Encoding.UTF8.GetBytes(text).AsSpan(0, Math.Min(100, Encoding.UTF8.GetByteCount(text))));

    /// <summary>
    /// One command line, or null when the client hung up, took too long, sent too long a line or the server is
    /// stopping (each said and logged).
    /// </summary>
    private async Task<(string? Line, bool BareNewline, bool Pipelined, string Pending)> ReadCommandAsync()
    {
        PipeReader input = _transport.Input;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(_hardStop, _stopping);
        deadline.CancelAfter(_s.CommandTimeLimit);
        try
        {
            while (true)
            {
                ReadResult result = await input.ReadAsync(deadline.Token);
                ReadOnlySequence<byte> buffer = result.Buffer;
                if (buffer.PositionOf((byte)'\n') is { } newline && buffer.Slice(0, newline).Length < _s.LineLengthLimit)
                {
                    ReadOnlySequence<byte> lineBytes = buffer.Slice(0, newline);
                    bool bare = lineBytes.IsEmpty || lineBytes.Slice(lineBytes.Length - 1).FirstSpan[0] != (byte)'\r';
                    string line = Encoding.UTF8.GetString(bare ? lineBytes : lineBytes.Slice(0, lineBytes.Length - 1));
                    ReadOnlySequence<byte> rest = buffer.Slice(buffer.GetPosition(1, newline));
                    string pending = rest.IsEmpty ? "" : Printable.Escape(rest);
                    input.AdvanceTo(rest.Start);
                    return (line, bare, !rest.IsEmpty, pending);
                }
                if (buffer.Length >= _s.LineLengthLimit)
                {
                    input.AdvanceTo(buffer.End);
                    Log($"COMMAND LENGTH LIMIT from {ClientAddrPort} after {_where}");
                    await WriteReplyAsync($"421 {_s.MyHostname} Service unavailable - try again later");
                    return (null, false, false, "");
                }
                input.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted)
                {
                    Log($"HANGUP after {Elapsed()} from {ClientAddrPort} in tests after SMTP handshake");
                    return (null, false, false, "");
                }
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested && !_hardStop.IsCancellationRequested)
        {
            await WriteReplyAsync($"421 4.3.2 {_s.MyHostname} Service shutting down");
            return (null, false, false, "");
        }
        catch (OperationCanceledException) when (!_hardStop.IsCancellationRequested)
        {
            Log($"COMMAND TIME LIMIT from {ClientAddrPort} after {_where}");
            await WriteReplyAsync($"421 4.4.2 {_s.MyHostname} Error: timeout exceeded");
            return (null, false, false, "");
        }
    }

    /// <summary>
    /// A deep test saw the client break the rules (each test is judged once a session): true when it was dropped. With
    /// action ignore the test counts as passed, for the shortest lifetime a pass has.
    /// </summary>
    private async ValueTask<bool> DeepFailAsync(ScreenTest test, string log, ScreenAction action)
    {
        int i = (int)test;
        if (!_todo[i] || _deepTested[i])
        {
            return false;
        }
        _deepTested[i] = true;
        Log(log);
        switch (action)
        {
            case ScreenAction.Drop:
                _fails[i] = true;
                _passed[i] = false;
                await WriteReplyAsync(test == ScreenTest.NonSmtp ? "521 5.7.0 Error: I can break rules, too. Goodbye." : "521 5.5.1 Protocol error");
                return true;
            case ScreenAction.Enforce:
                _fails[i] = true;
                _passed[i] = false;
                _expiry[i] = 1;
                _rcptReply = "550 5.5.1 Protocol error";
                return false;
            default:
                Pass(test, Now + (long)_s.MinTtl.TotalSeconds);
                return false;
        }
    }

    /// <summary>A client that got as far as RCPT has passed the deep tests it did not fail, unless it fails one later.</summary>
    private void PassDeepTests()
    {
        long now = Now;
        TimeSpan[] ttl = [TimeSpan.Zero, TimeSpan.Zero, _s.PipeliningTtl, _s.NonSmtpTtl, _s.BareNewlineTtl];
        for (int i = (int)ScreenTest.Pipelining; i < ScreenCache.Tests; i++)
        {
            if (_todo[i] && !_passed[i] && !_deepTested[i])
            {
                Pass((ScreenTest)i, now + (long)ttl[i].TotalSeconds);
            }
        }
    }

    /// <summary>Answers one command; false when the session is over.</summary>
    private async ValueTask<bool> ExecuteAsync(string verb, string argument)
    {
        if (_s.EnforceTls && _tls is null && Array.IndexOf(EngineCommands, verb) >= 0 && !AllowedBeforeTls(verb) && !Disabled(verb))
        {
            await WriteReplyAsync("530 5.7.0 Must issue a STARTTLS command first");
            return true;
        }
        switch (verb)
        {
            case "HELO" or "EHLO" when argument.Length == 0:
                await WriteReplyAsync($"501 Syntax: {verb} hostname");
                return true;
            // As Postfix: the name is the argument's first word, and HELO after EHLO does not make the session SMTP again.
            case "HELO":
                (_helo, _sender) = (argument.Split(' ')[0], null);
                await WriteReplyAsync($"250 {_s.MyHostname}");
                return true;
            case "EHLO":
                (_helo, _sender, _esmtp) = (argument.Split(' ')[0], null, true);
                await _transport.Output.WriteAsync(_tls is null ? _s.EhloKeywords : _s.EhloKeywordsTls, _hardStop);
                return true;
            case "MAIL":
                string? refusal = _s.HeloRequired && _helo is null ? "503 5.5.1 Error: send HELO/EHLO first"
                    : _sender is not null ? "503 5.5.1 Error: nested MAIL command"
                    : !argument.Contains(':') ? "501 5.5.4 Syntax: MAIL FROM:<address>"
                    : null;
                if (refusal is null)
                {
                    _sender = AddressOf(argument);
                }
                await WriteReplyAsync(refusal ?? "250 2.1.0 Ok");
                return true;
            case "RCPT":
                if (_sender is null || !argument.Contains(':'))
                {
                    await WriteReplyAsync(_sender is null ? "503 5.5.1 Error: need MAIL command" : "501 5.5.4 Syntax: RCPT TO:<address>");
                    return true;
                }
                Log($"NOQUEUE: reject: RCPT from {ClientAddrPort}: {SoftBounced(_rcptReply)}; from=<{_sender}>, to=<{AddressOf(argument)}>, " +
                    $"proto={(_esmtp ? "ESMTP" : "SMTP")}, helo=<{_helo}>");
                await WriteReplyAsync(_rcptReply);
                return true;
            case "DATA" or "BDAT":
                Log($"{verb} without valid RCPT from {ClientAddrPort}");
                await WriteReplyAsync(verb == "DATA" && argument.Length > 0 ? "501 5.5.4 Syntax: DATA"
                    : verb == "BDAT" && !_s.Chunking ? "502 5.5.1 Error: command not implemented"
                    : verb == "BDAT" && argument.Length == 0 ? "501 5.5.4 Syntax: BDAT count [LAST]"
                    : _sender is null ? (verb == "DATA" ? "503 5.5.1 Error: need RCPT command" : "554 5.5.1 Error: need MAIL command")
                    : "554 5.5.1 Error: no valid recipients");
                return false;
            case "RSET":
                _sender = null;
                await WriteReplyAsync("250 2.0.0 Ok");
                return true;
            case "NOOP":
                await WriteReplyAsync("250 2.0.0 Ok");
                return true;
            case "VRFY":
                await WriteReplyAsync(argument.Length == 0 ? "501 5.5.4 Syntax: VRFY address"
                    : _s.DisableVrfy ? "502 5.5.1 VRFY command is disabled" : _rcptReply);
                return true;
            case "ETRN":
                await WriteReplyAsync(_s.HeloRequired && _helo is null ? "503 5.5.1 Error: send HELO/EHLO first"
                    : argument.Length == 0 ? "500 Syntax: ETRN domain" : "458 Unable to queue messages");
                return true;
            case "QUIT":
                // Said once the client's passes are stored, so that it finds them when it connects again at once.
                _finalReply = "221 2.0.0 Bye";
                return false;
            case "STARTTLS":
                await StartTlsAsync(argument);
                return true;
            default:
                await WriteReplyAsync("502 5.5.2 Error: command not recognized");
                return true;
        }
    }

    /// <summary>The address of "FROM:&lt;a@b&gt; SIZE=1" or "TO: a@b": what the NOQUEUE line names.</summary>
    private static string AddressOf(string argument)
    {
        string value = argument[(argument.IndexOf(':') + 1)..].TrimStart();
        if (value.StartsWith('<'))
        {
            int end = value.IndexOf('>');
            return end < 0 ? value[1..] : value[1..end];
        }
        int space = value.IndexOf(' ');
        return space < 0 ? value : value[..space];
    }
}
