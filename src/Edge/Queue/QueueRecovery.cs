using Edge.Logging;

namespace Edge.Queue;

/// <summary>
/// Rebuilds the queue index from a scan of the log. Envelopes are messages; chunks are checked so that an
/// envelope whose content is damaged is not delivered. Damaged records are copied to
/// queue_directory/corrupt and reported, as Postfix moves a damaged queue file to its corrupt queue.
/// A message copied forward has more than one envelope record: the last one is the message; an earlier
/// one may have lost its content to truncation already.
/// </summary>
internal sealed class QueueRecovery(string queueDirectory)
{
    private readonly Dictionary<long, QueueId> _intactChunks = [];
    private readonly Dictionary<QueueId, (long Address, QueuedMessage Message)> _envelopes = [];
    private readonly Dictionary<QueueId, List<(int Recipient, DeliveryStatus Status, DateTimeOffset Next, string Reason)>> _statuses = [];
    private readonly HashSet<QueueId> _removed = [];
    private readonly Dictionary<QueueId, bool> _held = [];
    private readonly HashSet<QueueId> _warned = [];
    private readonly Dictionary<QueueId, int> _attempts = [];
    private readonly string _corruptDirectory = Path.Combine(queueDirectory, "corrupt");

    public void Add(ReadOnlySpan<byte> record, long address)
    {
        if (!RecordHeader.IsIntact(record))
        {
            MoveAside($"record-{address}", record);
            MailLog.Warning($"corrupt queue record at log address {address}: checksum mismatch; saved as corrupt/record-{address}");
            return;
        }
        switch (RecordHeader.TypeOf(record))
        {
            case RecordType.Chunk:
                _intactChunks[address] = RecordHeader.IdOf(record);
                break;
            case RecordType.Envelope:
                try
                {
                    QueuedMessage message = EnvelopeRecord.Read(record);
                    _envelopes[message.Id] = (address, message);
                }
                catch (FormatException)
                {
                    MoveAside($"record-{address}", record);
                    MailLog.Warning($"malformed envelope record at log address {address}; saved as corrupt/record-{address}");
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
            default:
                MoveAside($"record-{address}", record);
                MailLog.Warning($"unknown queue record type {(byte)RecordHeader.TypeOf(record)} at log address {address}; saved as corrupt/record-{address}");
                break;
        }
    }

    /// <summary>The messages still queued, with what their status records say.</summary>
    public IEnumerable<QueueEntry> Finish()
    {
        foreach ((QueueId id, (long address, QueuedMessage message)) in _envelopes)
        {
            if (_removed.Contains(id))
            {
                continue;
            }
            long? bad = FirstDamagedChunk(id, message);
            if (bad is not null)
            {
                MoveAside(id.ToString(), System.Text.Encoding.UTF8.GetBytes(message.ToString()));
                MailLog.Warning($"{id}: content chunk at log address {bad} is missing or corrupt; message moved to corrupt/{id}");
                continue;
            }
            var entry = new QueueEntry(id, address, message.Recipients.Count, [.. message.Chunks]) { Hold = _held.GetValueOrDefault(id), Warned = _warned.Contains(id) };
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
            yield return entry;
        }
    }

    private long? FirstDamagedChunk(QueueId id, QueuedMessage message)
    {
        foreach (ContentChunk chunk in message.Chunks)
        {
            if (!_intactChunks.TryGetValue(chunk.Address, out QueueId owner) || owner != id)
            {
                return chunk.Address;
            }
        }
        return null;
    }

    private void MoveAside(string name, ReadOnlySpan<byte> bytes)
    {
        Directory.CreateDirectory(_corruptDirectory);
        File.WriteAllBytes(Path.Combine(_corruptDirectory, name), bytes.ToArray());
    }
}
