using System.Buffers.Binary;
using Edge.Mail;

namespace Edge.Queue;

internal enum RecordType : byte
{
    /// <summary>A piece of message content, written as it arrives.</summary>
    Chunk = 1,
    /// <summary>The envelope; its commit is what makes a message queued.</summary>
    Envelope = 2,
    /// <summary>The outcome of a delivery attempt for one recipient.</summary>
    Status = 3,
    /// <summary>The message is finished (every recipient delivered or bounced) and leaves the queue.</summary>
    Removed = 4,
    /// <summary>postsuper -h / -H: the message is put on hold (one byte, 1) or released (0).</summary>
    Hold = 5,
    /// <summary>The sender was told of the delay (delay_warning_time): no second warning after a restart.</summary>
    Warned = 6,
    /// <summary>How many delivery attempts the message has had (four bytes): its backoff after a restart.</summary>
    Attempts = 7,
    /// <summary>The content filter the message goes through after the queue (content_filter, FILTER), as UTF-8.</summary>
    Filter = 8,
}

/// <summary>
/// The 16 bytes in front of every queue record: CRC-32C of everything after the CRC, type, format version,
/// and the queue ID. A record whose CRC does not match is corrupt and is moved aside at recovery.
/// </summary>
internal static class RecordHeader
{
    public const int Size = 16;
    public const byte Version = 1;

    public static void Write(Span<byte> record, RecordType type, QueueId id)
    {
        record[4] = (byte)type;
        record[5] = Version;
        BinaryPrimitives.WriteUInt16LittleEndian(record[6..], 0);
        BinaryPrimitives.WriteInt64LittleEndian(record[8..], id.Value);
    }

    /// <summary>Computes and stores the CRC once the record is complete.</summary>
    public static void Seal(Span<byte> record) =>
        BinaryPrimitives.WriteUInt32LittleEndian(record, Crc32C.Compute(record[4..]));

    public static bool IsIntact(ReadOnlySpan<byte> record) =>
        record.Length >= Size && record[5] == Version
        && BinaryPrimitives.ReadUInt32LittleEndian(record) == Crc32C.Compute(record[4..]);

    public static RecordType TypeOf(ReadOnlySpan<byte> record) => (RecordType)record[4];

    public static QueueId IdOf(ReadOnlySpan<byte> record) => new(BinaryPrimitives.ReadInt64LittleEndian(record[8..]));
}
