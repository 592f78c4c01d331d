using System.Buffers.Binary;

namespace Edge.Dns;

/// <summary>A parsed reply: the header fields the resolver uses and the records of every section.</summary>
internal sealed class DnsMessage
{
    public const int HeaderLength = 12;

    public required ushort Id { get; init; }
    public required bool IsResponse { get; init; }
    public required int Opcode { get; init; }
    public required bool Truncated { get; init; }

    /// <summary>The RCODE, with the upper eight bits from the OPT record when there is one (RFC 6891 §6.1.3).</summary>
    public required int ResponseCode { get; init; }

    public required bool HasOpt { get; init; }
    public required IReadOnlyList<DnsQuestion> Questions { get; init; }
    public required IReadOnlyList<DnsRecord> Answers { get; init; }
    public required IReadOnlyList<DnsRecord> Authorities { get; init; }

    /// <summary>Parses a whole packet; <see cref="DnsFormatException"/> when anything in it is malformed.</summary>
    public static DnsMessage Parse(ReadOnlySpan<byte> packet)
    {
        var reader = new DnsMessageReader(packet);
        ushort id = reader.ReadUInt16();
        ushort flags = reader.ReadUInt16();
        int questionCount = reader.ReadUInt16();
        int answerCount = reader.ReadUInt16();
        int authorityCount = reader.ReadUInt16();
        int additionalCount = reader.ReadUInt16();
        var questions = new List<DnsQuestion>(Math.Min(questionCount, 4));
        for (int i = 0; i < questionCount; i++)
        {
            questions.Add(reader.ReadQuestion());
        }
        // Counts come from the packet: no preallocation from them, the reads fail at the end of the data.
        List<DnsRecord> answers = ReadSection(ref reader, answerCount);
        List<DnsRecord> authorities = ReadSection(ref reader, authorityCount);
        List<DnsRecord> additional = ReadSection(ref reader, additionalCount);
        int rcode = flags & 0x0F;
        bool hasOpt = false;
        foreach (DnsRecord record in additional)
        {
            if (record.Type == DnsRecordType.OPT)
            {
                if (hasOpt)
                {
                    throw new DnsFormatException("more than one OPT record");
                }
                hasOpt = true;
                // An OPT record's TTL field holds the extended RCODE in its top byte.
                rcode |= (int)(record.Ttl >> 24) << 4;
            }
        }
        return new DnsMessage
        {
            Id = id,
            IsResponse = (flags & 0x8000) != 0,
            Opcode = (flags >> 11) & 0x0F,
            Truncated = (flags & 0x0200) != 0,
            ResponseCode = rcode,
            HasOpt = hasOpt,
            Questions = questions,
            Answers = answers,
            Authorities = authorities,
        };
    }

    /// <summary>
    /// Whether a packet is the reply to our query: a response with our ID and our question. Anything else
    /// (a late reply to an earlier query, a spoofing attempt, garbage) is ignored by the caller rather than
    /// failing the query. A FORMERR without a question is accepted: RFC 6891 §7 lets a server that does not
    /// understand the query leave it out.
    /// </summary>
    public static bool IsReplyTo(ReadOnlySpan<byte> packet, ushort id, DnsQuestion question, out bool truncated)
    {
        truncated = false;
        if (packet.Length < HeaderLength || BinaryPrimitives.ReadUInt16BigEndian(packet) != id)
        {
            return false;
        }
        ushort flags = BinaryPrimitives.ReadUInt16BigEndian(packet[2..]);
        if ((flags & 0x8000) == 0 || ((flags >> 11) & 0x0F) != 0)
        {
            return false;
        }
        truncated = (flags & 0x0200) != 0;
        int questionCount = BinaryPrimitives.ReadUInt16BigEndian(packet[4..]);
        if (questionCount == 0)
        {
            return (flags & 0x0F) == DnsResponseCode.FormatError;
        }
        if (questionCount != 1)
        {
            return false;
        }
        var reader = new DnsMessageReader(packet);
        try
        {
            reader.ReadBytes(HeaderLength);
            return reader.ReadQuestion().Matches(question);
        }
        catch (DnsFormatException)
        {
            return false;
        }
    }

    private static List<DnsRecord> ReadSection(ref DnsMessageReader reader, int count)
    {
        var records = new List<DnsRecord>();
        for (int i = 0; i < count; i++)
        {
            records.Add(reader.ReadRecord());
        }
        return records;
    }
}
