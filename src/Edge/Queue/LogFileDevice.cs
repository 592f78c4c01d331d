using System.Collections.Concurrent;
using FASTER.core;
using Microsoft.Win32.SafeHandles;

namespace Edge.Queue;

/// <summary>
/// The queue log's storage: one file per segment (queue.log.0, queue.log.1 …), written through the page cache
/// and made durable by <see cref="Sync"/>, which the commit manager calls once per group commit before it
/// writes the commit record. FASTER's managed device instead opens its files write-through and also
/// fsyncs after every page write, which makes each flush wait for the disk several times.
/// </summary>
internal sealed partial class LogFileDevice : StorageDeviceBase
{
    private readonly ConcurrentDictionary<int, SafeFileHandle> _segments = new();
    // The segments written since the last sync (almost always just the one at the tail), and the set a
    // sync swaps in: no allocation per group commit.
    private HashSet<int> _unsynced = [];
    private HashSet<int> _syncing = [];
    private readonly object _syncOrder = new();
    private readonly object _unsyncedLock = new();
    private bool _directoryUnsynced;

    public LogFileDevice(string fileName) : base(fileName, 512, Devices.CAPACITY_UNSPECIFIED)
    {
        FindSegments();
        _retry = new Timer(_ => Retry(), null, RetryInterval, RetryInterval);
    }

    /// <summary>The segments already on disk, as FASTER's own devices find them at recovery.</summary>
    private void FindSegments()
    {
        string directory = Path.GetDirectoryName(FileName)!;
        string prefix = Path.GetFileName(FileName) + ".";
        var ids = Directory.Exists(directory)
            ? Directory.GetFiles(directory, prefix + "*")
                .Select(f => int.TryParse(Path.GetFileName(f).AsSpan(prefix.Length), out int id) ? id : -1)
                .Where(id => id >= 0).Order().ToList()
            : [];
        if (ids.Count > 0)
        {
            startSegment = ids[0];
            endSegment = ids[^1];
        }
    }

    private SafeFileHandle Segment(int segmentId) =>
        _segments.TryGetValue(segmentId, out SafeFileHandle? handle) ? handle : OpenSegment(segmentId);

    /// <summary>Opens a segment once (a handle opened twice would leak), creating it when it is new.</summary>
    private SafeFileHandle OpenSegment(int segmentId)
    {
        lock (_segments)
        {
            if (_segments.TryGetValue(segmentId, out SafeFileHandle? open))
            {
                return open;
            }
            string path = $"{FileName}.{segmentId}";
            bool created = !File.Exists(path);
            SafeFileHandle handle = File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite);
            if (created)
            {
                // Its name must reach the disk before anything written in it is acknowledged: the next Sync does it.
                Volatile.Write(ref _directoryUnsynced, true);
            }
            _segments[segmentId] = handle;
            return handle;
        }
    }

    public override void WriteAsync(IntPtr sourceAddress, int segmentId, ulong destinationAddress,
        uint numBytesToWrite, DeviceIOCompletionCallback callback, object context)
    {
        HandleCapacity(segmentId);
        if (_broken.IsCancellationRequested)
        {
            callback(IoError, 0, context);
            return;
        }
        EnterSegment(segmentId);
        var write = new PendingWrite(sourceAddress, segmentId, destinationAddress, numBytesToWrite, callback, context);
        if (!WaitBehindStalledWrites(write))
        {
            TryWrite(write, firstTry: true);
        }
    }

    public override unsafe void ReadAsync(int segmentId, ulong sourceAddress, IntPtr destinationAddress,
        uint readLength, DeviceIOCompletionCallback callback, object context)
    {
        uint error = 0;
        int read = 0;
        try
        {
            read = RandomAccess.Read(Segment(segmentId), new Span<byte>((void*)destinationAddress, (int)readLength),
                (long)sourceAddress);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error = ErrorCode(e);
        }
        callback(error, (uint)read, context);
    }

    /// <summary>
    /// Makes everything written so far durable: fsync of each segment written since the last call, and of the
    /// directory when a segment was created since.
    /// </summary>
    public void Sync()
    {
        lock (_syncOrder)
        {
            if (Volatile.Read(ref _directoryUnsynced))
            {
                Volatile.Write(ref _directoryUnsynced, false);
                DirectorySync.Flush(Path.GetDirectoryName(Path.GetFullPath(FileName))!);
            }
            HashSet<int> syncing;
            lock (_unsyncedLock)
            {
                (syncing, _unsynced, _syncing) = (_unsynced, _syncing, _unsynced);
            }
            foreach (int segmentId in syncing)
            {
                if (_segments.TryGetValue(segmentId, out SafeFileHandle? handle))
                {
                    RandomAccess.FlushToDisk(handle);
                }
            }
            syncing.Clear();
        }
    }

    public override long GetFileSize(int segment) => RandomAccess.GetLength(Segment(segment));

    public override void RemoveSegment(int segment)
    {
        lock (_reserved)
        {
            _reserved.Remove(segment);
        }
        if (_segments.TryRemove(segment, out SafeFileHandle? handle))
        {
            handle.Dispose();
        }
        lock (_unsyncedLock)
        {
            _unsynced.Remove(segment);
        }
        File.Delete($"{FileName}.{segment}");
    }

    public override void RemoveSegmentAsync(int segment, AsyncCallback callback, IAsyncResult result)
    {
        RemoveSegment(segment);
        callback(result);
    }

    public override void Dispose()
    {
        Volatile.Write(ref _disposed, true);
        _retry.Dispose();
        GiveUp();
        _broken.Dispose();
        foreach (SafeFileHandle handle in _segments.Values)
        {
            handle.Dispose();
        }
        _segments.Clear();
    }

    private static uint ErrorCode(Exception e) => (uint)(e.HResult & 0xFFFF) is var code and not 0 ? code : uint.MaxValue;
}
