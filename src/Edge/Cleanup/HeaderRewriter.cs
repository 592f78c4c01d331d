using System.Text;
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

    public void Begin(RewriteContext? context, Envelope envelope, DateTimeOffset arrival)
    {
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
    public byte[]? Rewrite(ReadOnlySpan<byte> name, ReadOnlySpan<byte> header)
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
            return settings.Rewriting.Rewrite(qualified, role, _envelope.Id) ?? qualified;
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
        if ((seen & Kind.MessageId) == 0)
        {
            string id = $"{_envelope.Id}@{settings.MyHostname}";
            Write(output, $"{resent}Message-Id: <{id}>\r\n");
            MailLog.Info($"{_envelope.Id}: {resent.ToLowerInvariant()}message-id=<{id}>", "cleanup");
        }
        if ((seen & Kind.Date) == 0)
        {
            Write(output, $"{resent}Date: {MailDate.Format(_arrival)}\r\n");
        }
        if ((seen & Kind.From) == 0)
        {
            ReadOnlySpan<byte> sender = _envelope[_envelope.Sender];
            string from = AddressTokens.Quote822Local(sender.IsEmpty ? "MAILER-DAEMON" : Encoding.UTF8.GetString(sender));
            Write(output, HeaderAddresses.Fold($"{resent}From: {from}"));
        }
        if (((_seen | _seenResent) & Kind.Visible) == 0 && settings.UndisclosedRecipientsHeader is { } undisclosed)
        {
            Write(output, undisclosed + "\r\n");
        }
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
