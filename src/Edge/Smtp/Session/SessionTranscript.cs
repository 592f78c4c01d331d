using System.Buffers;
using System.Text;
using Edge.Smtp.Protocol;

namespace Edge.Smtp.Session;

/// <summary>The classes of SMTP server errors notify_classes can name (Postfix's MAIL_ERROR_*).</summary>
[Flags]
internal enum ErrorClasses : byte
{
    None = 0,
    Policy = 1,
    Protocol = 2,
    Resource = 4,
    Software = 8,
}

/// <summary>
/// Postfix's smtpd conversation history (smtpd_chat.c), for notify_classes: each command ("In:  ") and each reply
/// ("Out: ") as it goes by, in a pooled buffer, and the classes of the errors the replies reported, read from their
/// enhanced status codes (X.5.X protocol, X.3.5 software, other X.3.X resource, the rest policy). It sits in front of
/// the connection's writer, so every reply is seen whatever pieces it is written in. Past
/// smtpd_history_flush_threshold lines, the history is cut at EHLO, RSET and the end of a message, as in Postfix,
/// keeping a notice for what it held when it had errors worth one.
/// </summary>
internal sealed class SessionTranscript(ErrorClasses notify, int threshold) : ReplyWatcher
{
    /// <summary>
    /// A history never holds more than this (the rest of a very long conversation is not kept), and starts at a small
    /// buffer: thousands of idle connections each hold only their greeting and EHLO.
    /// </summary>
    private const int MaxBytes = 32 * 1024;
    private const int FirstBytes = 1024;

    private byte[]? _buffer;
    private int _length;
    private int _lines;
    private bool _replyLineStart = true;
    private int _column;
    private readonly byte[] _code = new byte[12];
    private ErrorClasses _errors;
    private List<string>? _earlier;

    protected override void Watch(Span<byte> written)
    {
        foreach (byte b in written)
        {
            if (_replyLineStart)
            {
                Append("Out: "u8);
                _replyLineStart = false;
                _column = 0;
            }
            if (b == '\n')
            {
                _errors |= Classify(_code.AsSpan(0, Math.Min(_column, _code.Length)));
                Append("\n"u8);
                _lines++;
                _replyLineStart = true;
            }
            else if (b != '\r')
            {
                if (_column < _code.Length)
                {
                    _code[_column] = b;
                }
                _column++;
                Append([b]);
            }
        }
    }

    /// <summary>A command line as the client sent it.</summary>
    public void Input(ReadOnlySpan<byte> line)
    {
        Append("In:  "u8);
        Append(line);
        Append("\n"u8);
        _lines++;
    }

    /// <summary>
    /// At EHLO, RSET and the end of a message: a history past the threshold is cut, and what it held is kept for a
    /// notice when it had errors of the classes notify_classes names.
    /// </summary>
    public void Checkpoint()
    {
        if (_lines <= threshold)
        {
            return;
        }
        if ((_errors & notify) != 0)
        {
            (_earlier ??= []).Add(Text());
        }
        _errors = ErrorClasses.None;
        _length = 0;
        _lines = 0;
    }

    /// <summary>The histories to send the postmaster at the end of the session: those kept, and this one when it had such errors.</summary>
    public IReadOnlyList<string> Notices()
    {
        List<string> notices = _earlier ?? [];
        if ((_errors & notify) != 0 && _lines > 0)
        {
            notices.Add(Text());
        }
        return notices;
    }

    /// <summary>The pooled buffer goes back.</summary>
    public void Release()
    {
        if (_buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
        }
    }

    private string Text() => Encoding.UTF8.GetString(_buffer.AsSpan(0, _length));

    private void Append(ReadOnlySpan<byte> bytes)
    {
        if (_length + bytes.Length > MaxBytes)
        {
            return;
        }
        if (_buffer is null || _length + bytes.Length > _buffer.Length)
        {
            byte[] larger = ArrayPool<byte>.Shared.Rent(Math.Min(MaxBytes, Math.Max(FirstBytes, (_length + bytes.Length) * 2)));
            _buffer?.AsSpan(0, _length).CopyTo(larger);
            if (_buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(_buffer);
            }
            _buffer = larger;
        }
        bytes.CopyTo(_buffer.AsSpan(_length));
        _length += bytes.Length;
    }

    /// <summary>The class of the error a reply reports ("550 5.7.1 ..."), by its enhanced status code; none for a success.</summary>
    internal static ErrorClasses Classify(ReadOnlySpan<byte> start)
    {
        if (start.Length < 3 || start[0] is not ((byte)'4' or (byte)'5'))
        {
            return ErrorClasses.None;
        }
        ReadOnlySpan<byte> dsn = start.Length > 4 ? start[4..] : default;
        if (dsn.Length < 5 || dsn[1] != '.' || dsn[3] != '.')
        {
            return ErrorClasses.Protocol;
        }
        return (dsn[2], dsn[4]) switch
        {
            // 421 4.3.2 Service shutting down: the server's stop, not the client's or the system's error.
            ((byte)'3', (byte)'2') when start[..3].SequenceEqual("421"u8) => ErrorClasses.None,
            ((byte)'5', _) or ((byte)'4', _) => ErrorClasses.Protocol,
            ((byte)'3', (byte)'5') => ErrorClasses.Software,
            ((byte)'3', _) => ErrorClasses.Resource,
            _ => ErrorClasses.Policy,
        };
    }
}
