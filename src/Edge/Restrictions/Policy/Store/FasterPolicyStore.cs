using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Text;
using Edge.Logging;
using FASTER.core;
using Session = FASTER.core.ClientSession<FASTER.core.SpanByte, FASTER.core.SpanByte, Edge.Restrictions.Policy.Store.IncrementInput,
    Edge.Restrictions.Policy.Store.StoreOutput, FASTER.core.Empty, Edge.Restrictions.Policy.Store.FasterStoreFunctions>;

namespace Edge.Restrictions.Policy.Store;

/// <summary>
/// <c>edge_policy_store = faster:DIR</c> (the default, under queue_directory): a FasterKV in DIR, so greylisted
/// triplets and rate counters outlive a restart. Writes reach memory at once and disk with the next checkpoint,
/// taken every <see cref="CheckpointInterval"/> when something changed and when Edge stops: a crash forgets at
/// most the last few seconds (a greylisted client is greylisted once more). When the log has grown past
/// <see cref="CompactAbove"/>, what expired is compacted away. One Edge process uses a directory at a time.
/// Keys and values are bytes in FASTER's native pages (<see cref="StoredValue"/>): FASTER fills pages of objects by
/// copying raw bytes over their references, which a concurrent garbage collection can catch half-done and crash on.
/// </summary>
internal sealed class FasterPolicyStore : IPolicyStore
{
    private static readonly TimeSpan CheckpointInterval = TimeSpan.FromSeconds(5);

    private const int SegmentSizeBits = 26;

    /// <summary>Log bytes past which expired records are compacted away.</summary>
    private const long CompactAbove = 64L << 20;

    private readonly string _directory;
    private readonly FileStream _lock;
    private readonly FasterKVSettings<SpanByte, SpanByte> _settings;
    private readonly FasterKV<SpanByte, SpanByte> _kv;
    private readonly FasterStoreFunctions _functions = new();
    private readonly SessionVariableLengthStructSettings<SpanByte, IncrementInput> _counterLength = new() { valueLength = new CounterLength() };
    private readonly ConcurrentStack<Session> _sessions = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _checkpoints;
    private long _writes;

    /// <summary>
    /// Held (read) by each operation and (write) by <see cref="DisposeAsync"/>: a call still running when the server stops
    /// (past its shutdown grace) must find the store closed, never a FasterKV whose memory is already freed.
    /// </summary>
    private readonly ReaderWriterLockSlim _open = new(LockRecursionPolicy.SupportsRecursion);
    private bool _disposed;
    private int _closing;

    private FasterPolicyStore(string directory, FileStream lockFile)
    {
        _directory = directory;
        _lock = lockFile;
        ForgetObjectLayout(directory);
        _settings = new FasterKVSettings<SpanByte, SpanByte>(directory)
        {
            IndexSize = 1L << 22,
            PageSize = 1L << 18,
            MemorySize = 1L << 22,
            SegmentSize = 1L << SegmentSizeBits,
        };
        _kv = new FasterKV<SpanByte, SpanByte>(_settings);
        if (Directory.Exists(Path.Combine(directory, "checkpoints")) && Directory.EnumerateFileSystemEntries(Path.Combine(directory, "checkpoints")).Any())
        {
            try
            {
                _kv.Recover();
            }
            catch (FasterException e)
            {
                MailLog.Warning($"edge_policy_store faster:{directory}: its last checkpoint cannot be read ({e.Message}); policy scripts start with an empty store");
            }
        }
        RemoveTruncatedSegments(directory, _kv.Log.BeginAddress);
        _checkpoints = CheckpointAsync();
    }

    /// <summary>
    /// A store written by an Edge that kept objects in FASTER (it has an object log) cannot be read as bytes: what it
    /// held, greylisted triplets and rate counters that a restart may forget anyway, is dropped with a warning.
    /// </summary>
    private static void ForgetObjectLayout(string directory)
    {
        string[] objectLog = Directory.GetFiles(directory, "hlog.obj.log*");
        if (objectLog.Length == 0)
        {
            return;
        }
        MailLog.Warning($"edge_policy_store faster:{directory}: written by an earlier Edge in a layout this one does not read; policy scripts start with an empty store");
        foreach (string file in objectLog.Concat(Directory.GetFiles(directory, "hlog.log*")))
        {
            File.Delete(file);
        }
        string checkpoints = Path.Combine(directory, "checkpoints");
        if (Directory.Exists(checkpoints))
        {
            Directory.Delete(checkpoints, recursive: true);
        }
    }

    /// <summary>
    /// FASTER deletes the segment files that compaction left behind the log's begin address in the background: one that
    /// Edge stopped before it was deleted stays on disk, and is removed when the store opens again.
    /// </summary>
    private static void RemoveTruncatedSegments(string directory, long beginAddress)
    {
        foreach (string file in Directory.GetFiles(directory, "hlog.log.*"))
        {
            if (long.TryParse(Path.GetExtension(file).AsSpan(1), out long segment) && segment < beginAddress >> SegmentSizeBits)
            {
                File.Delete(file);
            }
        }
    }

    /// <summary>Opens (or creates) the store in <paramref name="directory"/>; null with the reason when it cannot be used.</summary>
    public static FasterPolicyStore? Open(string directory, out string? error)
    {
        error = null;
        string lockPath = Path.Combine(directory, "lock");
        try
        {
            Directory.CreateDirectory(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error = $"{directory}: {e.Message}";
            return null;
        }
        try
        {
            return new FasterPolicyStore(directory, new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
        }
        catch (IOException) when (File.Exists(lockPath))
        {
            error = $"{directory} is in use by another Edge process; give each its own directory, or let them share a redis: store";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error = $"{directory}: {e.Message}";
        }
        return null;
    }

    public ValueTask<string?> GetAsync(string key) => new(Get(key));

    public ValueTask SetAsync(string key, string value, double seconds)
    {
        Set(key, value, seconds);
        return ValueTask.CompletedTask;
    }

    public ValueTask<long> IncrementAsync(string key, double seconds) => new(Increment(key, seconds));

    private string? Get(string key)
    {
        (Status status, StoreOutput output) = ReadOrIncrement(key, new IncrementInput(Now(), 0), increment: false);
        return status.Found ? output.Value : null;
    }

    private unsafe void Set(string key, string value, double seconds)
    {
        byte[] buffer = Encode(key, value, Expiry(Now(), seconds), out int keyLength, out int valueLength);
        Session session = Rent();
        try
        {
            fixed (byte* bytes = buffer)
            {
                var stored = SpanByte.FromPointer(bytes, keyLength);
                var storedValue = SpanByte.FromPointer(bytes + keyLength, valueLength);
                session.Upsert(ref stored, ref storedValue);
            }
            Return(session);
        }
        catch (Exception e)
        {
            throw Failed(session, e);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        Interlocked.Increment(ref _writes);
    }

    private long Increment(string key, double seconds)
    {
        long now = Now();
        (_, StoreOutput output) = ReadOrIncrement(key, new IncrementInput(now, Expiry(now, seconds)), increment: true);
        Interlocked.Increment(ref _writes);
        return output.Count;
    }

    /// <summary>A read, or an increment (RMW), of <paramref name="key"/>, waiting for it when the record is on disk.</summary>
    private unsafe (Status Status, StoreOutput Output) ReadOrIncrement(string key, IncrementInput input, bool increment)
    {
        StoreOutput output = default;
        byte[] buffer = Encode(key, out int keyLength);
        Session session = Rent();
        try
        {
            Status status;
            fixed (byte* bytes = buffer)
            {
                var stored = SpanByte.FromPointer(bytes, keyLength);
                status = increment ? session.RMW(ref stored, ref input, ref output) : session.Read(ref stored, ref input, ref output);
            }
            if (status.IsPending)
            {
                (status, output) = Completed(session);
            }
            Return(session);
            return (status, output);
        }
        catch (Exception e)
        {
            throw Failed(session, e);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static byte[] Encode(string key, out int keyLength) => Encode(key, "", 0, out keyLength, out _);

    /// <summary>The key's bytes, then the value's as the record holds it, in a rented buffer.</summary>
    private static byte[] Encode(string key, string value, long expires, out int keyLength, out int valueLength)
    {
        keyLength = Encoding.UTF8.GetByteCount(key);
        int textLength = Encoding.UTF8.GetByteCount(value);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(keyLength + StoredValue.ExpiresLength + textLength);
        Encoding.UTF8.GetBytes(key, buffer);
        BinaryPrimitives.WriteInt64LittleEndian(buffer.AsSpan(keyLength), expires);
        Encoding.UTF8.GetBytes(value, buffer.AsSpan(keyLength + StoredValue.ExpiresLength));
        valueLength = StoredValue.ExpiresLength + textLength;
        return buffer;
    }

    private static long Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    private static long Expiry(long now, double seconds) => now + (long)(Math.Max(0, seconds) * 1000);

    /// <summary>A session of the pool (a session serves one thread at a time), with the store held open until <see cref="Return"/> or <see cref="Failed"/>.</summary>
    private Session Rent()
    {
        _open.EnterReadLock();
        if (_disposed)
        {
            _open.ExitReadLock();
            throw new PolicyStoreUnavailableException($"faster:{_directory}: the store is closed (Edge is stopping)");
        }
        return _sessions.TryPop(out Session? session) ? session : _kv.For(_functions).NewSession<FasterStoreFunctions>(sessionVariableLengthStructSettings: _counterLength);
    }

    private void Return(Session session)
    {
        _sessions.Push(session);
        _open.ExitReadLock();
    }

    /// <summary>FASTER's failures (a disk error, a damaged log) are the store's: the session is dropped and the call answers edge_policy_store_failure_action.</summary>
    private PolicyStoreUnavailableException Failed(Session session, Exception e)
    {
        session.Dispose();
        _open.ExitReadLock();
        return new PolicyStoreUnavailableException($"faster:{_directory}: {e.Message}", e);
    }

    /// <summary>The outcome of an operation that had to read the record from disk.</summary>
    private static (Status Status, StoreOutput Output) Completed(Session session)
    {
        session.CompletePendingWithOutputs(out CompletedOutputIterator<SpanByte, SpanByte, IncrementInput, StoreOutput, Empty> outputs, wait: true);
        using (outputs)
        {
            return outputs.Next() ? (outputs.Current.Status, outputs.Current.Output) : (default, default);
        }
    }

    private async Task CheckpointAsync()
    {
        using var timer = new PeriodicTimer(CheckpointInterval);
        long written = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token))
            {
                written = await CheckpointIfChangedAsync(written);
            }
        }
        catch (OperationCanceledException)
        {
        }
        await CheckpointIfChangedAsync(written);
    }

    /// <summary>Compacts when the log has grown, and checkpoints when anything was written since <paramref name="written"/>; the new count.</summary>
    private async Task<long> CheckpointIfChangedAsync(long written)
    {
        long writes = Interlocked.Read(ref _writes);
        if (writes == written)
        {
            return written;
        }
        try
        {
            if (_kv.Log.TailAddress - _kv.Log.BeginAddress > CompactAbove)
            {
                _kv.Log.Compact<IncrementInput, StoreOutput, Empty, FasterStoreFunctions, ExpiredValues>(_functions,
                    new ExpiredValues(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()), _kv.Log.SafeReadOnlyAddress, CompactionType.Scan);
            }
            await _kv.TakeFullCheckpointAsync(CheckpointType.FoldOver);
        }
        catch (Exception e) when (e is FasterException or IOException)
        {
            MailLog.Warning($"edge_policy_store faster:{_directory}: checkpoint failed: {e.Message}");
        }
        return writes;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _closing, 1) == 1)
        {
            return;
        }
        _stopping.Cancel();
        await _checkpoints;
        _open.EnterWriteLock();
        try
        {
            _disposed = true;
            while (_sessions.TryPop(out Session? session))
            {
                session.Dispose();
            }
            _kv.Dispose();
            _settings.Dispose();
            _stopping.Dispose();
        }
        finally
        {
            _open.ExitWriteLock();
        }
        await _lock.DisposeAsync();
    }
}
