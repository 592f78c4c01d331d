using System.Buffers.Binary;
using System.Text;
using Edge.Mail;

namespace Edge.Queue;

internal enum DeliveryStatus : byte
{
    Sent = 1,
    Bounced = 2,
    Deferred = 3,
}

/// <summary>
/// What happened to one recipient of a queued message, appended to the log after each attempt, so that a
/// restart neither delivers a finished recipient again nor forgets why one is waiting.
/// </summary>
internal static class StatusRecord
{
    public static byte[] Create(QueueId id, int recipient, DeliveryStatus status, DateTimeOffset nextAttempt, string reason)
    {
        int reasonBytes = Encoding.UTF8.GetByteCount(reason);
        reasonBytes = Math.Min(reasonBytes, ushort.MaxValue);
        byte[] record = new byte[RecordHeader.Size + 1 + 4 + 8 + 2 + reasonBytes];
        RecordHeader.Write(record, RecordType.Status, id);
        int p = RecordHeader.Size;
        record[p++] = (byte)status;
        BinaryPrimitives.WriteInt32LittleEndian(record.AsSpan(p), recipient);
        p += 4;
        BinaryPrimitives.WriteInt64LittleEndian(record.AsSpan(p), nextAttempt.ToUnixTimeMilliseconds());
        p += 8;
        BinaryPrimitives.WriteUInt16LittleEndian(record.AsSpan(p), (ushort)reasonBytes);
        Encoding.UTF8.GetBytes(reason.AsSpan(), record.AsSpan(p + 2, reasonBytes));
        RecordHeader.Seal(record);
        return record;
    }

    public static byte[] Removed(QueueId id)
    {
        byte[] record = new byte[RecordHeader.Size];
        RecordHeader.Write(record, RecordType.Removed, id);
        RecordHeader.Seal(record);
        return record;
    }

    public static byte[] Warned(QueueId id)
    {
        byte[] record = new byte[RecordHeader.Size];
        RecordHeader.Write(record, RecordType.Warned, id);
        RecordHeader.Seal(record);
        return record;
    }

    public static byte[] Hold(QueueId id, bool hold)
    {
        byte[] record = new byte[RecordHeader.Size + 1];
        RecordHeader.Write(record, RecordType.Hold, id);
        record[RecordHeader.Size] = hold ? (byte)1 : (byte)0;
        RecordHeader.Seal(record);
        return record;
    }

    /// <summary>The content filter (transport:destination) a message goes through after the queue.</summary>
    public static byte[] Filter(QueueId id, string filter)
    {
        byte[] text = System.Text.Encoding.UTF8.GetBytes(filter);
        byte[] record = new byte[RecordHeader.Size + text.Length];
        RecordHeader.Write(record, RecordType.Filter, id);
        text.CopyTo(record, RecordHeader.Size);
        RecordHeader.Seal(record);
        return record;
    }

    public static string ReadFilter(ReadOnlySpan<byte> record) => System.Text.Encoding.UTF8.GetString(record[RecordHeader.Size..]);

    public static byte[] Attempts(QueueId id, int attempts)
    {
        byte[] record = new byte[RecordHeader.Size + 4];
        RecordHeader.Write(record, RecordType.Attempts, id);
        BinaryPrimitives.WriteInt32LittleEndian(record.AsSpan(RecordHeader.Size), attempts);
        RecordHeader.Seal(record);
        return record;
    }

    public static int ReadAttempts(ReadOnlySpan<byte> record) => BinaryPrimitives.ReadInt32LittleEndian(record[RecordHeader.Size..]);

    public static (int Recipient, DeliveryStatus Status, DateTimeOffset NextAttempt, string Reason) Read(ReadOnlySpan<byte> record)
    {
        int p = RecordHeader.Size;
        var status = (DeliveryStatus)record[p++];
        int recipient = BinaryPrimitives.ReadInt32LittleEndian(record[p..]);
        p += 4;
        var next = DateTimeOffset.FromUnixTimeMilliseconds(BinaryPrimitives.ReadInt64LittleEndian(record[p..]));
        p += 8;
        int length = BinaryPrimitives.ReadUInt16LittleEndian(record[p..]);
        return (recipient, status, next, Encoding.UTF8.GetString(record.Slice(p + 2, length)));
    }
}
