using System.Buffers;
using System.Buffers.Binary;
using Edge.Mail;

namespace Edge.Queue;

/// <summary>
/// Streams one message's content into the log in chunk records of at most <see cref="ChunkPayload"/> bytes
/// as it arrives, so no message is ever whole in memory. The session owns one writer and reuses it; the
/// chunk buffer comes from the pool for the duration of one message, so idle sessions hold none.
/// <para>
/// When the log's memory is full (clients stream content faster than the disk takes it), a chunk waits in
/// <see cref="Backlogged"/> records until <see cref="DrainAsync"/>: FASTER's own append would spin on the session's
/// thread until a page reached the disk, and with every thread spinning no new client would be greeted. A session's
/// backlog is at most one turn of its content (SmtpSession.FairShare).
/// </para>
/// </summary>
internal sealed class MessageWriter : IContentSink, IDisposable
{
    /// <summary>A chunk record, header and all, fills a 32 KiB buffer from the pool exactly.</summary>
    public const int ChunkPayload = 32 * 1024 - PayloadOffset;

    /// <summary>
    /// Nearly 1 GiB of content: the envelope record lists every chunk and must fit one log page, whatever
    /// message_size_limit says (0 means no limit in Postfix).
    /// </summary>
    public const int MaxChunks = 32 * 1024;
    private const int PayloadOffset = RecordHeader.Size + 4;

    private readonly QueueStore _store;
    private byte[] _buffer = [];
    private ContentChunk[] _chunks = new ContentChunk[4];
    private int _chunkCount;
    private int _filled;
    private QueueId _id;
    private bool _discarding;
    private bool _pinned;

    /// <summary>Sealed chunk records the log had no room for yet, oldest first, with their index in the chunk list.</summary>
    private readonly Queue<(byte[] Record, int Length, int Chunk)> _backlog = new();

    public MessageWriter(QueueStore store) => _store = store;

    /// <summary>Content bytes accepted so far.</summary>
    public long Size { get; private set; }

    /// <summary>The limit passed; what follows is counted but no longer stored.</summary>
    public bool Overflowed { get; private set; }

    /// <summary>Writing to the queue failed; the message cannot be accepted.</summary>
    public Exception? Failure { get; private set; }

    public long Limit { get; private set; }

    public ReadOnlySpan<ContentChunk> Chunks => _chunks.AsSpan(0, _chunkCount);

    /// <summary>Chunk records wait for room in the log: the session must await <see cref="DrainAsync"/>.</summary>
    public bool Backlogged => _backlog.Count > 0;

    /// <summary>Content written but not yet in a chunk record (all of it, while <see cref="Chunks"/> is empty).</summary>
    public ReadOnlySpan<byte> Unwritten => _buffer.AsSpan(PayloadOffset, _filled);

    public void Begin(QueueId id, long limit)
    {
        _id = id;
        // Until the message is queued or given up, the log must keep everything it writes from here on:
        // pinned at the tail before the first record, so that no truncation can pass a record not yet pinned.
        _store.Pin(id, _store.TailAddress);
        _pinned = true;
        if (_buffer.Length == 0)
        {
            _buffer = ArrayPool<byte>.Shared.Rent(PayloadOffset + ChunkPayload);
        }
        DropBacklog();
        Limit = limit <= 0 ? long.MaxValue : limit;
        Size = 0;
        _filled = 0;
        _chunkCount = 0;
        Overflowed = false;
        Failure = null;
        _discarding = false;
    }

    /// <summary>
    /// Starts the content again (a mail filter changed it): the chunks written so far stay in the log, pinned, and are
    /// left behind once the message's envelope names the new ones.
    /// </summary>
    public void Restart()
    {
        DropBacklog();
        Size = 0;
        _filled = 0;
        _chunkCount = 0;
        Overflowed = false;
        _discarding = Failure is not null;
    }

    /// <summary>Stops storing: the rest of the transaction is read and thrown away (size or bare-LF reject).</summary>
    public void Discard() => _discarding = true;

    public void Write(ReadOnlySpan<byte> content)
    {
        Size += content.Length;
        if (Size > Limit || (_chunkCount >= MaxChunks && !_discarding))
        {
            Overflowed = true;
            _discarding = true;
        }
        if (_discarding)
        {
            return;
        }
        while (!content.IsEmpty)
        {
            int room = ChunkPayload - _filled;
            int n = Math.Min(room, content.Length);
            content[..n].CopyTo(_buffer.AsSpan(PayloadOffset + _filled));
            _filled += n;
            content = content[n..];
            if (_filled == ChunkPayload)
            {
                Flush();
            }
        }
    }

    /// <summary>Writes the last partial chunk; after this <see cref="Chunks"/> lists the whole content.</summary>
    public void Complete()
    {
        if (_filled > 0)
        {
            Flush();
        }
        // Producers other than sessions (bounces, local submission, a filter's new content) wait here for room, as
        // FASTER's append does; a session has drained its backlog before.
        while (_backlog.TryPeek(out (byte[] Record, int Length, int Chunk) pending) && Failure is null)
        {
            long address;
            try
            {
                address = _store.Append(pending.Record.AsSpan(0, pending.Length));
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Failed(e);
                return;
            }
            Settle(pending, address);
        }
    }

    /// <summary>Appends the backlogged chunk records as the log makes room for them.</summary>
    public async ValueTask DrainAsync(CancellationToken cancellationToken)
    {
        while (_backlog.TryPeek(out (byte[] Record, int Length, int Chunk) pending) && Failure is null)
        {
            long address;
            try
            {
                address = await _store.AppendAsync(pending.Record.AsMemory(0, pending.Length), cancellationToken);
            }
            catch (Exception e) when (e is not OutOfMemoryException and not OperationCanceledException)
            {
                Failed(e);
                return;
            }
            Settle(pending, address);
        }
    }

    /// <summary>A backlogged record is in the log at <paramref name="address"/>: its chunk says so.</summary>
    private void Settle((byte[] Record, int Length, int Chunk) pending, long address)
    {
        _backlog.Dequeue();
        ArrayPool<byte>.Shared.Return(pending.Record);
        _chunks[pending.Chunk] = _chunks[pending.Chunk] with { Address = address };
    }

    private void Flush()
    {
        Span<byte> record = _buffer.AsSpan(0, PayloadOffset + _filled);
        RecordHeader.Write(record, RecordType.Chunk, _id);
        BinaryPrimitives.WriteInt32LittleEndian(record[RecordHeader.Size..], _chunkCount);
        RecordHeader.Seal(record);
        long address = -1;
        try
        {
            if (!_store.TakesContent)
            {
                throw new IOException(_store.Broken ? "the queue log is broken by an earlier disk error"
                    : "not enough free space in the queue file system");
            }
            if (_backlog.Count > 0 || !_store.TryAppend(record, out address))
            {
                _backlog.Enqueue((_buffer, record.Length, _chunkCount));
                _buffer = ArrayPool<byte>.Shared.Rent(PayloadOffset + ChunkPayload);
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Failed(e);
            return;
        }
        if (_chunkCount == _chunks.Length)
        {
            Array.Resize(ref _chunks, _chunks.Length * 2);
        }
        _chunks[_chunkCount++] = new ContentChunk(address, _filled);
        _filled = 0;
    }

    /// <summary>The queue could not take a chunk (disk error, shutting down): the session answers 451.</summary>
    private void Failed(Exception e)
    {
        Failure = e;
        _discarding = true;
        _filled = 0;
        DropBacklog();
    }

    private void DropBacklog()
    {
        while (_backlog.TryDequeue(out (byte[] Record, int Length, int Chunk) pending))
        {
            ArrayPool<byte>.Shared.Return(pending.Record);
        }
    }

    /// <summary>Gives the chunk buffer back to the pool between messages.</summary>
    public void Release()
    {
        DropBacklog();
        if (_pinned)
        {
            _store.Unpin(_id);
            _pinned = false;
        }
        if (_buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
        }
    }

    public void Dispose() => Release();
}
