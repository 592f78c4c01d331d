using System.Buffers.Binary;
using System.Text;
using Edge.Mail;

namespace Edge.Queue;

/// <summary>
/// Encodes the envelope record: sizes and DSN options, the client, the sender, the recipients with ORCPT
/// and NOTIFY, and the log addresses of the content chunks in order. Strings are UTF-8 with a 16-bit length.
/// </summary>
internal static class EnvelopeRecord
{
    /// <summary>Who sent the message: fixed for a connection, so the session builds it once.</summary>
    internal sealed record Client(string Name, string Address, string Helo, string Protocol);

    public static int MeasureUpperBound(Envelope envelope, Client client, int chunkCount)
    {
        int size = RecordHeader.Size + 8 + 3 + 6 * 2 + 4 + 4;
        size += Utf8Max(client.Name) + Utf8Max(client.Address) + Utf8Max(client.Helo) + Utf8Max(client.Protocol);
        size += envelope[envelope.Sender].Length + envelope[envelope.EnvId].Length;
        foreach (Envelope.Recipient r in envelope.Recipients)
        {
            size += 2 + envelope[r.Address].Length + 2 + envelope[r.Orcpt].Length + 1;
        }
        return size + chunkCount * 12;
    }

    public static int Write(Span<byte> record, Envelope envelope, Client client, long size, ReadOnlySpan<ContentChunk> chunks)
    {
        RecordHeader.Write(record, RecordType.Envelope, envelope.Id);
        int p = RecordHeader.Size;
        BinaryPrimitives.WriteInt64LittleEndian(record[p..], size);
        p += 8;
        record[p++] = (byte)envelope.Ret;
        record[p++] = (byte)envelope.Body;
        record[p++] = envelope.SmtpUtf8 ? (byte)1 : (byte)0;
        p = WriteString(record, p, client.Name);
        p = WriteString(record, p, client.Address);
        p = WriteString(record, p, client.Helo);
        p = WriteString(record, p, client.Protocol);
        p = WriteBytes(record, p, envelope[envelope.Sender]);
        p = WriteBytes(record, p, envelope[envelope.EnvId]);
        BinaryPrimitives.WriteInt32LittleEndian(record[p..], envelope.RecipientCount);
        p += 4;
        foreach (Envelope.Recipient r in envelope.Recipients)
        {
            p = WriteBytes(record, p, envelope[r.Address]);
            p = WriteBytes(record, p, envelope[r.Orcpt]);
            record[p++] = (byte)r.Notify;
        }
        BinaryPrimitives.WriteInt32LittleEndian(record[p..], chunks.Length);
        p += 4;
        foreach (ContentChunk chunk in chunks)
        {
            BinaryPrimitives.WriteInt64LittleEndian(record[p..], chunk.Address);
            BinaryPrimitives.WriteInt32LittleEndian(record[(p + 8)..], chunk.Length);
            p += 12;
        }
        RecordHeader.Seal(record[..p]);
        return p;
    }

    /// <summary>
    /// Points an envelope record at copies of its chunks (the message was copied forward in the log): the
    /// chunk table is the record's end, so only it changes, and the record is sealed again.
    /// </summary>
    public static void Relocate(Span<byte> record, ReadOnlySpan<ContentChunk> chunks)
    {
        int p = record.Length - chunks.Length * 12;
        foreach (ContentChunk chunk in chunks)
        {
            BinaryPrimitives.WriteInt64LittleEndian(record[p..], chunk.Address);
            p += 12;
        }
        RecordHeader.Seal(record);
    }

    /// <summary>Decodes an intact envelope record; a malformed one throws <see cref="FormatException"/>.</summary>
    public static QueuedMessage Read(ReadOnlySpan<byte> record)
    {
        try
        {
            QueueId id = RecordHeader.IdOf(record);
            int p = RecordHeader.Size;
            long size = BinaryPrimitives.ReadInt64LittleEndian(record[p..]);
            p += 8;
            var ret = (DsnReturn)record[p++];
            var body = (BodyType)record[p++];
            bool utf8 = record[p++] != 0;
            string name = ReadString(record, ref p);
            string address = ReadString(record, ref p);
            string helo = ReadString(record, ref p);
            string protocol = ReadString(record, ref p);
            string sender = ReadString(record, ref p);
            string envId = ReadString(record, ref p);
            int rcptCount = Count(record, ref p, 5);
            var recipients = new QueuedRecipient[rcptCount];
            for (int i = 0; i < rcptCount; i++)
            {
                string rcpt = ReadString(record, ref p);
                string orcpt = ReadString(record, ref p);
                recipients[i] = new QueuedRecipient(rcpt, orcpt, (DsnNotify)record[p++]);
            }
            int chunkCount = Count(record, ref p, 12);
            var chunks = new ContentChunk[chunkCount];
            for (int i = 0; i < chunkCount; i++)
            {
                chunks[i] = new ContentChunk(BinaryPrimitives.ReadInt64LittleEndian(record[p..]),
                    BinaryPrimitives.ReadInt32LittleEndian(record[(p + 8)..]));
                p += 12;
            }
            return new QueuedMessage(id, size, name, address, helo, protocol, sender, envId, ret, body, utf8,
                recipients, chunks);
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new FormatException("truncated envelope record", e);
        }
    }

    private static int Utf8Max(string s) => 2 + Encoding.UTF8.GetMaxByteCount(s.Length);

    private static int WriteString(Span<byte> record, int p, string value)
    {
        int length = Encoding.UTF8.GetBytes(value, record[(p + 2)..]);
        BinaryPrimitives.WriteUInt16LittleEndian(record[p..], (ushort)length);
        return p + 2 + length;
    }

    private static int WriteBytes(Span<byte> record, int p, ReadOnlySpan<byte> value)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(record[p..], (ushort)value.Length);
        value.CopyTo(record[(p + 2)..]);
        return p + 2 + value.Length;
    }

    /// <summary>A count of items of at least <paramref name="itemSize"/> bytes each, which the rest of the record must hold.</summary>
    private static int Count(ReadOnlySpan<byte> record, ref int p, int itemSize)
    {
        int count = BinaryPrimitives.ReadInt32LittleEndian(record[p..]);
        p += 4;
        return count >= 0 && count <= (record.Length - p) / itemSize ? count : throw new FormatException($"bad count {count} in envelope record");
    }

    private static string ReadString(ReadOnlySpan<byte> record, ref int p)
    {
        int length = BinaryPrimitives.ReadUInt16LittleEndian(record[p..]);
        string value = Encoding.UTF8.GetString(record.Slice(p + 2, length));
        p += 2 + length;
        return value;
    }
}
