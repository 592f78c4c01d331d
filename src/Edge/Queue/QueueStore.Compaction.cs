using Edge.Logging;

namespace Edge.Queue;

/// <summary>
/// Keeps the log's disk use to the size of the queue. The log can only be cut from its start, so a message
/// that waits for days would hold every segment written after it; once the log is longer than twice the
/// queued content plus edge_queue_log_headroom, the oldest messages are copied to the log's tail (their
/// chunks verbatim, their envelope pointing at the copies, and their delivery state restated) and the
/// start can move past them. Each byte queued is copied at most once per headroom-and-a-half of new mail.
/// </summary>
internal sealed partial class QueueStore
{
    /// <summary>edge_queue_log_headroom: how much longer than twice the queued content the log may grow.</summary>
    public long LogHeadroom { get; set; } = 64L << 20;

    /// <summary>The content of the queued messages, in bytes.</summary>
    private long _queuedBytes;

    /// <summary>How long the log may be before its oldest messages are copied forward.</summary>
    private long LogLimit => LogHeadroom + 2 * Interlocked.Read(ref _queuedBytes);

    /// <summary>The log is longer than it should be: compaction need not wait for its next round.</summary>
    public bool LogTooLong => _log.TailAddress - _log.BeginAddress > LogLimit;

    /// <summary>
    /// Cuts the log back to what the queue still needs, then copies forward the messages that keep it long.
    /// The copies are cut at the next call, so that a reader who just looked a message up still finds the
    /// old records. The caller makes sure that no delivery of a message starts while this runs.
    /// </summary>
    public async Task CompactAsync(CancellationToken cancellationToken)
    {
        if (Broken)
        {
            return;
        }
        TruncateObsolete();
        // Copies are content: on a short disk they would take the room kept for delivery's records.
        if (_committer is null || !TakesContent)
        {
            return;
        }
        long tail = _log.TailAddress;
        long limit = LogLimit;
        if (tail - _log.BeginAddress <= limit)
        {
            return;
        }
        long cutoff = tail - limit / 2;
        long last = -1;
        long bytes = 0;
        var copies = new List<(QueueEntry Entry, long Envelope, ContentChunk[] Chunks)>();
        foreach (QueueEntry entry in _index.Values)
        {
            if (entry.FirstAddress < cutoff && !entry.Active && !entry.Removing && await CopyForwardAsync(entry, cancellationToken) is { } copy)
            {
                last = copy.Last;
                copies.Add((entry, copy.Envelope, copy.Chunks));
                bytes += entry.ContentBytes;
            }
        }
        if (copies.Count == 0)
        {
            return;
        }
        await CommitAsync(last);
        // Only now, with the copies on disk, do readers (deliveries, postcat, postqueue) go to them.
        foreach ((QueueEntry entry, long envelope, ContentChunk[] chunks) in copies)
        {
            lock (entry)
            {
                if (_index.TryGetValue(entry.Id, out QueueEntry? current) && current == entry)
                {
                    entry.Relocate(envelope, chunks);
                }
            }
        }
        MailLog.Info($"queue log: copied {copies.Count} message{(copies.Count == 1 ? "" : "s")} ({bytes} bytes) forward so that about {cutoff - _log.BeginAddress} bytes of log can go", "qmgr");
    }

    /// <summary>
    /// Lets the log go up to the oldest record still needed (a queued message's or one being received), so
    /// that its disk use follows the queue, not the history: FASTER deletes every segment file below it.
    /// A commit records the new begin address.
    /// </summary>
    private void TruncateObsolete()
    {
        long keep = _log.TailAddress;
        // Pins first: a message enters the index before it is unpinned, so one that is unpinned after this
        // scan is found by the next.
        foreach (long pinned in _inProgress.Values)
        {
            keep = Math.Min(keep, pinned);
        }
        foreach (QueueEntry entry in _index.Values)
        {
            keep = Math.Min(keep, entry.FirstAddress);
        }
        if (keep > _log.BeginAddress && _committer is not null)
        {
            _log.TruncateUntilPageStart(keep);
            // The files go when a commit records the new begin address.
            _log.Commit();
        }
    }

    /// <summary>
    /// Appends a copy of the message: chunks first, then the envelope and the records of its state, which
    /// are written under the entry's lock so that a concurrent postsuper -h or -H is neither lost nor undone.
    /// Until the commit the old records stand; after it, recovery takes the last envelope. Returns where the
    /// copy is, or null when the message was removed meanwhile (its copied chunks are then garbage).
    /// </summary>
    private async Task<(long Last, long Envelope, ContentChunk[] Chunks)?> CopyForwardAsync(QueueEntry entry,
        CancellationToken cancellationToken)
    {
        (byte[] envelope, int length) = await ReadRecordAsync(entry.EnvelopeAddress, cancellationToken);
        QueuedMessage message = EnvelopeRecord.Read(envelope.AsSpan(0, length));
        var chunks = new ContentChunk[message.Chunks.Count];
        for (int i = 0; i < chunks.Length; i++)
        {
            (byte[] chunk, int chunkLength) = await ReadRecordAsync(message.Chunks[i].Address, cancellationToken);
            chunks[i] = message.Chunks[i] with { Address = Append(chunk.AsSpan(0, chunkLength)) };
        }
        EnvelopeRecord.Relocate(envelope.AsSpan(0, length), chunks);
        lock (entry)
        {
            if (!_index.TryGetValue(entry.Id, out QueueEntry? current) || current != entry || entry.Removing)
            {
                return null;
            }
            long envelopeAddress = Append(envelope.AsSpan(0, length));
            long last = envelopeAddress;
            for (int r = 0; r < entry.Done.Length; r++)
            {
                if (entry.Done[r])
                {
                    last = AppendStatus(entry.Id, r, DeliveryStatus.Sent, default, "");
                }
                else if (entry.Reasons[r] is string reason)
                {
                    last = AppendStatus(entry.Id, r, DeliveryStatus.Deferred, entry.NextAttempt, reason);
                }
            }
            if (entry.Hold)
            {
                last = Append(StatusRecord.Hold(entry.Id, true));
            }
            if (entry.Filter is { } filter)
            {
                last = Append(StatusRecord.Filter(entry.Id, filter));
            }
            if (entry.Warned)
            {
                last = Append(StatusRecord.Warned(entry.Id));
            }
            if (entry.Attempts > 0)
            {
                last = Append(StatusRecord.Attempts(entry.Id, entry.Attempts));
            }
            return (last, envelopeAddress, chunks);
        }
    }
}
