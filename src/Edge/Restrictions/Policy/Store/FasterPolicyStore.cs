using System.Collections.Concurrent;
using Edge.Logging;
using FASTER.core;
using Session = FASTER.core.ClientSession<string, Edge.Restrictions.Policy.Store.StoredValue, Edge.Restrictions.Policy.Store.IncrementInput,
    Edge.Restrictions.Policy.Store.StoredValue, FASTER.core.Empty, Edge.Restrictions.Policy.Store.FasterStoreFunctions>;

namespace Edge.Restrictions.Policy.Store;

/// <summary>
/// <c>edge_policy_store = faster:DIR</c> (the default, under queue_directory): a FasterKV in DIR, so greylisted
/// triplets and rate counters outlive a restart. Writes reach memory at once and disk with the next checkpoint,
/// taken every <see cref="CheckpointInterval"/> when something changed and when Edge stops: a crash forgets at
/// most the last few seconds (a greylisted client is greylisted once more). When the log has grown past
/// <see cref="CompactAbove"/>, what expired is compacted away. One Edge process uses a directory at a time.
/// </summary>
internal sealed class FasterPolicyStore : IPolicyStore
{
    private static readonly TimeSpan CheckpointInterval = TimeSpan.FromSeconds(5);

    /// <summary>Log bytes (about 24 per record) past which expired records are compacted away.</summary>
    private const long CompactAbove = 64L << 20;

    private readonly string _directory;
    private readonly FileStream _lock;
    private readonly FasterKVSettings<string, StoredValue> _settings;
    private readonly FasterKV<string, StoredValue> _kv;
    private readonly FasterStoreFunctions _functions = new();
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
        _settings = new FasterKVSettings<string, StoredValue>(directory)
        {
            IndexSize = 1L << 22,
            PageSize = 1L << 18,
            MemorySize = 1L << 22,
            SegmentSize = 1L << 26,
            KeySerializer = () => new StoreKeySerializer(),
            ValueSerializer = () => new StoreValueSerializer(),
        };
        _kv = new FasterKV<string, StoredValue>(_settings);
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
        _checkpoints = CheckpointAsync();
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
        Session session = Rent();
        try
        {
            IncrementInput input = default;
            StoredValue? value = null;
            Status status = session.Read(ref key, ref input, ref value!);
            if (status.IsPending)
            {
                (status, value) = Completed(session);
            }
            Return(session);
            return status.Found && value is not null && value.Expires > Now() ? value.Value : null;
        }
        catch (Exception e)
        {
            throw Failed(session, e);
        }
    }

    private void Set(string key, string value, double seconds)
    {
        var stored = new StoredValue(value, Expiry(Now(), seconds));
        Session session = Rent();
        try
        {
            session.Upsert(ref key, ref stored);
            Return(session);
        }
        catch (Exception e)
        {
            throw Failed(session, e);
        }
        Interlocked.Increment(ref _writes);
    }

    private long Increment(string key, double seconds)
    {
        long now = Now();
        var input = new IncrementInput(now, Expiry(now, seconds));
        StoredValue? counted = null;
        Session session = Rent();
        try
        {
            if (session.RMW(ref key, ref input, ref counted!).IsPending)
            {
                (_, counted) = Completed(session);
            }
            Return(session);
        }
        catch (Exception e)
        {
            throw Failed(session, e);
        }
        Interlocked.Increment(ref _writes);
        return counted is not null && long.TryParse(counted.Value, out long count) ? count : 0;
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
        return _sessions.TryPop(out Session? session) ? session : _kv.For(_functions).NewSession<FasterStoreFunctions>();
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
    private static (Status Status, StoredValue? Value) Completed(Session session)
    {
        session.CompletePendingWithOutputs(out CompletedOutputIterator<string, StoredValue, IncrementInput, StoredValue, Empty> outputs, wait: true);
        using (outputs)
        {
            return outputs.Next() ? (outputs.Current.Status, outputs.Current.Output) : (default, null);
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
                _kv.Log.Compact<IncrementInput, StoredValue, Empty, FasterStoreFunctions, ExpiredValues>(_functions,
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
