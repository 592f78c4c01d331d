using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Edge.Logging;
using Edge.Net;

namespace Edge.Milter;

/// <summary>
/// One mail filter for one SMTP session (or one message Edge writes itself), as Postfix's milter8.c talks to it: the
/// negotiation, then one event per stage, each answered by a decision. An answer is null (go on), a reply
/// ("550 5.7.1 …", "451 …"), "D" (discard the message), "H…" (quarantine: hold it) or "S" (shut the session down).
/// A filter that cannot be reached, times out or breaks the protocol is dropped, and from then on answers with
/// what its default_action says; a decision that rejects the connection sticks the same way.
/// </summary>
internal sealed partial class MilterClient(MilterDefinition definition, MilterSettings settings) : IAsyncDisposable
{
    private enum State : byte
    {
        Closed,
        Ready,
        Envelope,
        Message,
        AcceptConnection,
        RejectConnection,
        AcceptMessage,
        Error,
    }

    private Stream? _stream;
    private State _state = State.Closed;
    private string? _defaultReply;
    private uint _events;
    private uint _notInProtocol;
    private byte _skipEvent;
    private readonly string[]?[] _macroLists = new string[MilterProtocol.StageUnknown][];
    private readonly ArrayBufferWriter<byte> _packet = new(256);
    private readonly ArrayBufferWriter<byte> _macroPacket = new(256);
    private readonly ArrayBufferWriter<byte> _outgoing = new(1024);
    private byte[] _input = new byte[256];
    private TimeSpan _timeout = definition.CommandTimeout;

    /// <summary>Connects and negotiates; a filter that fails is dropped and answers with its default action.</summary>
    public async Task OpenAsync(CancellationToken cancellationToken)
    {
        Stream stream;
        try
        {
            using var connecting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            connecting.CancelAfter(definition.ConnectTimeout);
            stream = await ServiceEndpoint.ConnectAsync(definition.Endpoint, connecting.Token);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            string why = e is OperationCanceledException ? "Connection timed out" : e.Message;
            MailLog.Warning($"connect to Milter service {definition.Name}: {why}");
            Drop();
            return;
        }
        await OpenAsync(stream, cancellationToken);
    }

    /// <summary>Negotiates over a connection already made (the fuzz harness's is in memory).</summary>
    public Task OpenAsync(Stream stream, CancellationToken cancellationToken)
    {
        _stream = stream;
        return NegotiateAsync(cancellationToken);
    }

    private async Task NegotiateAsync(CancellationToken cancellationToken)
    {
        _packet.Clear();
        Span<byte> words = stackalloc byte[12];
        BinaryPrimitives.WriteUInt32BigEndian(words, (uint)definition.Version);
        BinaryPrimitives.WriteUInt32BigEndian(words[4..], MilterProtocol.Actions);
        BinaryPrimitives.WriteUInt32BigEndian(words[8..], definition.Events);
        _packet.Write(words);
        if (!await WriteAsync(MilterProtocol.Negotiate, cancellationToken) || await ReadAsync(cancellationToken) is not { } reply)
        {
            return;
        }
        (byte command, ReadOnlyMemory<byte> data) = reply;
        if (command != MilterProtocol.Negotiate || data.Length < 12)
        {
            MailLog.Warning($"milter {definition.Name}: unexpected reply \"{(char)command}\" in initial handshake");
            Drop();
            return;
        }
        uint version = BinaryPrimitives.ReadUInt32BigEndian(data.Span);
        uint actions = BinaryPrimitives.ReadUInt32BigEndian(data.Span[4..]);
        _events = BinaryPrimitives.ReadUInt32BigEndian(data.Span[8..]);
        if (version > definition.Version)
        {
            MailLog.Warning($"milter {definition.Name}: protocol version {version} conflict with MTA protocol version {definition.Version}");
            Drop();
            return;
        }
        if ((actions & MilterProtocol.Actions) != actions)
        {
            MailLog.Warning($"milter {definition.Name}: request mask 0x{actions.ToString("x")} conflict with MTA request mask 0x{MilterProtocol.Actions.ToString("x")}");
            Drop();
            return;
        }
        // Events the filter's (older) protocol version does not have are never sent to it.
        uint known = version >= 6 ? MilterProtocol.Version6Events : version >= 4 ? MilterProtocol.Version4Events
            : version == 3 ? MilterProtocol.Version3Events : MilterProtocol.Version2Events;
        _notInProtocol = MilterProtocol.NoSendMask & ~(definition.Events & known);
        ReadMacroLists(data.Span[12..]);
        _state = State.Ready;
        _defaultReply = null;
        _skipEvent = 0;
    }

    /// <summary>A filter's own macro lists for some stages, after the negotiation's fixed words.</summary>
    private void ReadMacroLists(ReadOnlySpan<byte> data)
    {
        while (data.Length >= 4)
        {
            uint stage = BinaryPrimitives.ReadUInt32BigEndian(data);
            data = data[4..];
            int end = data.IndexOf((byte)0);
            string names = Encoding.UTF8.GetString(end < 0 ? data : data[..end]);
            data = end < 0 ? default : data[(end + 1)..];
            if (stage < _macroLists.Length)
            {
                _macroLists[stage] = names.Split([' ', ','], StringSplitOptions.RemoveEmptyEntries);
            }
        }
    }

    public Task<string?> ConnectAsync(string name, string address, int port, IReadOnlyDictionary<string, string> macros, CancellationToken cancellationToken)
    {
        if (_state != State.Ready)
        {
            return Task.FromResult(_defaultReply);
        }
        _state = State.Envelope;
        // Sendmail's form of an unknown name: the address in brackets.
        string sendmailName = name != "unknown" || address == "unknown" ? name : $"[{address}]";
        _packet.Clear();
        Cstring(sendmailName);
        bool ip = IPAddress.TryParse(address, out IPAddress? parsed);
        _packet.Write([ip ? parsed!.AddressFamily == AddressFamily.InterNetworkV6 ? MilterProtocol.FamilyInet6 : MilterProtocol.FamilyInet : MilterProtocol.FamilyUnknown]);
        if (ip)
        {
            Span<byte> portBytes = stackalloc byte[2];
            BinaryPrimitives.WriteUInt16BigEndian(portBytes, (ushort)port);
            _packet.Write(portBytes);
            Cstring(address);
        }
        return EventAsync(MilterProtocol.Connect, MilterProtocol.NoConnect, (_events & MilterProtocol.NoReplyConnect) != 0,
            MilterProtocol.StageConnect, macros, cancellationToken);
    }

    public Task<string?> HeloAsync(string helo, IReadOnlyDictionary<string, string> macros, CancellationToken cancellationToken)
    {
        if (_state is not (State.Envelope or State.AcceptMessage))
        {
            return Task.FromResult(_defaultReply);
        }
        _packet.Clear();
        Cstring(helo);
        return EventAsync(MilterProtocol.Helo, MilterProtocol.NoHelo, (_events & MilterProtocol.NoReplyHelo) != 0,
            MilterProtocol.StageHelo, macros, cancellationToken);
    }

    /// <summary>MAIL FROM with its arguments: "&lt;address&gt;" then each ESMTP parameter.</summary>
    public Task<string?> MailAsync(IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string> macros, CancellationToken cancellationToken) =>
        Envelope(MilterProtocol.Mail, MilterProtocol.NoMail, MilterProtocol.NoReplyMail, MilterProtocol.StageMail, arguments, macros, cancellationToken, acceptedMessage: true);

    public Task<string?> RcptAsync(IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string> macros, CancellationToken cancellationToken) =>
        Envelope(MilterProtocol.Rcpt, MilterProtocol.NoRcpt, MilterProtocol.NoReplyRcpt, MilterProtocol.StageRcpt, arguments, macros, cancellationToken, acceptedMessage: false);

    /// <summary>Whether the filter asked to see recipients the MTA refused (SMFIP_RCPT_REJ).</summary>
    public bool WantsRejectedRecipients => _state != State.Closed && (_events & MilterProtocol.RcptRejected) != 0;

    /// <summary>A command the server does not know, as the client sent it (SMFIC_UNKNOWN), while the filter follows the session.</summary>
    public Task<string?> UnknownAsync(string command, IReadOnlyDictionary<string, string> macros, CancellationToken cancellationToken)
    {
        if (_state != State.Envelope)
        {
            return Task.FromResult(_defaultReply);
        }
        _packet.Clear();
        Cstring(command);
        return EventAsync(MilterProtocol.Unknown, MilterProtocol.NoUnknown, (_events & MilterProtocol.NoReplyUnknown) != 0,
            MilterProtocol.StageUnknown, macros, cancellationToken);
    }

    public Task<string?> DataAsync(IReadOnlyDictionary<string, string> macros, CancellationToken cancellationToken)
    {
        if (_state != State.Envelope)
        {
            return Task.FromResult(_defaultReply);
        }
        _packet.Clear();
        return EventAsync(MilterProtocol.Data, MilterProtocol.NoData, (_events & MilterProtocol.NoReplyData) != 0,
            MilterProtocol.StageData, macros, cancellationToken);
    }

    private Task<string?> Envelope(byte command, uint skipFlag, uint noReply, int stage, IReadOnlyList<string> arguments,
        IReadOnlyDictionary<string, string> macros, CancellationToken cancellationToken, bool acceptedMessage)
    {
        // A filter that accepted the message gets no more of its envelope; a new MAIL FROM starts over (after the abort).
        if (_state != State.Envelope && !(acceptedMessage && _state == State.AcceptMessage))
        {
            return Task.FromResult(_defaultReply);
        }
        _packet.Clear();
        foreach (string argument in arguments)
        {
            Cstring(argument);
        }
        return EventAsync(command, skipFlag, (_events & noReply) != 0, stage, macros, cancellationToken);
    }

    /// <summary>The transaction ends without a message (RSET, a refused message, the next MAIL FROM): the filter starts over.</summary>
    public async Task AbortAsync(CancellationToken cancellationToken)
    {
        if (_stream is null || _state is not (State.Envelope or State.Message or State.AcceptMessage))
        {
            return;
        }
        _packet.Clear();
        await WriteAsync(MilterProtocol.Abort, cancellationToken);
        if (_state != State.Error)
        {
            _state = State.Envelope;
        }
    }

    /// <summary>The session ends: QUIT, and the connection is closed.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stream is not null && _state is not (State.Error or State.Closed or State.Ready))
        {
            _packet.Clear();
            await WriteAsync(MilterProtocol.Quit, CancellationToken.None);
        }
        Close();
    }

    /// <summary>
    /// Sends one event with the stage's macros and reads the filter's decision (Postfix's milter8_event). At the end of
    /// the body, modification requests come first; they go to <paramref name="edits"/>.
    /// </summary>
    private async Task<string?> EventAsync(byte command, uint skipFlag, bool skipReply, int stage,
        IReadOnlyDictionary<string, string>? macros, CancellationToken cancellationToken, MilterEdits? edits = null)
    {
        if (_stream is null || _defaultReply is not null || (skipFlag & _notInProtocol) != 0)
        {
            return _defaultReply;
        }
        if (_skipEvent != 0)
        {
            if (command == _skipEvent)
            {
                return _defaultReply;
            }
            _skipEvent = 0;
        }
        // The macros go even when the filter declined the event itself, as Postfix sends them; macros and event in one write.
        if (macros is not null)
        {
            Frame(MilterProtocol.Macro, Macros(command, stage, macros));
        }
        if ((skipFlag & _events) != 0)
        {
            await SendAsync(command, cancellationToken);
            return _defaultReply;
        }
        Frame(command, _packet.WrittenSpan);
        if (!await SendAsync(command, cancellationToken) || skipReply)
        {
            return _defaultReply;
        }
        bool connectStage = command is MilterProtocol.Connect or MilterProtocol.Helo;
        while (true)
        {
            if (await ReadAsync(cancellationToken) is not { } reply)
            {
                return _defaultReply;
            }
            (byte answer, ReadOnlyMemory<byte> data) = reply;
            switch (answer)
            {
                case MilterProtocol.Progress when data.IsEmpty:
                    continue;
                case MilterProtocol.Continue when data.IsEmpty:
                    return _defaultReply;
                case MilterProtocol.Accept when data.IsEmpty:
                    _state = connectStage ? State.AcceptConnection : State.AcceptMessage;
                    return _defaultReply;
                case MilterProtocol.Discard when data.IsEmpty:
                    if (connectStage)
                    {
                        MailLog.Warning($"milter {definition.Name}: DISCARD action is not allowed for connect or helo");
                        return _defaultReply;
                    }
                    _state = State.AcceptMessage;
                    return "D";
                case MilterProtocol.Reject when data.IsEmpty:
                    return Final(connectStage, "550 5.7.1 Command rejected");
                case MilterProtocol.Tempfail when data.IsEmpty:
                    return Final(connectStage, "451 4.7.1 Service unavailable - try again later");
                case MilterProtocol.Shutdown when data.IsEmpty:
                    _state = State.RejectConnection;
                    return _defaultReply = "S";
                case MilterProtocol.ReplyCode:
                    string text = Encoding.UTF8.GetString(data.Span.TrimEnd((byte)0));
                    if (!IsValidReply(text))
                    {
                        MailLog.Warning($"milter {definition.Name}: malformed reply: {text}");
                        Drop(configurationProblem: true);
                        return _defaultReply;
                    }
                    return Final(connectStage, Percents(text));
                case MilterProtocol.Quarantine:
                    string reason = Encoding.UTF8.GetString(data.Span.TrimEnd((byte)0));
                    _defaultReply = "H" + (reason.Length > 100 ? reason[..100] : reason);
                    continue;
                case MilterProtocol.Skip when data.IsEmpty:
                    _skipEvent = command;
                    return _defaultReply;
                default:
                    if (command == MilterProtocol.EndOfBody && edits is not null && Edit(answer, data.Span, edits))
                    {
                        continue;
                    }
                    MailLog.Warning($"milter {definition.Name}: unexpected filter response '{(char)answer}' ({data.Length} data bytes) after event '{(char)command}'");
                    Drop();
                    return _defaultReply;
            }
        }
    }

    /// <summary>A decision that rejects: at connect or HELO it rejects the whole connection, so it sticks.</summary>
    private string Final(bool connectStage, string reply)
    {
        if (connectStage)
        {
            _state = State.RejectConnection;
            _defaultReply = reply;
        }
        return reply;
    }

    /// <summary>Sendmail uses the reply as a format string: "%%" is a percent sign, a lone one is dropped.</summary>
    private static string Percents(string text)
    {
        if (!text.Contains('%'))
        {
            return text;
        }
        var result = new StringBuilder(text.Length);
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] != '%')
            {
                result.Append(text[i]);
            }
            else if (i + 1 < text.Length)
            {
                result.Append(text[++i]);
            }
        }
        return result.ToString();
    }

    /// <summary>Postfix's milter8_valid_smtp_reply(): each line "4xx" or "5xx", '-' between lines and ' ' on the last, CRLF between.</summary>
    private static bool IsValidReply(string text)
    {
        string[] lines = text.Split("\r\n");
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i];
            bool last = i == lines.Length - 1;
            if (line.Length < 4 || line[0] is not ('4' or '5') || !char.IsAsciiDigit(line[1]) || !char.IsAsciiDigit(line[2])
                || line[3] != (last ? ' ' : '-') || line.Contains('\n') || line.Contains('\r')
                || (line.Length > 4 && char.IsAsciiDigit(line[4]) && line[4] != line[0]))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>The macro packet for an event: its command, then the names the stage's list has values for, with the values.</summary>
    private ReadOnlySpan<byte> Macros(byte command, int stage, IReadOnlyDictionary<string, string> macros)
    {
        string[] names = (stage < _macroLists.Length ? _macroLists[stage] : null) ?? settings.Macros[stage];
        _macroPacket.Clear();
        _macroPacket.Write([command]);
        foreach (string name in names)
        {
            if (macros.TryGetValue(name, out string? value))
            {
                Cstring(_macroPacket, name);
                Cstring(_macroPacket, value);
            }
        }
        return _macroPacket.WrittenSpan;
    }

    private void Cstring(string text) => Cstring(_packet, text);

    private static void Cstring(ArrayBufferWriter<byte> packet, string text)
    {
        int length = Encoding.UTF8.GetByteCount(text);
        Span<byte> span = packet.GetSpan(length + 1);
        Encoding.UTF8.GetBytes(text, span);
        span[length] = 0;
        packet.Advance(length + 1);
    }

    /// <summary>Adds one packet (length, command, data) to what goes out with the next <see cref="SendAsync"/>.</summary>
    private void Frame(byte command, ReadOnlySpan<byte> data)
    {
        Span<byte> frame = _outgoing.GetSpan(data.Length + 5);
        BinaryPrimitives.WriteUInt32BigEndian(frame, (uint)data.Length + 1);
        frame[4] = command;
        data.CopyTo(frame[5..]);
        _outgoing.Advance(data.Length + 5);
    }

    /// <summary>Sends the packet built in <see cref="_packet"/> as <paramref name="command"/>; false (and the filter dropped) on failure.</summary>
    private Task<bool> WriteAsync(byte command, CancellationToken cancellationToken)
    {
        Frame(command, _packet.WrittenSpan);
        return SendAsync(command, cancellationToken);
    }

    /// <summary>Writes the packets framed so far in one go; false (and the filter dropped) on failure.</summary>
    private async Task<bool> SendAsync(byte command, CancellationToken cancellationToken)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_timeout);
            await _stream!.WriteAsync(_outgoing.WrittenMemory, timeout.Token);
            return true;
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException
                                  || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            MailLog.Warning($"milter {definition.Name}: error writing command '{(char)command}' to filter: {(e is OperationCanceledException ? "timeout" : e.Message)}");
            Drop();
            return false;
        }
        finally
        {
            _outgoing.ResetWrittenCount();
        }
    }

    /// <summary>Reads one packet; null (and the filter dropped) on a failure, a timeout or a bad length.</summary>
    private async Task<(byte Command, ReadOnlyMemory<byte> Data)?> ReadAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_timeout);
            await _stream!.ReadExactlyAsync(_input.AsMemory(0, 4), timeout.Token);
            uint length = BinaryPrimitives.ReadUInt32BigEndian(_input);
            if (length < 1 || length > MilterProtocol.MaxPacket)
            {
                MailLog.Warning($"milter {definition.Name}: bad packet length: {length}");
                Drop();
                return null;
            }
            if (_input.Length < length)
            {
                _input = new byte[Math.Max(length, _input.Length * 2)];
            }
            await _stream.ReadExactlyAsync(_input.AsMemory(0, (int)length), timeout.Token);
            return (_input[0], _input.AsMemory(1, (int)length - 1));
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or EndOfStreamException
                                  || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            MailLog.Warning($"milter {definition.Name}: can't read reply packet header: {(e is OperationCanceledException ? "timeout" : e is EndOfStreamException ? "connection closed" : e.Message)}");
            Drop();
            return null;
        }
    }

    /// <summary>
    /// Postfix's milter8_comm_error() and milter8_conf_error(): the filter is dropped, and from now on answers with what
    /// its default action says (a configuration problem, such as a malformed reply, with its own texts).
    /// </summary>
    private void Drop(bool configurationProblem = false)
    {
        Close();
        _state = State.Error;
        _defaultReply = (definition.DefaultAction, configurationProblem) switch
        {
            (MilterDefaultAction.Accept, _) => null,
            (MilterDefaultAction.Quarantine, _) => "Hdefault_action",
            (MilterDefaultAction.Shutdown, true) => "421 4.3.5 Server configuration problem - try again later",
            (_, true) => "451 4.3.5 Server configuration problem - try again later",
            (MilterDefaultAction.Reject, _) => "550 5.5.0 Service unavailable",
            (MilterDefaultAction.Shutdown, _) => "421 4.7.1 Service unavailable - try again later",
            _ => "451 4.7.1 Service unavailable - try again later",
        };
    }

    private void Close()
    {
        _stream?.Dispose();
        _stream = null;
    }
}
