
namespace Edge.Mail;

/// <summary>
/// The envelope of the transaction in progress. Addresses and DSN strings are copied into one arena that
/// the session reuses for every transaction, so a steady session allocates nothing for its envelopes.
/// </summary>
internal sealed class Envelope
{
    internal readonly record struct Segment(int Start, int Length);

    internal struct Recipient
    {
        public Segment Address;
        public Segment Orcpt;
        public DsnNotify Notify;
    }

    private byte[] _arena = [];
    private int _used;
    private Recipient[] _recipients = [];

    public QueueId Id { get; set; }
    public bool Active { get; private set; }
    public Segment Sender { get; private set; }
    public Segment EnvId { get; private set; }
    public DsnReturn Ret { get; private set; }
    public BodyType Body { get; private set; }
    public bool SmtpUtf8 { get; private set; }
    public int RecipientCount { get; private set; }

    /// <summary>The content filter the message goes through after the queue ("transport:destination"), or null.</summary>
    public string? Filter { get; set; }

    public ReadOnlySpan<Recipient> Recipients => _recipients.AsSpan(0, RecipientCount);

    /// <summary>
    /// The most address bytes one envelope holds: its record must fit one log page (1 MiB) with the chunk
    /// list. Past it, further recipients get "too many recipients" (the client sends the rest later).
    /// </summary>
    public const int MaxBytes = 256 * 1024;

    /// <summary>Whether a recipient of this many bytes still fits.</summary>
    public bool HasRoomFor(int bytes) => _used + bytes <= MaxBytes;

    public ReadOnlySpan<byte> this[Segment segment] => _arena.AsSpan(segment.Start, segment.Length);

    public void Begin(QueueId id, ReadOnlySpan<byte> sender, ReadOnlySpan<byte> envId, DsnReturn ret, BodyType body, bool smtpUtf8)
    {
        Reset();
        Active = true;
        Id = id;
        Sender = Add(sender);
        EnvId = Add(envId);
        Ret = ret;
        Body = body;
        SmtpUtf8 = smtpUtf8;
    }

    public void AddRecipient(ReadOnlySpan<byte> address, ReadOnlySpan<byte> orcpt, DsnNotify notify)
    {
        if (RecipientCount == _recipients.Length)
        {
            Array.Resize(ref _recipients, Math.Max(8, _recipients.Length * 2));
        }
        _recipients[RecipientCount++] = new Recipient { Address = Add(address), Orcpt = Add(orcpt), Notify = notify };
    }

    /// <summary>
    /// The recipients after address rewriting (virtual aliases), in place of those the client gave; false,
    /// changing nothing, when they do not fit one envelope.
    /// </summary>
    public bool ReplaceRecipients(IReadOnlyList<(string Address, string Orcpt, DsnNotify Notify)> recipients)
    {
        var encoding = System.Text.Encoding.UTF8;
        if (!HasRoomFor(recipients.Sum(r => encoding.GetByteCount(r.Address) + encoding.GetByteCount(r.Orcpt))))
        {
            return false;
        }
        RecipientCount = 0;
        foreach ((string address, string orcpt, DsnNotify notify) in recipients)
        {
            AddRecipient(encoding.GetBytes(address), encoding.GetBytes(orcpt), notify);
        }
        return true;
    }

    /// <summary>
    /// The sender and recipients for which <paramref name="rewrite"/> gives a new address replaced (the null sender
    /// stays null); false, changing nothing, when they would not fit one envelope.
    /// </summary>
    public bool Rewrite(AddressRewrite rewrite)
    {
        string? sender = Sender.Length > 0 ? rewrite(this[Sender]) : null;
        List<(int Index, byte[] Address)>? changed = null;
        int bytes = sender is null ? 0 : System.Text.Encoding.UTF8.GetByteCount(sender);
        for (int i = 0; i < RecipientCount; i++)
        {
            if (rewrite(this[_recipients[i].Address]) is { } address)
            {
                byte[] utf8 = System.Text.Encoding.UTF8.GetBytes(address);
                (changed ??= []).Add((i, utf8));
                bytes += utf8.Length;
            }
        }
        if (bytes > 0 && !HasRoomFor(bytes))
        {
            return false;
        }
        if (sender is not null)
        {
            Sender = Add(System.Text.Encoding.UTF8.GetBytes(sender));
        }
        if (changed is not null)
        {
            foreach ((int index, byte[] address) in changed)
            {
                _recipients[index].Address = Add(address);
            }
        }
        return true;
    }

    /// <summary>A new sender (a mail filter changed it).</summary>
    public void ReplaceSender(ReadOnlySpan<byte> sender) => Sender = Add(sender);

    /// <summary>Removes the recipients whose address is <paramref name="address"/> (a mail filter deleted it).</summary>
    public void RemoveRecipients(ReadOnlySpan<byte> address)
    {
        int kept = 0;
        for (int i = 0; i < RecipientCount; i++)
        {
            if (!this[_recipients[i].Address].SequenceEqual(address))
            {
                _recipients[kept++] = _recipients[i];
            }
        }
        RecipientCount = kept;
    }

    /// <summary>
    /// Postfix's duplicate filter: a recipient equal to an earlier one (address, ORCPT and NOTIFY, compared exactly)
    /// is dropped. The filter remembers at most <paramref name="limit"/> recipients (0: all), as duplicate_filter_limit
    /// says; past that, later duplicates stay.
    /// </summary>
    public void RemoveDuplicates(int limit)
    {
        if (RecipientCount < 2)
        {
            return;
        }
        var seen = new HashSet<int>(new SameRecipient(this));
        int kept = 0;
        for (int i = 0; i < RecipientCount; i++)
        {
            if (seen.Contains(i))
            {
                continue;
            }
            _recipients[kept] = _recipients[i];
            // Positions below kept no longer move, so the filter may refer to them.
            if (limit <= 0 || seen.Count < limit)
            {
                seen.Add(kept);
            }
            kept++;
        }
        RecipientCount = kept;
    }

    /// <summary>Recipients by position, equal when their address, ORCPT and NOTIFY are.</summary>
    private sealed class SameRecipient(Envelope envelope) : IEqualityComparer<int>
    {
        public bool Equals(int x, int y)
        {
            Recipient a = envelope._recipients[x];
            Recipient b = envelope._recipients[y];
            return a.Notify == b.Notify && envelope[a.Address].SequenceEqual(envelope[b.Address])
                && envelope[a.Orcpt].SequenceEqual(envelope[b.Orcpt]);
        }

        public int GetHashCode(int position)
        {
            Recipient recipient = envelope._recipients[position];
            var hash = new HashCode();
            hash.AddBytes(envelope[recipient.Address]);
            hash.AddBytes(envelope[recipient.Orcpt]);
            hash.Add(recipient.Notify);
            return hash.ToHashCode();
        }
    }

    public void Reset()
    {
        Active = false;
        Filter = null;
        _used = 0;
        RecipientCount = 0;
        Sender = default;
        EnvId = default;
    }

    private Segment Add(ReadOnlySpan<byte> bytes)
    {
        if (_used + bytes.Length > _arena.Length)
        {
            Array.Resize(ref _arena, Math.Max(Math.Max(512, _arena.Length * 2), _used + bytes.Length));
        }
        bytes.CopyTo(_arena.AsSpan(_used));
        var segment = new Segment(_used, bytes.Length);
        _used += bytes.Length;
        return segment;
    }
}

/// <summary>A new form of <paramref name="address"/>, or null to leave it as it is.</summary>
internal delegate string? AddressRewrite(ReadOnlySpan<byte> address);
