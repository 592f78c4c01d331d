using System.Buffers;
using System.Collections.Concurrent;
using Edge.Logging;
using FASTER.core;
using Edge.Mail;

namespace Edge.Queue;

/// <summary>
/// The durable queue: one FasterLog under queue_directory/log holding content chunks and envelope records.
/// A message is queued once its envelope record is committed; until then its chunks are garbage that
/// recovery ignores. The in-memory index maps queue IDs to envelope addresses.
/// </summary>
internal sealed partial class QueueStore : IAsyncDisposable
{
    private readonly FasterLog _log;
    private readonly LogFileDevice _device;
    private readonly SingleFileCommitManager _commits;
    private readonly GroupCommitter? _committer;
    private readonly ConcurrentDictionary<QueueId, QueueEntry> _index = new();
    private readonly QueueLock? _lock;

    public string Directory { get; }

    private QueueStore(string directory, (FasterLog Log, LogFileDevice Device, SingleFileCommitManager Commits) log,
        QueueLock? queueLock, bool readOnly)
    {
        Directory = directory;
        _log = log.Log;
        _device = log.Device;
        _commits = log.Commits;
        _lock = queueLock;
        if (!readOnly)
        {
            _committer = new GroupCommitter(_log, e => MailLog.Warning($"queue commit failed: {e.Message}", "cleanup"));
            _device.Broken.Register(FailWaitingCommits);
        }
    }

    /// <summary>
    /// The log broke (a failed fsync or commit record): the commit under way may never end by itself, since FASTER
    /// ignores a failure of the commit record. One more record and commit make FASTER see the broken device, and it
    /// fails every commit waiting, and every later one. Off the thread that broke the log, which may be FASTER's own.
    /// </summary>
    private void FailWaitingCommits() => ThreadPool.QueueUserWorkItem(_ =>
    {
        try
        {
            Append(StatusRecord.Attempts(default, 0));
            _log.Commit();
        }
        catch (Exception e) when (e is CommitFailureException or IOException or ObjectDisposedException)
        {
            // Already failed: nothing waits any more.
        }
    });

    public int Count => _index.Count;

    /// <summary>
    /// Opens the queue for the server: takes the queue lock, recovers the log and rebuilds the index.
    /// </summary>
    public static Task<QueueStore> OpenAsync(string queueDirectory, CancellationToken cancellationToken = default) =>
        OpenAsync(queueDirectory, readOnly: false, cancellationToken);

    /// <summary>
    /// Opens a stopped server's queue for the tools. They hold the queue lock while they read, so a server
    /// cannot start on the same queue meanwhile, and they never append or commit.
    /// </summary>
    public static Task<QueueStore> OpenForToolAsync(string queueDirectory, CancellationToken cancellationToken = default) =>
        OpenAsync(queueDirectory, readOnly: true, cancellationToken);

    private static async Task<QueueStore> OpenAsync(string queueDirectory, bool readOnly, CancellationToken cancellationToken)
    {
        QueueLock queueLock = QueueLock.Acquire(queueDirectory);
        try
        {
            var store = new QueueStore(queueDirectory, await OpenLogAsync(queueDirectory, cancellationToken), queueLock, readOnly);
            await store.RecoverAsync(cancellationToken);
            return store;
        }
        catch
        {
            queueLock.Dispose();
            throw;
        }
    }

    private const int LogMemoryBits = 24;

    /// <summary>Bytes of log FASTER keeps in memory: pages it allocates as the log first grows, then reuses.</summary>
    internal const long LogMemoryBytes = 1L << LogMemoryBits;

    /// <summary>Creates a directory and those above it that are missing, each made durable in its parent.</summary>
    private static void CreateDurably(string directory)
    {
        if (System.IO.Directory.Exists(directory))
        {
            return;
        }
        string parent = Path.GetDirectoryName(directory)!;
        CreateDurably(parent);
        System.IO.Directory.CreateDirectory(directory);
        DirectorySync.Flush(parent);
    }

    private const int SegmentSizeBits = 24;

    private static async Task<(FasterLog, LogFileDevice, SingleFileCommitManager)> OpenLogAsync(string queueDirectory,
        CancellationToken cancellationToken)
    {
        string logDirectory = Path.Combine(queueDirectory, "log");
        CreateDurably(Path.GetFullPath(logDirectory));
        var device = new LogFileDevice(Path.Combine(logDirectory, "queue.log"));
        var commits = new SingleFileCommitManager(Path.Combine(logDirectory, "queue.commit"), device);
        var settings = new FasterLogSettings
        {
            LogDevice = device,
            LogCommitManager = commits,
            // 1 MiB pages hold many chunk records; 16 MiB in memory lets DATA of many sessions stream in
            // while a commit is writing.
            PageSizeBits = 20,
            MemorySizeBits = LogMemoryBits,
            // 16 MiB segment files: the unit in which disk space is given back once messages are gone.
            SegmentSizeBits = SegmentSizeBits,
        };
        FasterLog log = await FasterLog.CreateAsync(settings, cancellationToken);
        return (log, device, commits);
    }

    /// <summary>
    /// Appends a record to log memory; it becomes durable with the next commit that covers it. Throws
    /// <see cref="ObjectDisposedException"/> once the queue is closing: FASTER's log pages are pinned memory that
    /// closing frees, and a write into them afterwards (a session or delivery outliving the shutdown grace) would
    /// corrupt the process's heap.
    /// </summary>
    public long Append(ReadOnlySpan<byte> record)
    {
        using LogUse use = EnterLog();
        return _log.Enqueue(record);
    }

    /// <summary><see cref="Append"/> when the log's memory has room for the record now; false when it has not.</summary>
    public bool TryAppend(ReadOnlySpan<byte> record, out long address)
    {
        using LogUse use = EnterLog();
        return _log.TryEnqueue(record, out address);
    }

    /// <summary><see cref="Append"/> that waits for room in the log's memory (a page flushed) without holding a thread.</summary>
    public async ValueTask<long> AppendAsync(ReadOnlyMemory<byte> record, CancellationToken cancellationToken)
    {
        using LogUse use = EnterLog();
        return await _log.EnqueueAsync(record, cancellationToken);
    }

    /// <summary>One record read from the log, under the same guard as <see cref="Append"/>.</summary>
    private async ValueTask<(byte[] Record, int Length)> ReadRecordAsync(long address, CancellationToken cancellationToken)
    {
        using LogUse use = EnterLog();
        return await _log.ReadAsync(address, token: cancellationToken);
    }

    /// <summary>Appends and reads in progress; <see cref="DisposeAsync"/> waits for them before it frees the log.</summary>
    private int _inLog;
    private int _closed;

    /// <summary>A call inside the log, counted in <see cref="_inLog"/> until disposed.</summary>
    private readonly struct LogUse(QueueStore store) : IDisposable
    {
        public void Dispose() => Interlocked.Decrement(ref store._inLog);
    }

    private LogUse EnterLog()
    {
        Interlocked.Increment(ref _inLog);
        if (Volatile.Read(ref _closed) != 0)
        {
            Interlocked.Decrement(ref _inLog);
            throw new ObjectDisposedException(nameof(QueueStore), "the queue is closed: Edge is stopping");
        }
        return new LogUse(this);
    }

    /// <summary>
    /// Writes the envelope record after the message's chunks and returns its address. The message is queued
    /// once <see cref="WaitCommittedAsync"/> says the commit covers that address; only then may the session
    /// say 250, and only then does it enter the index (<see cref="AddQueued"/>).
    /// </summary>
    public long AppendMessage(Envelope envelope, EnvelopeRecord.Client client, MessageWriter content, bool hold = false)
    {
        content.Complete();
        if (content.Failure is null && !TakesContent)
        {
            throw new IOException("not enough free space in the queue file system");
        }
        if (content.Failure is not null)
        {
            throw new IOException($"content chunk write failed: {content.Failure.Message}", content.Failure);
        }
        int upper = EnvelopeRecord.MeasureUpperBound(envelope, client, content.Chunks.Length);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(upper);
        try
        {
            int length = EnvelopeRecord.Write(buffer, envelope, client, content.Size, content.Chunks);
            // On hold from the start (a HOLD action): the hold record goes first, so that the commit that covers the
            // envelope covers it too (recovery applies it whatever its place).
            if (hold)
            {
                Append(StatusRecord.Hold(envelope.Id, true));
            }
            // The content filter, likewise.
            if (envelope.Filter is { } filter)
            {
                Append(StatusRecord.Filter(envelope.Id, filter));
            }
            return Append(buffer.AsSpan(0, length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public ValueTask WaitCommittedAsync(long address, CommitWaiter waiter) => _committer!.WaitCommittedAsync(address, waiter);

    public void AddQueued(QueueId id, long envelopeAddress, int recipientCount, ReadOnlySpan<ContentChunk> chunks, bool hold = false,
        string? filter = null)
    {
        var entry = new QueueEntry(id, envelopeAddress, recipientCount, chunks) { Hold = hold, Filter = filter };
        _index[id] = entry;
        Interlocked.Add(ref _queuedBytes, entry.ContentBytes);
        Arrived?.Invoke();
    }

    private readonly ConcurrentDictionary<QueueId, long> _inProgress = new();

    /// <summary>A message being received keeps the log from where it started on.</summary>
    public void Pin(QueueId id, long firstAddress) => _inProgress[id] = firstAddress;

    /// <summary>Where the next record will go.</summary>
    public long TailAddress => _log.TailAddress;

    public void Unpin(QueueId id) => _inProgress.TryRemove(id, out _);

    /// <summary>Raised when a new message is queued, so that the queue manager looks at once.</summary>
    public event Action? Arrived;

    /// <summary>The messages the queue holds, for the queue manager.</summary>
    public IEnumerable<QueueEntry> Entries => _index.Values;

    /// <summary>Writes one recipient's outcome to the log (durable with the next group commit).</summary>
    public long AppendStatus(QueueId id, int recipient, DeliveryStatus status, DateTimeOffset nextAttempt, string reason) =>
        Append(StatusRecord.Create(id, recipient, status, nextAttempt, reason));

    /// <summary>
    /// The message is finished: its removal record. It stays in the index until that record is on disk (the caller
    /// commits, then <see cref="Forget"/>s it), so that a removal the disk never took leaves the message queued
    /// rather than gone now and back after a restart.
    /// </summary>
    public long AppendRemoval(QueueEntry entry)
    {
        // Under the entry's lock: a copy forward in progress either wrote its envelope before this record, which
        // then removes the copy too, or sees that the message is going and writes none.
        lock (entry)
        {
            entry.Removing = true;
            return Append(StatusRecord.Removed(entry.Id));
        }
    }

    /// <summary>The message's removal record is on disk: it leaves the index.</summary>
    public void Forget(QueueEntry entry)
    {
        if (_index.TryRemove(new KeyValuePair<QueueId, QueueEntry>(entry.Id, entry)))
        {
            Interlocked.Add(ref _queuedBytes, -entry.ContentBytes);
        }
    }

    public QueueEntry? Entry(QueueId id) => _index.GetValueOrDefault(id);

    /// <summary>postsuper -h / -H: puts a message on hold or releases it; returns the record's address.</summary>
    public long SetHold(QueueEntry entry, bool hold)
    {
        lock (entry)
        {
            entry.Hold = hold;
            return Append(StatusRecord.Hold(entry.Id, hold));
        }
    }

    /// <summary>Records how many attempts the message has had, for its backoff after a restart.</summary>
    public long SetAttempts(QueueEntry entry, int attempts)
    {
        lock (entry)
        {
            entry.Attempts = attempts;
            return Append(StatusRecord.Attempts(entry.Id, attempts));
        }
    }

    /// <summary>Records that the sender got the delay warning; returns the record's address.</summary>
    public long SetWarned(QueueEntry entry)
    {
        lock (entry)
        {
            entry.Warned = true;
            return Append(StatusRecord.Warned(entry.Id));
        }
    }

    /// <summary>Waits until everything appended so far is on disk (for the tools' changes).</summary>
    public async Task CommitAsync(long address)
    {
        if (_committer is not null)
        {
            await _committer.WaitCommittedAsync(address, new CommitWaiter());
        }
    }

    /// <summary>A snapshot of the queue in arrival order, each message with its delivery state.</summary>
    public async Task<IReadOnlyList<(QueuedMessage Message, QueueEntry Entry)>> ListAsync(CancellationToken cancellationToken = default)
    {
        QueueEntry[] entries = [.. _index.Values];
        Array.Sort(entries, (a, b) => a.Id.CompareTo(b.Id));
        var messages = new List<(QueuedMessage, QueueEntry)>(entries.Length);
        foreach (QueueEntry entry in entries)
        {
            messages.Add((await ReadEnvelopeAsync(entry, cancellationToken), entry));
        }
        return messages;
    }

    public async Task<QueuedMessage?> FindAsync(QueueId id, CancellationToken cancellationToken = default) =>
        _index.TryGetValue(id, out QueueEntry? entry) ? await ReadEnvelopeAsync(entry, cancellationToken) : null;

    public async Task<QueuedMessage> ReadEnvelopeAsync(QueueEntry entry, CancellationToken cancellationToken = default)
    {
        (byte[] record, int length) = await ReadRecordAsync(entry.EnvelopeAddress, cancellationToken);
        return EnvelopeRecord.Read(record.AsSpan(0, length));
    }

    /// <summary>Copies a queued message's content, chunk by chunk, to <paramref name="output"/>.</summary>
    public async Task CopyContentAsync(QueuedMessage message, Stream output, CancellationToken cancellationToken = default)
    {
        foreach (ContentChunk chunk in message.Chunks)
        {
            (byte[] record, int length) = await ReadRecordAsync(chunk.Address, cancellationToken);
            if (!RecordHeader.IsIntact(record.AsSpan(0, length)))
            {
                throw new InvalidDataException($"{message.Id}: content chunk at log address {chunk.Address} is corrupt");
            }
            await output.WriteAsync(ChunkPayload(record, length), cancellationToken);
        }
    }

    /// <summary>
    /// A segment file shorter than the committed records it should hold (a file system that lost its tail) lost those
    /// records, acknowledged messages among them: the scan reads them as damaged or finds them missing, and this says
    /// where the file ends and how much of the committed log went with it.
    /// </summary>
    private void ReportShortSegments()
    {
        long tail = _log.TailAddress;
        // A log with no records (a new queue: FASTER's first address is past a header it never writes) needs no file.
        if (tail <= _log.BeginAddress)
        {
            return;
        }
        for (long segment = _log.BeginAddress >> SegmentSizeBits; segment <= (tail - 1) >> SegmentSizeBits; segment++)
        {
            long start = segment << SegmentSizeBits;
            long needed = Math.Min(tail - start, 1L << SegmentSizeBits);
            var file = new FileInfo(Path.Combine(Directory, "log", $"queue.log.{segment}"));
            long length = file.Exists ? file.Length : 0;
            if (length < needed)
            {
                MailLog.Warning($"queue log segment {file.Name} ends at offset {length}, before the end of its committed records at offset {needed}: " +
                    $"{needed - length} bytes of committed records are lost, and with them any message or status they held");
            }
        }
    }

    /// <summary>Where log address <paramref name="address"/> is on disk: its segment file under the queue directory, and the offset in it.</summary>
    internal static string PlaceOf(long address) => $"log/queue.log.{address >> SegmentSizeBits} offset {address & ((1L << SegmentSizeBits) - 1)}";

    /// <summary>How long a stop waits for the last commit, which a broken disk may never finish.</summary>
    private static readonly TimeSpan LastCommitLimit = TimeSpan.FromSeconds(10);

    private async Task RecoverAsync(CancellationToken cancellationToken)
    {
        var corrupt = new CorruptQueue(Directory);
        var recovery = new QueueRecovery(corrupt);
        ReportShortSegments();
        using (FasterLogScanIterator iterator = _log.Scan(_log.BeginAddress, _log.TailAddress))
        {
            await foreach ((byte[] entry, int length, long address, long _) in iterator.GetAsyncEnumerable(cancellationToken))
            {
                recovery.Add(entry.AsSpan(0, length), address);
            }
        }
        recovery.Finish();
        foreach (QueueEntry entry in recovery.Entries)
        {
            _index[entry.Id] = entry;
            _queuedBytes += entry.ContentBytes;
            QueueId.NotBefore(entry.Id);
        }
        foreach (QueueRecovery.Salvage salvage in recovery.Salvaged)
        {
            QueueId.NotBefore(salvage.Id);
            if (!corrupt.Has(salvage.Id))
            {
                await corrupt.SaveMessageAsync(salvage.Id, salvage.Envelope, ReadChunksAsync(salvage.Chunks, cancellationToken));
                MailLog.Warning(salvage.Warning);
            }
        }
    }

    /// <summary>
    /// The content of a message not yet queued, chunk by chunk, once its chunks are committed (the log reads only what
    /// is): how cleanup shows a message to mail filters and rewrites it for them.
    /// </summary>
    public async IAsyncEnumerable<ReadOnlyMemory<byte>> ReadContentAsync(ContentChunk[] chunks,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (ReadOnlyMemory<byte> payload in ReadChunksAsync([.. chunks.Select(c => c.Address)], cancellationToken))
        {
            yield return payload;
        }
    }

    /// <summary>The payload of each content chunk record at <paramref name="addresses"/>.</summary>
    private async IAsyncEnumerable<ReadOnlyMemory<byte>> ReadChunksAsync(IReadOnlyList<long> addresses,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (long address in addresses)
        {
            (byte[] record, int length) = await ReadRecordAsync(address, cancellationToken);
            yield return ChunkPayload(record, length);
        }
    }

    /// <summary>The content in a chunk record: after its header and its index in the message.</summary>
    private static ReadOnlyMemory<byte> ChunkPayload(byte[] record, int length) =>
        record.AsMemory(RecordHeader.Size + 4, length - RecordHeader.Size - 4);

    public async ValueTask DisposeAsync()
    {
        // From here no append or read starts; those in progress finish before the log's memory goes (writes waiting
        // for disk space fail first, so that an append waiting for log room ends too).
        Interlocked.Exchange(ref _closed, 1);
        _device.GiveUp();
        for (int waited = 0; Volatile.Read(ref _inLog) > 0; waited++)
        {
            if (waited == 3000)
            {
                MailLog.Warning("queue: a log append or read still runs 30 s after closing began; the log is closed under it", "cleanup");
                break;
            }
            await Task.Delay(10);
        }
        if (_committer is not null)
        {
            await _committer.DisposeAsync();
            try
            {
                await _log.CommitAsync(_device.Broken).AsTask().WaitAsync(LastCommitLimit);
            }
            catch (Exception e) when (e is CommitFailureException or IOException or OperationCanceledException or TimeoutException)
            {
                MailLog.Warning($"queue: the last commit failed ({GroupCommitter.Describe(e)}): what it was to record is not on disk", "cleanup");
            }
        }
        _log.Dispose();
        _device.Dispose();
        _commits.Dispose();
        _lock?.Dispose();
    }
}
