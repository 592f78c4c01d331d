using System.Buffers;
using System.Buffers.Binary;
using Edge.Mail;

namespace Edge.Queue;

/// <summary>
/// Streams one message's content into the log in chunk records of at most <see cref="ChunkPayload"/> bytes
/// as it arrives, so no message is ever whole in memory. The session owns one writer and reuses it; the
/// chunk buffer comes from the pool for the duration of one message, so idle sessions hold none.
/// </summary>
internal sealed class MessageWriter : IContentSink, IDisposable
{
    public const int ChunkPayload = 32 * 1024;

    /// <summary>
    /// 1 GiB of content: the envelope record lists every chunk and must fit one log page, whatever
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

    public MessageWriter(QueueStore store) => _store = store;

    /// <summary>Content bytes accepted so far.</summary>
    public long Size { get; private set; }

    /// <summary>The limit passed; what follows is counted but no longer stored.</summary>
    public bool Overflowed { get; private set; }

    /// <summary>Writing to the queue failed; the message cannot be accepted.</summary>
    public Exception? Failure { get; private set; }

    public long Limit { get; private set; }

    public ReadOnlySpan<ContentChunk> Chunks => _chunks.AsSpan(0, _chunkCount);

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
    }

    private void Flush()
    {
        Span<byte> record = _buffer.AsSpan(0, PayloadOffset + _filled);
        RecordHeader.Write(record, RecordType.Chunk, _id);
        BinaryPrimitives.WriteInt32LittleEndian(record[RecordHeader.Size..], _chunkCount);
        RecordHeader.Seal(record);
        long address;
        try
        {
            if (!_store.TakesContent)
            {
                throw new IOException(_store.Broken ? "the queue log is broken by an earlier disk error"
                    : "not enough free space in the queue file system");
            }
            address = _store.Append(record);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The queue could not take the chunk (disk error, shutting down): the session answers 451.
            Failure = e;
            _discarding = true;
            _filled = 0;
            return;
        }
        if (_chunkCount == _chunks.Length)
        {
            Array.Resize(ref _chunks, _chunks.Length * 2);
        }
        _chunks[_chunkCount++] = new ContentChunk(address, _filled);
        _filled = 0;
    }

    /// <summary>Gives the chunk buffer back to the pool between messages.</summary>
    public void Release()
    {
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
