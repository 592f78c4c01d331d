using System.Buffers.Binary;
using System.Text;
using Edge.Logging;
using Edge.Mail;

namespace Edge.Queue;

/// <summary>
/// Rebuilds the queue index from a scan of the log. Envelopes are messages; chunks are checked so that an
/// envelope whose content is damaged is not delivered. Damaged records go to the corrupt queue
/// (<see cref="CorruptQueue"/>), and so does what is left of a message that cannot be queued: its envelope, in
/// words, and its intact content (<see cref="Salvage"/>). A message copied forward has more than one envelope
/// record: the last one is the message; an earlier one may have lost its content to truncation already.
/// </summary>
internal sealed class QueueRecovery(CorruptQueue corrupt)
{
    private readonly Dictionary<long, (QueueId Id, int Index)> _intactChunks = [];
    private readonly Dictionary<QueueId, (long Address, QueuedMessage Message)> _envelopes = [];
    private readonly Dictionary<QueueId, long> _damagedEnvelopes = [];
    private readonly Dictionary<QueueId, List<(int Recipient, DeliveryStatus Status, DateTimeOffset Next, string Reason)>> _statuses = [];
    private readonly HashSet<QueueId> _removed = [];
    private readonly Dictionary<QueueId, bool> _held = [];
    private readonly Dictionary<QueueId, string> _filters = [];
    private readonly HashSet<QueueId> _warned = [];
    private readonly Dictionary<QueueId, int> _attempts = [];

    /// <summary>
    /// A message recovery could not queue: what to save in the corrupt queue, the log addresses of its intact content
    /// chunks in order, and what to log about it.
    /// </summary>
    internal sealed record Salvage(QueueId Id, string Envelope, IReadOnlyList<long> Chunks, string Warning);

    /// <summary>The messages still queued, with what their status records say.</summary>
    public List<QueueEntry> Entries { get; } = [];

    public List<Salvage> Salvaged { get; } = [];

    public void Add(ReadOnlySpan<byte> record, long address)
    {
        if (!RecordHeader.IsIntact(record))
        {
            Damaged(record, address, "checksum mismatch");
            return;
        }
        try
        {
            Read(record, address);
        }
        catch (Exception e) when (e is FormatException or ArgumentOutOfRangeException or IndexOutOfRangeException or OverflowException)
        {
            // Its checksum is right and its fields are not (a writer's bug, not the disk's): it goes aside as a
            // damaged record does, and start-up goes on.
            Damaged(record, address, $"malformed {RecordHeader.TypeOf(record).ToString().ToLowerInvariant()} record");
        }
    }

    private void Read(ReadOnlySpan<byte> record, long address)
    {
        switch (RecordHeader.TypeOf(record))
        {
            case RecordType.Chunk:
                _intactChunks[address] = (RecordHeader.IdOf(record), BinaryPrimitives.ReadInt32LittleEndian(record[RecordHeader.Size..]));
                break;
            case RecordType.Envelope:
                try
                {
                    QueuedMessage message = EnvelopeRecord.Read(record);
                    _envelopes[message.Id] = (address, message);
                }
                catch (FormatException)
                {
                    Damaged(record, address, "malformed envelope");
                }
                break;
            case RecordType.Status:
                QueueId id = RecordHeader.IdOf(record);
                if (!_statuses.TryGetValue(id, out var list))
                {
                    _statuses[id] = list = [];
                }
                list.Add(StatusRecord.Read(record));
                break;
            case RecordType.Removed:
                _removed.Add(RecordHeader.IdOf(record));
                break;
            case RecordType.Warned:
                _warned.Add(RecordHeader.IdOf(record));
                break;
            case RecordType.Attempts:
                _attempts[RecordHeader.IdOf(record)] = StatusRecord.ReadAttempts(record);
                break;
            case RecordType.Hold:
                _held[RecordHeader.IdOf(record)] = record[RecordHeader.Size] != 0;
                break;
            case RecordType.Filter:
                _filters[RecordHeader.IdOf(record)] = StatusRecord.ReadFilter(record);
                break;
            default:
                Damaged(record, address, $"unknown record type {(byte)RecordHeader.TypeOf(record)}");
                break;
        }
    }

    /// <summary>
    /// A record that cannot be read goes to the corrupt queue, reported once with the queue ID and type its header
    /// names (which the damage may have hit too); a damaged envelope's message is salvaged at the end of the scan.
    /// </summary>
    private void Damaged(ReadOnlySpan<byte> record, long address, string why)
    {
        bool whole = record.Length >= RecordHeader.Size;
        QueueId id = whole ? RecordHeader.IdOf(record) : default;
        RecordType type = whole ? RecordHeader.TypeOf(record) : default;
        if (type == RecordType.Envelope)
        {
            _damagedEnvelopes[id] = address;
        }
        if (corrupt.SaveRecord(address, record))
        {
            string names = whole ? $" ({TypeName(type)} record of queue ID {id}, by its header)" : "";
            MailLog.Warning($"corrupt queue record at log address {address} ({QueueStore.PlaceOf(address)}){names}: " +
                $"{why}; saved as corrupt/{CorruptQueue.RecordName(address)}");
        }
    }

    private static string TypeName(RecordType type) => Enum.IsDefined(type) ? type.ToString().ToLowerInvariant() : $"type {(byte)type}";

    /// <summary>Decides, once the whole log is read, which messages are queued and which are salvaged.</summary>
    public void Finish()
    {
        foreach ((QueueId id, (long address, QueuedMessage message)) in _envelopes)
        {
            if (_removed.Contains(id))
            {
                continue;
            }
            QueueEntry entry = Restate(id, address, message);
            long[] damaged = [.. message.Chunks.Select(c => c.Address).Where(a => !IsChunkOf(a, id))];
            if (damaged.Length == 0)
            {
                Entries.Add(entry);
                continue;
            }
            var text = EnvelopeText.Append(new StringBuilder(), message, "corrupt", entry.Done, entry.Reasons);
            long[] intact = [.. message.Chunks.Select(c => c.Address).Where(a => IsChunkOf(a, id))];
            text.Append($"*** MESSAGE CONTENTS: {intact.Length} of {message.Chunks.Count} chunks intact, in corrupt/{id}.content; ")
                .Append($"missing or corrupt: the chunks at log addresses {string.Join(", ", damaged)} ***\n");
            Salvaged.Add(new Salvage(id, text.ToString(), intact,
                $"{id}: content chunk at log address {damaged[0]} is missing or corrupt; message moved to corrupt/{id}, its {intact.Length} intact chunks of {message.Chunks.Count} to corrupt/{id}.content"));
        }
        foreach ((QueueId id, long address) in _damagedEnvelopes)
        {
            if (_envelopes.ContainsKey(id) || _removed.Contains(id))
            {
                continue;
            }
            // Every intact chunk of the message, in order; a chunk copied forward is there twice: the later copy.
            long[] chunks = [.. _intactChunks.Where(c => c.Value.Id == id)
                .GroupBy(c => c.Value.Index).OrderBy(g => g.Key).Select(g => g.Max(c => c.Key))];
            string envelope = $"*** ENVELOPE RECORDS corrupt/{id} ***\n" +
                $"*** the envelope record at log address {address} is damaged: saved as corrupt/{CorruptQueue.RecordName(address)} ***\n" +
                $"*** MESSAGE CONTENTS: {chunks.Length} intact chunks, in corrupt/{id}.content ***\n";
            Salvaged.Add(new Salvage(id, envelope, chunks,
                $"{id}: envelope record at log address {address} is damaged; the message cannot be delivered: its {chunks.Length} intact content chunks saved as corrupt/{id}.content"));
        }
    }

    private bool IsChunkOf(long address, QueueId id) => _intactChunks.TryGetValue(address, out var chunk) && chunk.Id == id;

    /// <summary>The message's delivery state from its status, hold, warning and attempt records.</summary>
    private QueueEntry Restate(QueueId id, long address, QueuedMessage message)
    {
        var entry = new QueueEntry(id, address, message.Recipients.Count, [.. message.Chunks]) { Hold = _held.GetValueOrDefault(id), Warned = _warned.Contains(id), Filter = _filters.GetValueOrDefault(id) };
        foreach ((int recipient, DeliveryStatus status, DateTimeOffset next, string reason) in
                 _statuses.GetValueOrDefault(id) ?? [])
        {
            if (recipient < 0 || recipient >= message.Recipients.Count)
            {
                continue;
            }
            entry.Done[recipient] |= status != DeliveryStatus.Deferred;
            if (status == DeliveryStatus.Deferred)
            {
                entry.Reasons[recipient] = reason;
                entry.NextAttempt = next > entry.NextAttempt ? next : entry.NextAttempt;
                entry.Attempts++;
            }
        }
        // The count the queue manager recorded; a log from before it did so counts deferral records.
        entry.Attempts = _attempts.GetValueOrDefault(id, entry.Attempts);
        return entry;
    }
}
