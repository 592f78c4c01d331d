using System.Buffers.Binary;
using System.Net;
using System.Text;

namespace Edge.Dns;

/// <summary>
/// Reads the wire format (RFC 1035 §4) from a received packet. Every read checks the bounds and every
/// malformation is a <see cref="DnsFormatException"/>: a reply is hostile input.
/// </summary>
internal ref struct DnsMessageReader(ReadOnlySpan<byte> packet)
{
    /// <summary>More jumps than a 255-octet name can need (it has at most 127 labels) means a crafted packet.</summary>
    private const int MaxPointers = 127;

    private readonly ReadOnlySpan<byte> _packet = packet;

    public int Position { get; private set; }

    public readonly bool AtEnd => Position == _packet.Length;

    public byte ReadByte()
    {
        Need(1);
        return _packet[Position++];
    }

    public ushort ReadUInt16()
    {
        Need(2);
        ushort value = BinaryPrimitives.ReadUInt16BigEndian(_packet[Position..]);
        Position += 2;
        return value;
    }

    public uint ReadUInt32()
    {
        Need(4);
        uint value = BinaryPrimitives.ReadUInt32BigEndian(_packet[Position..]);
        Position += 4;
        return value;
    }

    public ReadOnlySpan<byte> ReadBytes(int count)
    {
        Need(count);
        ReadOnlySpan<byte> bytes = _packet.Slice(Position, count);
        Position += count;
        return bytes;
    }

    /// <summary>
    /// Reads a name, following compression pointers (RFC 1035 §4.1.4). A pointer must point before the start
    /// of the labels it ends — where an earlier name really is — so every jump goes strictly backwards and a
    /// pointer loop cannot be built; the name's length and the number of jumps are capped as well.
    /// </summary>
    public string ReadName()
    {
        var builder = new StringBuilder();
        int position = Position;
        int segmentStart = position;
        int resumeAt = -1;
        int wireLength = 1;
        int pointers = 0;
        while (true)
        {
            if (position >= _packet.Length)
            {
                throw new DnsFormatException("name runs past the end of the packet");
            }
            byte length = _packet[position];
            if (length == 0)
            {
                position++;
                break;
            }
            switch (length & 0xC0)
            {
                case 0xC0:
                    if (position + 1 >= _packet.Length)
                    {
                        throw new DnsFormatException("compression pointer runs past the end of the packet");
                    }
                    int target = ((length & 0x3F) << 8) | _packet[position + 1];
                    if (target >= segmentStart)
                    {
                        throw new DnsFormatException("compression pointer does not point backwards (loop)");
                    }
                    if (++pointers > MaxPointers)
                    {
                        throw new DnsFormatException("too many compression pointers");
                    }
                    if (resumeAt < 0)
                    {
                        resumeAt = position + 2;
                    }
                    position = segmentStart = target;
                    break;
                case 0x00:
                    if (position + 1 + length > _packet.Length)
                    {
                        throw new DnsFormatException("label runs past the end of the packet");
                    }
                    wireLength += length + 1;
                    if (wireLength > DnsName.MaxWireLength)
                    {
                        throw new DnsFormatException("name longer than 255 octets");
                    }
                    DnsName.AppendLabel(builder, _packet.Slice(position + 1, length));
                    position += 1 + length;
                    break;
                default:
                    // 0x40 and 0x80: the extended label types of RFC 6891 §5, obsolete and never valid here.
                    throw new DnsFormatException("unknown label type");
            }
        }
        Position = resumeAt >= 0 ? resumeAt : position;
        return builder.ToString();
    }

    public DnsQuestion ReadQuestion()
    {
        string name = ReadName();
        var type = (DnsRecordType)ReadUInt16();
        ushort @class = ReadUInt16();
        return new DnsQuestion(name, type, @class);
    }

    /// <summary>Reads one resource record and decodes its RDATA, which must fill RDLENGTH exactly.</summary>
    public DnsRecord ReadRecord()
    {
        string name = ReadName();
        var type = (DnsRecordType)ReadUInt16();
        ushort @class = ReadUInt16();
        // RFC 2181 §8: a TTL with the top bit set is treated as zero. OPT's "TTL" holds flags instead.
        uint ttl = ReadUInt32();
        if (ttl > int.MaxValue && type != DnsRecordType.OPT)
        {
            ttl = 0;
        }
        ushort rdLength = ReadUInt16();
        Need(rdLength);
        int end = Position + rdLength;
        object? data = type switch
        {
            DnsRecordType.A => ReadAddress(rdLength, 4),
            DnsRecordType.AAAA => ReadAddress(rdLength, 16),
            DnsRecordType.CNAME or DnsRecordType.PTR or DnsRecordType.NS => ReadName(),
            DnsRecordType.MX => new MxRecord(ReadUInt16(), ReadName()),
            DnsRecordType.TXT => ReadTxt(end),
            DnsRecordType.SOA => ReadSoa(),
            _ => null,
        };
        if (data is null)
        {
            Position = end;
        }
        else if (Position != end)
        {
            throw new DnsFormatException($"{type} record data does not match its length");
        }
        return new DnsRecord(name, type, @class, ttl, data);
    }

    private IPAddress ReadAddress(int rdLength, int size)
    {
        if (rdLength != size)
        {
            throw new DnsFormatException("address record of the wrong length");
        }
        return new IPAddress(ReadBytes(size));
    }

    /// <summary>
    /// A TXT record's character-strings joined without separator, as SPF (RFC 7208 §3.3) and DKIM read them.
    /// Decoded as UTF-8: those are ASCII, and other text is more often UTF-8 than anything else.
    /// </summary>
    private string ReadTxt(int end)
    {
        var bytes = new List<byte>();
        while (Position < end)
        {
            int length = ReadByte();
            if (Position + length > end)
            {
                throw new DnsFormatException("TXT string runs past its record");
            }
            bytes.AddRange(ReadBytes(length));
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    private DnsSoa ReadSoa()
    {
        string primary = ReadName();
        string mailbox = ReadName();
        uint serial = ReadUInt32();
        ReadUInt32(); // refresh
        ReadUInt32(); // retry
        ReadUInt32(); // expire
        return new DnsSoa(primary, mailbox, serial, ReadUInt32());
    }

    private readonly void Need(int count)
    {
        if (count > _packet.Length - Position)
        {
            throw new DnsFormatException("packet truncated");
        }
    }
}
