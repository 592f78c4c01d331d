using Edge.Mail;

namespace Edge.Smtp.Data;

/// <summary>
/// Decodes DATA (dot-stuffed, ended by CRLF.CRLF) or BDAT (counted, no end marker) content as it streams
/// in, one receive buffer at a time, without ever holding a line.
///
/// This is where SMTP smuggling is stopped: the end of data is recognised only as a "." line that ends in
/// CRLF and follows a line that ended in CRLF. Every other variant ("\n.\n", "\r\n.\n", "\n.\r\n",
/// ".\r\r\n", NUL next to the dot …) is ordinary content, so commands hidden behind it are never
/// executed. Bare LF line endings are rewritten to CRLF in the stored content and remembered, so that
/// "reject" mode can refuse the message after its real end. A bare CR is content.
/// </summary>
internal sealed class DataScanner
{
    private enum State : byte
    {
        LineStart,
        Dot,
        DotCr,
        InLine,
    }

    private static ReadOnlySpan<byte> CrLf => "\r\n"u8;
    private static ReadOnlySpan<byte> Cr => "\r"u8;

    private State _state;
    private bool _lastWasCr;
    private bool _previousLineBareLf;
    private bool _dotProtocol;
    private BareNewlineMode _mode;

    /// <summary>Between lines: nothing of the next line has arrived yet.</summary>
    public bool AtLineStart => _state == State.LineStart;

    /// <summary>Whether any line of this message ended in a bare LF.</summary>
    public bool SawBareLf { get; private set; }

    /// <summary>Starts a DATA body; as in Postfix, a "." right after the 354 ends it whatever ended the DATA line.</summary>
    public void StartData(BareNewlineMode mode) => Start(mode, dotProtocol: true);

    /// <summary>Starts a BDAT message; chunks of one message are scanned as one continuous stream.</summary>
    public void StartBdat(BareNewlineMode mode) => Start(mode, dotProtocol: false);

    private void Start(BareNewlineMode mode, bool dotProtocol)
    {
        _mode = mode;
        _dotProtocol = dotProtocol;
        _state = State.LineStart;
        _lastWasCr = false;
        _previousLineBareLf = false;
        SawBareLf = false;
    }

    /// <summary>
    /// Decodes <paramref name="input"/> into <paramref name="sink"/>. Returns true when the end-of-data
    /// line was found; <paramref name="consumed"/> then counts the bytes up to and including it, and the
    /// rest of the input belongs to the next command. Otherwise all of the input was consumed.
    /// </summary>
    public bool Scan<TSink>(ReadOnlySpan<byte> input, TSink sink, out int consumed) where TSink : IContentSink
    {
        int i = 0;
        while (i < input.Length)
        {
            switch (_state)
            {
                case State.LineStart:
                    if (_dotProtocol && input[i] == (byte)'.')
                    {
                        _state = State.Dot;
                        i++;
                        break;
                    }
                    _state = State.InLine;
                    break;

                case State.Dot:
                    // The dot of a dot-stuffed line is dropped whatever follows it.
                    if (input[i] == (byte)'\r')
                    {
                        _state = State.DotCr;
                        i++;
                        break;
                    }
                    if (input[i] == (byte)'\n')
                    {
                        if (_mode == BareNewlineMode.Allow)
                        {
                            consumed = i + 1;
                            return true;
                        }
                        // Postfix drops a "." line that ends in a bare LF: neither the end nor content.
                        EndLine(bareLf: true);
                        i++;
                        break;
                    }
                    _lastWasCr = false;
                    _state = State.InLine;
                    break;

                case State.DotCr:
                    if (input[i] == (byte)'\n')
                    {
                        if (!_previousLineBareLf)
                        {
                            consumed = i + 1;
                            return true;
                        }
                        // A "." line after a bare-LF line is dropped too: that is the "\n.\r\n" smuggling variant.
                        EndLine(bareLf: false);
                        i++;
                        break;
                    }
                    if (input[i] == (byte)'\r' && _mode == BareNewlineMode.Allow)
                    {
                        // Legacy mode strips every CR before the LF, so ".\r\r\n" is still the end (as Postfix).
                        i++;
                        break;
                    }
                    // ".\r" followed by anything else: the CR is content of a line that started with a dot.
                    _lastWasCr = true;
                    _state = State.InLine;
                    sink.Write(Cr);
                    break;

                case State.InLine:
                    i = ScanLine(input, i, sink);
                    break;
            }
        }
        consumed = input.Length;
        return false;
    }

    private int ScanLine<TSink>(ReadOnlySpan<byte> input, int start, TSink sink) where TSink : IContentSink
    {
        ReadOnlySpan<byte> rest = input[start..];
        int lf = rest.IndexOf((byte)'\n');
        if (lf < 0)
        {
            sink.Write(rest);
            _lastWasCr = rest[^1] == (byte)'\r';
            return input.Length;
        }

        bool crBefore = lf > 0 ? rest[lf - 1] == (byte)'\r' : _lastWasCr;
        if (crBefore)
        {
            sink.Write(rest[..(lf + 1)]);
        }
        else
        {
            sink.Write(rest[..lf]);
            sink.Write(CrLf);
        }
        EndLine(bareLf: !crBefore);
        return start + lf + 1;
    }

    private void EndLine(bool bareLf)
    {
        if (bareLf)
        {
            SawBareLf = true;
        }
        _previousLineBareLf = bareLf && _mode != BareNewlineMode.Allow;
        _lastWasCr = false;
        _state = State.LineStart;
    }
}
