using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Unicode;
using Edge.Logging;
using Edge.Mail;
using Edge.Resolve;

namespace Edge.Cleanup;

/// <summary>
/// What Postfix's cleanup does to the message's own headers besides checking them, for mail whose headers it
/// rewrites (a client in local_header_rewrite_clients, Edge's own mail, or any client when
/// remote_header_rewrite_domain is set): every address in the sender headers (From:, Sender:, Reply-To: …) and
/// recipient headers (To:, Cc:, Bcc: …) is rewritten in the message's context, then by the canonical maps and
/// masquerading their *_classes name for headers, and a header that changed is written back as Postfix writes it;
/// at the end of the headers, a missing Message-Id:, Date: and From: (Resent- ones for resent mail) are added, and
/// undisclosed_recipients_header when there is no To: or Cc:. With always_add_missing_headers the headers are added
/// for other mail too.
/// </summary>
internal sealed class HeaderRewriter(CleanupSettings settings) : IHeaderRewriter
{
    [Flags]
    private enum Kind
    {
        None = 0,
        Sender = 1,
        Recipient = 2,
        Resent = 4,
        From = 8,
        Date = 16,
        MessageId = 32,
        Visible = 64,
    }

    private static readonly Dictionary<string, Kind> s_kinds = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Apparently-To"] = Kind.Recipient,
        ["Bcc"] = Kind.Recipient,
        ["Cc"] = Kind.Recipient | Kind.Visible,
        ["Disposition-Notification-To"] = Kind.Sender,
        ["Errors-To"] = Kind.Sender,
        ["From"] = Kind.Sender | Kind.From,
        ["Mail-Followup-To"] = Kind.Sender,
        ["Reply-To"] = Kind.Sender,
        ["Resent-Bcc"] = Kind.Recipient | Kind.Resent,
        ["Resent-Cc"] = Kind.Recipient | Kind.Resent | Kind.Visible,
        ["Resent-Date"] = Kind.Resent | Kind.Date,
        ["Resent-From"] = Kind.Sender | Kind.Resent | Kind.From,
        ["Resent-Message-Id"] = Kind.Resent | Kind.MessageId,
        ["Resent-Reply-To"] = Kind.Recipient | Kind.Resent,
        ["Resent-Sender"] = Kind.Sender | Kind.Resent,
        ["Resent-To"] = Kind.Recipient | Kind.Resent | Kind.Visible,
        ["Return-Path"] = Kind.Sender,
        ["Return-Receipt-To"] = Kind.Sender,
        ["Sender"] = Kind.Sender,
        ["To"] = Kind.Recipient | Kind.Visible,
        ["Date"] = Kind.Date,
        ["Message-Id"] = Kind.MessageId,
    };

    private static readonly Dictionary<string, Kind>.AlternateLookup<ReadOnlySpan<char>> s_lookup = s_kinds.GetAlternateLookup<ReadOnlySpan<char>>();

    private RewriteContext? _context;
    private bool _addMissing;
    private Envelope _envelope = null!;
    private DateTimeOffset _arrival;
    private bool _resent;

    /// <summary>Headers seen, plain and Resent- ones apart (Kind.From, Kind.Date, Kind.MessageId, Kind.Visible).</summary>
    private Kind _seen;
    private Kind _seenResent;

    /// <summary>Whether a message in <paramref name="context"/> (null: headers left alone) needs this at all.</summary>
    public bool Applies(RewriteContext? context) => context is not null || settings.AlwaysAddMissingHeaders;

    /// <summary>A canonical table could not answer for a header address: the message is not accepted, as in Postfix.</summary>
    public bool Failed { get; private set; }

    public void Begin(RewriteContext? context, Envelope envelope, DateTimeOffset arrival)
    {
        Failed = false;
        _context = context;
        _addMissing = context is not null || settings.AlwaysAddMissingHeaders;
        _envelope = envelope;
        _arrival = arrival;
        _resent = false;
        _seen = Kind.None;
        _seenResent = Kind.None;
    }

    /// <inheritdoc/>
    public void Observe(ReadOnlySpan<byte> name)
    {
        if (Lookup(name) is not { } kind)
        {
            return;
        }
        _resent |= (kind & Kind.Resent) != 0;
        if ((kind & Kind.Resent) != 0)
        {
            _seenResent |= kind;
        }
        else
        {
            _seen |= kind;
        }
    }

    /// <inheritdoc/>
    public byte[]? Rewrite(ReadOnlySpan<byte> name, ReadOnlySpan<byte> header) => Rewrite(name, header, asking: false);

    /// <inheritdoc/>
    public void Ask(ReadOnlySpan<byte> name, ReadOnlySpan<byte> header)
    {
        if (settings.Rewriting.IsRemote)
        {
            Rewrite(name, header, asking: true);
        }
    }

    private byte[]? Rewrite(ReadOnlySpan<byte> name, ReadOnlySpan<byte> header, bool asking)
    {
        if (_context is null || Lookup(name) is not { } kind || (kind & (Kind.Sender | Kind.Recipient)) == 0)
        {
            return null;
        }
        AddressRole role = (kind & Kind.Sender) != 0 ? AddressRole.HeaderSender : AddressRole.HeaderRecipient;
        RewriteContext context = _context;
        return HeaderAddresses.Rewrite(header, name.Length, settings.HeaderTokenLimit, address =>
        {
            string qualified = context.Rewrite(address);
            string? mapped = settings.Rewriting.Rewrite(qualified, role, _envelope.Id, log: !asking);
            Failed |= mapped is null && !asking;
            return mapped ?? qualified;
        });
    }

    /// <inheritdoc/>
    public void WriteMissing(IContentSink output)
    {
        if (!_addMissing)
        {
            return;
        }
        string resent = _resent ? "Resent-" : "";
        Kind seen = _resent ? _seenResent : _seen;
        ReadOnlySpan<byte> sender = _envelope[_envelope.Sender];
        // Written straight into bytes: mail from local clients gets these on every message.
        byte[] buffer = ArrayPool<byte>.Shared.Rent(128 + 2 * settings.MyHostname.Length + sender.Length);
        try
        {
            if ((seen & Kind.MessageId) == 0)
            {
                Utf8.TryWrite(buffer, CultureInfo.InvariantCulture, $"{resent}Message-Id: <{_envelope.Id}@{settings.MyHostname}>\r\n", out int length);
                output.Write(buffer.AsSpan(0, length));
                MailLog.Info($"{_envelope.Id}: {(_resent ? "resent-" : "")}message-id=<{_envelope.Id}@{settings.MyHostname}>", "cleanup");
            }
            if ((seen & Kind.Date) == 0)
            {
                Utf8.TryWrite(buffer, CultureInfo.InvariantCulture, $"{resent}Date: ", out int length);
                MailDate.TryWrite(buffer.AsSpan(length), _arrival, out int date);
                length += date;
                "\r\n"u8.CopyTo(buffer.AsSpan(length));
                output.Write(buffer.AsSpan(0, length + 2));
            }
            if ((seen & Kind.From) == 0)
            {
                WriteFrom(output, resent, sender, buffer);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        if (((_seen | _seenResent) & Kind.Visible) == 0 && settings.UndisclosedRecipientsHeader is { } undisclosed)
        {
            Write(output, undisclosed + "\r\n");
        }
    }

    /// <summary>From: the envelope sender (MAILER-DAEMON for the null sender), quoted as it must be.</summary>
    private static void WriteFrom(IContentSink output, string resent, ReadOnlySpan<byte> sender, byte[] buffer)
    {
        if (!sender.IsEmpty && Ascii.IsValid(sender) && sender.Length <= 256)
        {
            Span<char> chars = stackalloc char[sender.Length];
            Ascii.ToUtf16(sender, chars, out _);
            if (!AddressTokens.NeedsQuoting(chars))
            {
                Utf8.TryWrite(buffer, CultureInfo.InvariantCulture, $"{resent}From: ", out int length);
                sender.CopyTo(buffer.AsSpan(length));
                "\r\n"u8.CopyTo(buffer.AsSpan(length + sender.Length));
                output.Write(buffer.AsSpan(0, length + sender.Length + 2));
                return;
            }
        }
        string from = AddressTokens.Quote822Local(sender.IsEmpty ? "MAILER-DAEMON" : Encoding.UTF8.GetString(sender));
        Write(output, HeaderAddresses.Fold($"{resent}From: {from}"));
    }

    private static void Write(IContentSink output, string header) => output.Write(Encoding.UTF8.GetBytes(header));

    /// <summary>Whether <paramref name="name"/> is one of the sender or recipient headers whose addresses are rewritten.</summary>
    public static bool IsAddressHeader(ReadOnlySpan<byte> name) => Lookup(name) is { } kind && (kind & (Kind.Sender | Kind.Recipient)) != 0;

    private static Kind? Lookup(ReadOnlySpan<byte> name)
    {
        if (name.Length > 32)
        {
            return null;
        }
        Span<char> chars = stackalloc char[name.Length];
        int length = Encoding.ASCII.GetChars(name, chars);
        return s_lookup.TryGetValue(chars[..length], out Kind kind) ? kind : null;
    }
}
