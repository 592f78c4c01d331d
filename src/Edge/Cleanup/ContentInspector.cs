using System.Buffers;
using System.Collections.Frozen;
using System.Text;
using Edge.Logging;
using Edge.Mail;
using Edge.Tables;

namespace Edge.Cleanup;

/// <summary>
/// Cleanup's view of the content as it streams to the queue, one logical header (with its continuation lines) or body
/// line at a time, as Postfix's cleanup sees it: headers longer than header_size_limit lose their excess, Received:
/// headers are counted against hopcount_limit, the message's own headers named by message_drop_headers are removed
/// and its Message-ID is logged; and header_checks(5) apply, each header and body line looked up in the tables of its
/// class (<see cref="ContentChecks"/>, classes from <see cref="MimeTracker"/>), the first result carried out:
/// REJECT, WARN, INFO, IGNORE, STRIP, DUNNO, OK, PREPEND, REPLACE, HOLD, DISCARD, REDIRECT, BCC, FILTER, PASS. What
/// changes a line changes what is written; what concerns the whole message goes into <see cref="Verdict"/>. REJECT,
/// DISCARD and PASS end the checks. Only one line is held at a time: the message is never buffered whole, and when no
/// check looks past the message's own headers the body passes straight through. With the answers of a session
/// (<see cref="Begin"/>), a line whose checks or header rewriting need a table a server answers and has not answered
/// yet is held with the input after it (<see cref="Pending"/>) until the session has fetched that answer and calls
/// <see cref="Resume"/>: no thread waits for the server.
/// </summary>
internal sealed class ContentInspector(ContentChecks checks, HeaderRules rules) : IContentSink
{
    /// <summary>A longer line is inspected in pieces of this size, as Postfix's cleanup splits long lines into records.</summary>
    private const int LineLimit = 64 * 1024;

    private readonly ContentChecks _checks = checks;
    private readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> _drop = rules.DropHeaders.GetAlternateLookup<ReadOnlySpan<char>>();
    private readonly MimeTracker _mime = new(checks.Mime, checks.NestingLimit, checks.BoundaryLimit,
        reportNesting: rules.Stage == CheckStage.Receiving && checks.ReportsMimeErrors, strictEncoding: rules.Stage == CheckStage.Receiving && checks.StrictEncoding);

    /// <summary>Whether the MIME structure is followed: for checks past the message's own headers, or for reporting its errors.</summary>
    private readonly bool _tracksMime = checks.InspectsBody || (rules.Stage == CheckStage.Receiving && checks.ReportsMimeErrors);
    private IContentSink _output = null!;
    private MessageOrigin? _origin;
    private IHeaderRewriter? _rewriter;
    private bool _primaryHeadersDone;
    private QueueId _id;
    private byte[] _line = [];
    private int _lineLength;
    private byte[] _header = [];
    private int _headerLength;
    private byte[] _joined = [];
    private char[] _chars = [];
    private long _segmentBytes;
    private int _hops;
    private bool _inspecting;
    private bool _truncating;
    private bool _midLine;
    private bool _passthrough;

    /// <summary>The answers the session fetches for this message's tables; null when its lookups wait on the thread.</summary>
    private TableAnswers? _answers;

    /// <summary>The input held while <see cref="Pending"/> is fetched, from the line that waits for it on.</summary>
    private byte[] _held = [];
    private int _heldLength;

    /// <summary>The lookup the held input waits for; null when nothing is held.</summary>
    public LookupPendingException? Pending { get; private set; }

    /// <summary>The bytes held (<see cref="Pending"/>), not yet written.</summary>
    public int HeldLength => _heldLength;

    public ContentVerdict Verdict { get; } = new();

    /// <summary>The checks this inspector carries out (a reload brings new ones, and a new inspector).</summary>
    public ContentChecks Checks => _checks;

    /// <summary>
    /// Starts message <paramref name="id"/>, whose content goes to <paramref name="output"/>; <paramref name="origin"/>
    /// names its client in the log lines of mail being received, and is null for mail being sent. A message whose
    /// headers cleanup rewrites comes with its <paramref name="rewriter"/>. With <paramref name="answers"/>, lines whose
    /// lookups a server has not answered yet are held (<see cref="Pending"/>).
    /// </summary>
    public void Begin(IContentSink output, QueueId id, MessageOrigin? origin, IHeaderRewriter? rewriter = null, TableAnswers? answers = null)
    {
        _answers = answers;
        Pending = null;
        _heldLength = 0;
        _output = output;
        _id = id;
        _origin = origin;
        _rewriter = rewriter;
        _primaryHeadersDone = false;
        _mime.Reset();
        Verdict.Reset();
        _lineLength = 0;
        _headerLength = 0;
        _segmentBytes = 0;
        _hops = 0;
        _inspecting = !_checks.IsEmpty;
        _truncating = false;
        _midLine = false;
        _passthrough = false;
    }

    public void Write(ReadOnlySpan<byte> content)
    {
        if (_answers is null)
        {
            WriteLines(content);
            return;
        }
        if (Pending is not null)
        {
            Append(ref _held, ref _heldLength, content);
            return;
        }
        using TableAnswers.Scope scope = TableAnswers.Use(_answers);
        WriteLines(content);
    }

    /// <summary>The session fetched <see cref="Pending"/>'s answer: the held input is inspected (and may wait again).</summary>
    public void Resume()
    {
        byte[] held = _held;
        int length = _heldLength;
        (_held, _heldLength, Pending) = ([], 0, null);
        Write(held.AsSpan(0, length));
        Return(ref held);
    }

    /// <summary>
    /// What <see cref="Complete"/> will ask of a table a server answers and has no answer for (the last line, the last
    /// header), or what the held input waits for; null when nothing.
    /// </summary>
    public LookupPendingException? PendingAtEnd()
    {
        if (_answers is null || Pending is not null)
        {
            return Pending;
        }
        if (_lineLength == 0)
        {
            return _headerLength > 0 ? AsksForHeader(_header.AsSpan(0, _headerLength)) : null;
        }
        ReadOnlySpan<byte> line = _line.AsSpan(0, _lineLength);
        LookupPendingException? pending = Asks(line);
        if (pending is not null || !_mime.InHeaders)
        {
            return pending;
        }
        // Complete() then flushes the header the last line continues or begins.
        ReadOnlySpan<byte> text = line.TrimEnd("\r\n"u8);
        bool continuation = _midLine || (text.Length > 0 && text[0] is (byte)' ' or (byte)'\t');
        return continuation && _headerLength > 0 ? AsksForHeader([.. _header.AsSpan(0, _headerLength), .. line])
            : HeaderSyntax.IsHeader(text) ? AsksForHeader(line) : null;
    }

    private void WriteLines(ReadOnlySpan<byte> content)
    {
        while (!content.IsEmpty)
        {
            if (_passthrough)
            {
                _output.Write(content);
                return;
            }
            int lf = content.IndexOf((byte)'\n');
            if (lf < 0 && _lineLength + content.Length > LineLimit)
            {
                int take = Math.Max(0, LineLimit - _lineLength);
                Append(ref _line, ref _lineLength, content[..take]);
                content = content[take..];
                if (!Take(_line.AsSpan(0, _lineLength), content))
                {
                    return;
                }
                _lineLength = 0;
                continue;
            }
            if (lf < 0)
            {
                Append(ref _line, ref _lineLength, content);
                return;
            }
            ReadOnlySpan<byte> rest = content[(lf + 1)..];
            if (_lineLength == 0)
            {
                if (!Take(content[..(lf + 1)], rest))
                {
                    return;
                }
            }
            else
            {
                Append(ref _line, ref _lineLength, content[..(lf + 1)]);
                if (!Take(_line.AsSpan(0, _lineLength), rest))
                {
                    return;
                }
                _lineLength = 0;
            }
            content = rest;
        }
    }

    /// <summary>
    /// Inspects <paramref name="line"/>, unless a table it needs has not answered yet: then it is held with the
    /// <paramref name="rest"/> of the input (false) until <see cref="Resume"/>.
    /// </summary>
    private bool Take(ReadOnlySpan<byte> line, ReadOnlySpan<byte> rest)
    {
        if (_answers is not null && Asks(line) is { } pending)
        {
            Append(ref _held, ref _heldLength, line);
            Append(ref _held, ref _heldLength, rest);
            _lineLength = 0;
            Pending = pending;
            return false;
        }
        Line(line);
        // What the line asked is done with: the answers of a message's lines are not all kept.
        _answers?.Clear();
        return true;
    }

    /// <summary>
    /// Asks, changing nothing, what inspecting <paramref name="line"/> will ask of tables: the checks and rewriting of
    /// the header it completes, and a body line's checks (a line that ends the headers without the empty line is one).
    /// The lookup not answered yet, or null.
    /// </summary>
    private LookupPendingException? Asks(ReadOnlySpan<byte> line)
    {
        ReadOnlySpan<byte> text = line.TrimEnd("\r\n"u8);
        bool endsHeaders = false;
        if (_mime.InHeaders)
        {
            bool continuation = _midLine || (text.Length > 0 && text[0] is (byte)' ' or (byte)'\t');
            if (continuation && (_headerLength > 0 || _truncating))
            {
                return null;
            }
            if ((_headerLength > 0 ? AsksForHeader(_header.AsSpan(0, _headerLength)) : null) is { } pending)
            {
                return pending;
            }
            if (text.IsEmpty || HeaderSyntax.IsHeader(text))
            {
                return null;
            }
            endsHeaders = true;
        }
        if (!_inspecting || _checks.Body.Length == 0 || text.Length == 0 || (!endsHeaders && _segmentBytes >= _checks.BodySizeLimit))
        {
            return null;
        }
        using TableAnswers.Scope scope = TableAnswers.Enter(_answers);
        try
        {
            Ask(text, _checks.Body);
            return null;
        }
        catch (LookupPendingException pending)
        {
            return pending;
        }
    }

    /// <summary>What flushing the header <paramref name="bytes"/> will ask: its class's checks, then the rewriting of its addresses.</summary>
    private LookupPendingException? AsksForHeader(ReadOnlySpan<byte> bytes)
    {
        ReadOnlySpan<byte> header = Joined(bytes);
        ReadOnlySpan<byte> name = header[..header.IndexOf((byte)':')].TrimEnd((byte)' ');
        HeaderClass headerClass = ClassOf(name);
        using TableAnswers.Scope scope = TableAnswers.Enter(_answers);
        try
        {
            if (_inspecting)
            {
                Ask(header, TablesOf(headerClass).Tables);
            }
            if (headerClass == HeaderClass.Primary)
            {
                _rewriter?.Ask(name, bytes);
            }
            return null;
        }
        catch (LookupPendingException pending)
        {
            return pending;
        }
    }

    /// <summary>Looks <paramref name="utf8"/> up in <paramref name="tables"/>, for the answers only (when a server answers one of them).</summary>
    private void Ask(ReadOnlySpan<byte> utf8, ILookupTable[] tables)
    {
        if (!Array.Exists(tables, table => table.IsRemote))
        {
            return;
        }
        EnsureChars(utf8.Length);
        int length = Encoding.UTF8.GetChars(utf8, _chars);
        try
        {
            ContentChecks.Find(tables, new PatternSubject(utf8, _chars.AsSpan(0, length)));
        }
        catch (TableLookupException)
        {
            // Said when the line is inspected.
        }
    }

    /// <summary>The end of the content: a last line without its line end, and a header still being assembled.</summary>
    public void Complete()
    {
        using TableAnswers.Scope scope = TableAnswers.Use(_answers);
        if (Pending is not null)
        {
            // Input still held (the session did not wait for its answer): inspected now, its lookups waiting here.
            TableAnswers? answers = _answers;
            _answers = null;
            Resume();
            _answers = answers;
        }
        if (_lineLength > 0)
        {
            Line(_line.AsSpan(0, _lineLength));
            _lineLength = 0;
        }
        FlushHeader();
        if (_mime.InHeaders && !_primaryHeadersDone)
        {
            // A message of headers alone: what is missing still goes at their end.
            _primaryHeadersDone = true;
            _rewriter?.WriteMissing(_output);
        }
    }

    /// <summary>Gives the buffers back to the pool between messages.</summary>
    public void Release()
    {
        Return(ref _line);
        Return(ref _held);
        (_heldLength, Pending, _answers) = (0, null, null);
        Return(ref _header);
        Return(ref _joined);
        Return(ref _chars);
    }

    /// <summary>One line, or a piece of a line longer than <see cref="LineLimit"/> (the next piece continues it).</summary>
    private void Line(ReadOnlySpan<byte> line)
    {
        bool continuesLine = _midLine;
        _midLine = line[^1] != '\n';
        ReadOnlySpan<byte> text = line.TrimEnd("\r\n"u8);
        if (_mime.InHeaders)
        {
            bool continuation = continuesLine || (text.Length > 0 && text[0] is (byte)' ' or (byte)'\t');
            if (continuation && (_headerLength > 0 || _truncating))
            {
                AddToHeader(line);
                return;
            }
            FlushHeader();
            if (text.IsEmpty)
            {
                EndOfHeaders();
                _output.Write(line);
                return;
            }
            if (HeaderSyntax.IsHeader(text))
            {
                AddToHeader(line);
                return;
            }
            // Not a header: the header block ends here, and this line is body.
            EndOfHeaders();
            if (_passthrough)
            {
                _output.Write(line);
                return;
            }
        }
        if (!continuesLine && _mime.Boundary(text))
        {
            _output.Write(line);
            return;
        }
        bool inspect = _inspecting && _checks.Body.Length > 0 && text.Length > 0 && _segmentBytes < _checks.BodySizeLimit;
        _segmentBytes += line.Length;
        if (!inspect || Inspect("body", text, _checks.Body, _checks.Parameters[3], line))
        {
            _output.Write(line);
        }
    }

    private void EndOfHeaders()
    {
        if (!_primaryHeadersDone)
        {
            _primaryHeadersDone = true;
            _rewriter?.WriteMissing(_output);
        }
        _mime.EndOfHeaders();
        MimeError();
        _segmentBytes = 0;
        // Nothing looks past the message's own headers: the rest is copied as it comes.
        _passthrough = !_tracksMime;
    }

    /// <summary>
    /// A MIME structure error, logged as Postfix's cleanup_mime_error_callback() does when it happens; the message is
    /// refused with it at its end unless a check refused it already (Postfix's CLEANUP_STAT_CONT with the error's text).
    /// </summary>
    private void MimeError()
    {
        if (_mime.Error is not { } error || Verdict.MimeError is not null)
        {
            return;
        }
        Verdict.MimeError = $"550 5.6.0 {error.Text}";
        string subject = error.Subject.Length > 100 ? error.Subject[..100] : error.Subject;
        MailLog.Info($"{_id}: reject: mime-error {error.Text}: {subject} from {_origin?.Client}; {_origin?.Addresses()}", "cleanup");
    }

    /// <summary>A line of the header being assembled, up to header_size_limit; the excess is discarded, as Postfix does.</summary>
    private void AddToHeader(ReadOnlySpan<byte> line)
    {
        if (_truncating)
        {
            return;
        }
        int room = rules.HeaderSizeLimit - _headerLength;
        if (line.Length > room)
        {
            line = line[..Math.Max(0, room)];
            _truncating = true;
        }
        Append(ref _header, ref _headerLength, line);
    }

    /// <summary>
    /// Looks <paramref name="utf8"/> up in <paramref name="tables"/> and acts on the result; the text is made a string
    /// only for a match. True when <paramref name="line"/> is to be written as it is.
    /// </summary>
    private bool Inspect(string context, ReadOnlySpan<byte> utf8, ILookupTable[] tables, string parameter, ReadOnlySpan<byte> line)
    {
        if (tables.Length == 0)
        {
            return true;
        }
        EnsureChars(utf8.Length);
        int length = Encoding.UTF8.GetChars(utf8, _chars);
        var subject = new PatternSubject(utf8, _chars.AsSpan(0, length));
        string? result;
        try
        {
            result = ContentChecks.Find(tables, subject);
        }
        catch (TableLookupException)
        {
            // As Postfix's cleanup: the message is not taken now, and the client tries again later.
            MailLog.Warning($"{_id}: {parameter} map lookup problem -- message not accepted, try again later", "cleanup");
            Verdict.Reply ??= "451 4.3.0 Error: queue file write error";
            _inspecting = false;
            return true;
        }
        return result is null || Act(context, subject.Text.ToString(), result, parameter);
    }

    /// <summary>
    /// A complete logical header: the hop count, its class's tables, then (for the message's own headers) the
    /// Message-ID log line and message_drop_headers, then the output.
    /// </summary>
    private void FlushHeader()
    {
        if (_headerLength == 0)
        {
            _truncating = false;
            return;
        }
        if (_truncating && _header[_headerLength - 1] != '\n')
        {
            Append(ref _header, ref _headerLength, "\r\n"u8);
        }
        _truncating = false;
        ReadOnlySpan<byte> bytes = _header.AsSpan(0, _headerLength);
        _headerLength = 0;
        ReadOnlySpan<byte> header = Joined(bytes);
        ReadOnlySpan<byte> name = header[..header.IndexOf((byte)':')].TrimEnd((byte)' ');
        ReadOnlySpan<byte> value = header[(header.IndexOf((byte)':') + 1)..].TrimStart(" \t"u8);
        bool contentType = Ascii.EqualsIgnoreCase(name, "Content-Type"u8);
        // The MIME structure matters only to checks past the message's own headers and to its error reports; without them the body passes through.
        if (_tracksMime && (contentType || Ascii.EqualsIgnoreCase(name, "Content-Transfer-Encoding"u8)))
        {
            string text = Encoding.UTF8.GetString(value).Replace("\n", "");
            if (contentType)
            {
                _mime.ContentType(text);
            }
            else
            {
                _mime.ContentTransferEncoding(text);
            }
            MimeError();
        }
        if (Ascii.EqualsIgnoreCase(name, "Received"u8) && ++_hops == rules.HopcountLimit)
        {
            MailLog.Warning($"{_id}: message rejected: hopcount exceeded", "cleanup");
            Verdict.TooManyHops = true;
        }
        HeaderClass headerClass = ClassOf(name);
        (ILookupTable[] tables, string parameter) = TablesOf(headerClass);
        if (_inspecting && !Inspect("header", header, tables, parameter, bytes))
        {
            return;
        }
        if (rules.Stage == CheckStage.Receiving && headerClass == HeaderClass.Primary && !Primary(name, value))
        {
            return;
        }
        if (headerClass == HeaderClass.Primary && _rewriter?.Rewrite(name, bytes) is { } rewritten)
        {
            _output.Write(rewritten);
            return;
        }
        _output.Write(bytes);
    }

    /// <summary>The header as Postfix matches it: its lines joined by newlines, without carriage returns (in a scratch buffer).</summary>
    private ReadOnlySpan<byte> Joined(ReadOnlySpan<byte> bytes)
    {
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
        return _joined.AsSpan(0, length).TrimEnd((byte)'\n');
    }

    /// <summary>Which checks a header goes to: MIME headers to mime_header_checks wherever they are, the others by where they are.</summary>
    private HeaderClass ClassOf(ReadOnlySpan<byte> name) =>
        Ascii.EqualsIgnoreCase(name, "Content-Type"u8) || IsMimeHeader(name) ? HeaderClass.Multipart : _mime.Class;

    private (ILookupTable[] Tables, string Parameter) TablesOf(HeaderClass headerClass) => headerClass switch
    {
        HeaderClass.Multipart => (_checks.MimeHeader, _checks.Parameters[1]),
        HeaderClass.Nested => (_checks.NestedHeader, _checks.Parameters[2]),
        _ => (_checks.Header, _checks.Parameters[0]),
    };

    /// <summary>The message's own header <paramref name="name"/>: its log line, if it has one; false when message_drop_headers removes it.</summary>
    private bool Primary(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        _rewriter?.Observe(name);
        if (Ascii.EqualsIgnoreCase(name, "Message-ID"u8))
        {
            MailLog.Info($"{_id}: message-id={new ClientText(value)}", "cleanup");
        }
        else if (Ascii.EqualsIgnoreCase(name, "Resent-Message-ID"u8))
        {
            MailLog.Info($"{_id}: resent-message-id={new ClientText(value)}", "cleanup");
        }
        if (rules.DropHeaders.Count == 0 || name.Length > 256)
        {
            return true;
        }
        Span<char> lower = stackalloc char[name.Length];
        Ascii.ToLower(name, lower, out int written);
        return !_drop.Contains(lower[..written]);
    }

    private void EnsureChars(int length)
    {
        if (_chars.Length < length)
        {
            Return(ref _chars);
            _chars = ArrayPool<char>.Shared.Rent(Math.Max(256, length));
        }
    }

    /// <summary>header_checks(5)'s actions, as Postfix's cleanup_act() carries them out; false when the line is dropped or replaced.</summary>
    private bool Act(string context, string text, string result, string parameter)
    {
        string value = result.Trim();
        int space = value.IndexOfAny([' ', '\t']);
        string action = (space < 0 ? value : value[..space]).ToUpperInvariant();
        string argument = space < 0 ? "" : value[space..].Trim();
        // What concerns the whole message cannot be done by the time it is being sent, as in Postfix's smtp(8); a filter's
        // header cannot have another put in front of it, as in Postfix's cleanup.
        if ((rules.Stage == CheckStage.Sending && action is not ("WARN" or "INFO" or "REPLACE" or "PREPEND" or "STRIP" or "IGNORE" or "DUNNO" or "OK"))
            || (rules.Stage == CheckStage.MilterHeaders && action == "PREPEND"))
        {
            MailLog.Warning($"unsupported command in {parameter} map: {action}", rules.Stage == CheckStage.Sending ? "smtp" : "cleanup");
            return true;
        }
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
            case "PREPEND" when argument.Length > 0 && (context == "body" || HeaderSyntax.IsHeader(Encoding.UTF8.GetBytes(argument))):
                Log("prepend", context, text, argument);
                WriteLine(argument);
                break;
            case "REPLACE" when argument.Length > 0 && (context == "body" || HeaderSyntax.IsHeader(Encoding.UTF8.GetBytes(argument))):
                Log("replace", context, text, argument);
                WriteLine(argument);
                return false;
            case "STRIP":
                Log("strip", context, text, argument);
                return false;
            case "IGNORE":
                return false;
            case "DUNNO" or "OK":
                break;
            default:
                MailLog.Warning($"unknown command in {parameter} map: {value}", "cleanup");
                break;
        }
        return true;
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
        string what = argument.Length > 0 ? $": {argument}" : "";
        if (_origin is null)
        {
            // Postfix's smtp_hbc_logger(): no client to name.
            MailLog.Info($"{_id}: {action}: {context} {content}{what}", "smtp");
            return;
        }
        MailLog.Info($"{_id}: {action}: {context} {content} {_origin.Describe()}{what}", "cleanup");
    }

    /// <summary>The headers Postfix's header_opts marks as MIME (HDR_OPT_MIME): they go to mime_header_checks wherever they are.</summary>
    private static bool IsMimeHeader(ReadOnlySpan<byte> name) =>
        Ascii.EqualsIgnoreCase(name, "MIME-Version"u8) || Ascii.EqualsIgnoreCase(name, "Content-Transfer-Encoding"u8)
        || Ascii.EqualsIgnoreCase(name, "Content-Disposition"u8) || Ascii.EqualsIgnoreCase(name, "Content-Description"u8)
        || Ascii.EqualsIgnoreCase(name, "Content-ID"u8);

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
