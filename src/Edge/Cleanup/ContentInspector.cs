using System.Buffers;
using System.Text;
using Edge.Logging;
using Edge.Smtp.Data;
using Edge.Tables;

namespace Edge.Cleanup;

/// <summary>Who sent a message, for the log lines of content checks (Postfix's cleanup_act_log).</summary>
internal readonly record struct InspectionOrigin(string QueueId, string Client, string Sender, string Recipient, string Protocol, string? Helo);

/// <summary>
/// header_checks(5) as the message streams to the queue: each logical header (with its continuation lines) and each
/// body line is looked up in the tables of its class (<see cref="ContentChecks"/>, classes from
/// <see cref="MimeTracker"/>), and the first result is carried out: REJECT, WARN, INFO, IGNORE, STRIP, DUNNO, OK,
/// PREPEND, REPLACE, HOLD, DISCARD, REDIRECT, BCC, FILTER, PASS. What changes a line changes what is written;
/// what concerns the whole message goes into <see cref="Verdict"/>. REJECT, DISCARD and PASS end the inspection.
/// Only one line is held at a time (a header with its continuation lines): the message is never buffered whole.
/// </summary>
internal sealed class ContentInspector(ContentChecks checks) : IContentSink
{
    /// <summary>The most of one logical header the checks see; the rest of a longer header passes uninspected.</summary>
    private const int HeaderLimit = 100 * 1024;

    /// <summary>A longer line is inspected in pieces of this size, as Postfix's cleanup splits long lines into records.</summary>
    private const int LineLimit = 64 * 1024;

    private readonly MimeTracker _mime = new(checks.Mime);
    private IContentSink _output = null!;
    private InspectionOrigin _origin;
    private byte[] _line = [];
    private int _lineLength;
    private byte[] _header = [];
    private int _headerLength;
    private byte[] _joined = [];
    private char[] _chars = [];
    private long _segmentBytes;
    private bool _inspecting;
    private bool _passingHeader;

    public ContentVerdict Verdict { get; } = new();

    /// <summary>The checks this inspector carries out (a reload brings new ones, and a new inspector).</summary>
    public ContentChecks Checks => checks;

    /// <summary>Starts a message whose inspected content goes to <paramref name="output"/>.</summary>
    public void Begin(IContentSink output, InspectionOrigin origin)
    {
        _output = output;
        _origin = origin;
        _mime.Reset();
        Verdict.Reset();
        _lineLength = 0;
        _headerLength = 0;
        _segmentBytes = 0;
        _inspecting = true;
        _passingHeader = false;
    }

    public void Write(ReadOnlySpan<byte> content)
    {
        while (!content.IsEmpty)
        {
            int lf = content.IndexOf((byte)'\n');
            if (lf < 0 && _lineLength + content.Length > LineLimit)
            {
                int take = Math.Max(0, LineLimit - _lineLength);
                Append(ref _line, ref _lineLength, content[..take]);
                Line(_line.AsSpan(0, _lineLength));
                _lineLength = 0;
                content = content[take..];
                continue;
            }
            if (lf < 0)
            {
                Append(ref _line, ref _lineLength, content);
                return;
            }
            if (_lineLength == 0)
            {
                Line(content[..(lf + 1)]);
            }
            else
            {
                Append(ref _line, ref _lineLength, content[..(lf + 1)]);
                Line(_line.AsSpan(0, _lineLength));
                _lineLength = 0;
            }
            content = content[(lf + 1)..];
        }
    }

    /// <summary>The end of the content: a last line without its line end, and a header still being assembled.</summary>
    public void Complete()
    {
        if (_lineLength > 0)
        {
            Line(_line.AsSpan(0, _lineLength));
            _lineLength = 0;
        }
        FlushHeader();
    }

    /// <summary>Gives the buffers back to the pool between messages.</summary>
    public void Release()
    {
        Return(ref _line);
        Return(ref _header);
        Return(ref _joined);
        Return(ref _chars);
    }

    private void Line(ReadOnlySpan<byte> line)
    {
        ReadOnlySpan<byte> text = line.TrimEnd("\r\n"u8);
        if (_mime.InHeaders)
        {
            bool continuation = text.Length > 0 && text[0] is (byte)' ' or (byte)'\t';
            if (continuation && _passingHeader)
            {
                _output.Write(line);
                return;
            }
            if (continuation && _headerLength > 0)
            {
                if (_headerLength + line.Length <= HeaderLimit)
                {
                    Append(ref _header, ref _headerLength, line);
                    return;
                }
                // A header past the limit: what was seen is inspected, the rest passes.
                FlushHeader();
                _passingHeader = true;
                _output.Write(line);
                return;
            }
            _passingHeader = false;
            FlushHeader();
            if (text.IsEmpty)
            {
                _mime.EndOfHeaders();
                _segmentBytes = 0;
                _output.Write(line);
                return;
            }
            if (IsHeader(text))
            {
                Append(ref _header, ref _headerLength, line);
                return;
            }
            // Not a header: the header block ends here, and this line is body.
            _mime.EndOfHeaders();
            _segmentBytes = 0;
        }
        if (_mime.Boundary(text))
        {
            _output.Write(line);
            return;
        }
        bool inspect = _inspecting && checks.Body.Length > 0 && text.Length > 0 && _segmentBytes < checks.BodySizeLimit;
        _segmentBytes += line.Length;
        if (!inspect)
        {
            _output.Write(line);
            return;
        }
        Inspect("body", text, checks.Body, "body_checks", line);
    }

    /// <summary>Looks <paramref name="utf8"/> up in <paramref name="tables"/> and acts on the result; the text is made a string only for a match.</summary>
    private void Inspect(string context, ReadOnlySpan<byte> utf8, ILookupTable[] tables, string parameter, ReadOnlySpan<byte> line)
    {
        if (_chars.Length < utf8.Length)
        {
            Return(ref _chars);
            _chars = ArrayPool<char>.Shared.Rent(Math.Max(256, utf8.Length));
        }
        int length = Encoding.UTF8.GetChars(utf8, _chars);
        var subject = new PatternSubject(utf8, _chars.AsSpan(0, length));
        string? result = ContentChecks.Find(tables, subject);
        if (result is null)
        {
            _output.Write(line);
            return;
        }
        Act(context, subject.Text.ToString(), result, parameter, line);
    }

    /// <summary>A complete logical header: its class's tables, then what the result says, then the output.</summary>
    private void FlushHeader()
    {
        if (_headerLength == 0)
        {
            return;
        }
        ReadOnlySpan<byte> bytes = _header.AsSpan(0, _headerLength);
        _headerLength = 0;
        // As Postfix matches it: the lines of the header joined by newlines, without carriage returns.
        if (_joined.Length < bytes.Length)
        {
            Return(ref _joined);
            _joined = ArrayPool<byte>.Shared.Rent(Math.Max(256, bytes.Length));
        }
        int length = 0;
        for (int i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] != '\r' || i + 1 == bytes.Length || bytes[i + 1] != '\n')
            {
                _joined[length++] = bytes[i];
            }
        }
        ReadOnlySpan<byte> header = _joined.AsSpan(0, length).TrimEnd((byte)'\n');
        ReadOnlySpan<byte> name = header[..header.IndexOf((byte)':')].TrimEnd((byte)' ');
        bool contentType = Ascii.EqualsIgnoreCase(name, "Content-Type"u8);
        if (contentType)
        {
            _mime.ContentType(Encoding.UTF8.GetString(header[(name.Length + 1)..]).Replace("\n", ""));
        }
        if (!_inspecting)
        {
            _output.Write(bytes);
            return;
        }
        bool mimeHeader = contentType || (name.Length > 8 && Ascii.EqualsIgnoreCase(name[..8], "Content-"u8))
            || Ascii.EqualsIgnoreCase(name, "MIME-Version"u8);
        (ILookupTable[] tables, string parameter) = mimeHeader || _mime.Class == HeaderClass.Multipart ? (checks.MimeHeader, "mime_header_checks")
            : _mime.Class == HeaderClass.Nested ? (checks.NestedHeader, "nested_header_checks")
            : (checks.Header, "header_checks");
        Inspect("header", header, tables, parameter, bytes);
    }

    /// <summary>header_checks(5)'s actions, as Postfix's cleanup_act() carries them out; <paramref name="line"/> is written unless dropped or replaced.</summary>
    private void Act(string context, string text, string result, string parameter, ReadOnlySpan<byte> line)
    {
        string value = result.Trim();
        int space = value.IndexOfAny([' ', '\t']);
        string action = (space < 0 ? value : value[..space]).ToUpperInvariant();
        string argument = space < 0 ? "" : value[space..].Trim();
        switch (action)
        {
            case "REJECT":
                string reason = WithStatusCode(argument.Length > 0 ? argument : "message content rejected");
                Verdict.Reply = $"{(reason[0] == '4' ? 451 : 550)} {reason}";
                _inspecting = false;
                Log("reject", context, text, reason);
                break;
            case "WARN":
                Log("warning", context, text, argument);
                break;
            case "INFO":
                Log("info", context, text, argument);
                break;
            case "PASS":
                Log("pass", context, text, argument);
                _inspecting = false;
                break;
            case "DISCARD":
                Log("discard", context, text, argument);
                Verdict.Discard = true;
                _inspecting = false;
                break;
            case "HOLD":
                if (!Verdict.Hold && !Verdict.Discard)
                {
                    Log("hold", context, text, argument);
                    Verdict.Hold = true;
                }
                break;
            case "FILTER" when argument.Contains(':'):
                Log("filter", context, text, argument);
                Verdict.Filter = argument;
                break;
            case "REDIRECT" when argument.Contains('@'):
                Log("redirect", context, text, argument);
                Verdict.Redirect = argument;
                break;
            case "BCC" when argument.Contains('@'):
                Log("bcc", context, text, argument);
                Verdict.Bcc.Add(argument);
                break;
            case "PREPEND" when argument.Length > 0 && (context == "body" || IsHeader(Encoding.UTF8.GetBytes(argument))):
                Log("prepend", context, text, argument);
                WriteLine(argument);
                break;
            case "REPLACE" when argument.Length > 0 && (context == "body" || IsHeader(Encoding.UTF8.GetBytes(argument))):
                Log("replace", context, text, argument);
                WriteLine(argument);
                return;
            case "STRIP":
                Log("strip", context, text, argument);
                return;
            case "IGNORE":
                return;
            case "DUNNO" or "OK":
                break;
            default:
                MailLog.Warning($"unknown command in {parameter} map: {value}", "cleanup");
                break;
        }
        _output.Write(line);
    }

    /// <summary>Postfix's dsn_prepend("5.7.1", text): the text's own enhanced status code, or 5.7.1; a class other than 4 or 5 becomes 4.</summary>
    private static string WithStatusCode(string text)
    {
        int space = text.IndexOf(' ');
        string first = space < 0 ? text : text[..space];
        string[] parts = first.Split('.');
        if (parts.Length != 3 || !parts.All(p => p.Length is > 0 and <= 3 && p.All(char.IsAsciiDigit)))
        {
            return "5.7.1 " + text;
        }
        if (parts[0] is not ("4" or "5"))
        {
            MailLog.Warning($"bad DSN action in {text} -- need 4.x.x or 5.x.x", "cleanup");
            return "4" + text[1..];
        }
        return text;
    }

    private void WriteLine(string text)
    {
        _output.Write(Encoding.UTF8.GetBytes(text));
        _output.Write("\r\n"u8);
    }

    /// <summary>Postfix's cleanup_act_log(): "ID: action: header Subject: … from host[addr]; from=&lt;…&gt; to=&lt;…&gt; proto=… helo=&lt;…&gt;: text".</summary>
    private void Log(string action, string context, string text, string argument)
    {
        string content = text.Length > 200 ? text[..200] : text;
        string helo = _origin.Helo is null ? "" : $" helo=<{_origin.Helo}>";
        string what = argument.Length > 0 ? $": {argument}" : "";
        MailLog.Info($"{_origin.QueueId}: {action}: {context} {content} from {_origin.Client}; from=<{_origin.Sender}> to=<{_origin.Recipient}> proto={_origin.Protocol}{helo}{what}", "cleanup");
    }

    /// <summary>"Name:" at the start of a line: printable characters other than the colon, then a colon (RFC 5322 field name).</summary>
    private static bool IsHeader(ReadOnlySpan<byte> line)
    {
        int colon = line.IndexOf((byte)':');
        if (colon <= 0)
        {
            return false;
        }
        foreach (byte b in line[..colon].TrimEnd((byte)' '))
        {
            if (b is <= 32 or >= 127)
            {
                return false;
            }
        }
        return true;
    }

    private static void Append(ref byte[] buffer, ref int length, ReadOnlySpan<byte> bytes)
    {
        if (length + bytes.Length > buffer.Length)
        {
            byte[] larger = ArrayPool<byte>.Shared.Rent(Math.Max(256, (length + bytes.Length) * 2));
            buffer.AsSpan(0, length).CopyTo(larger);
            Return(ref buffer);
            buffer = larger;
        }
        bytes.CopyTo(buffer.AsSpan(length));
        length += bytes.Length;
    }

    private static void Return<T>(ref T[] buffer)
    {
        if (buffer.Length > 0)
        {
            ArrayPool<T>.Shared.Return(buffer);
            buffer = [];
        }
    }
}
