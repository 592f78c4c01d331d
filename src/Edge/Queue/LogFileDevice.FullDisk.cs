using Edge.Logging;
using FASTER.core;

namespace Edge.Queue;

/// <summary>
/// A full file system must not lose what was delivered: FASTER gives up on a log for good at its first failed
/// write. So each segment's space is set aside (fallocate) before it is written, and the next segment's as soon as
/// the log enters one; while the next cannot be set aside the device is short of space and the queue takes no new
/// mail, so that delivery outcomes, removals and notices always have the rest of the segment to go to. A write
/// that still finds the disk full waits and is tried again each second, until it succeeds or the server stops.
/// </summary>
internal sealed partial class LogFileDevice
{
    private static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(1);

    private readonly record struct PendingWrite(IntPtr Source, int Segment, ulong Destination, uint Length,
        DeviceIOCompletionCallback Callback, object Context);

    private readonly List<PendingWrite> _stalled = [];
    // Held by a retry pass and by GiveUp, so that no stalled write is called back twice.
    private readonly object _retrying = new();
    private readonly HashSet<int> _reserved = [];
    private readonly Timer _retry;
    private int _tailSegment = -1;
    private bool _reservationUnsupported;
    private bool _givenUp;
    private bool _shortOfSpace;
    private bool _disposed;

    /// <summary>The space of the segment after the one being written could not be set aside: take no new mail.</summary>
    public bool ShortOfSpace => Volatile.Read(ref _shortOfSpace);

    /// <summary>A write is waiting for the disk to have room: nothing written since is durable yet.</summary>
    public bool WritesStalled
    {
        get
        {
            lock (_stalled)
            {
                return _stalled.Count > 0;
            }
        }
    }

    /// <summary>
    /// The server is stopping: writes waiting for space fail now, and so does every later one that finds the disk
    /// full, so that the commits waiting for them end (in failure) instead of holding up the stop.
    /// </summary>
    public void GiveUp()
    {
        lock (_retrying)
        {
            PendingWrite[] failed;
            lock (_stalled)
            {
                _givenUp = true;
                failed = [.. _stalled];
                _stalled.Clear();
            }
            foreach (PendingWrite write in failed)
            {
                write.Callback(NoSpaceError, 0, write.Context);
            }
        }
    }

    private const uint NoSpaceError = 28;
    private const uint IoError = 5;

    private readonly CancellationTokenSource _broken = new();

    /// <summary>
    /// Cancelled when the log can no longer be made durable (a failed fsync, a disk error): what waits for a commit
    /// stops waiting, and nothing is written or committed any more until the server is restarted.
    /// </summary>
    public CancellationToken Broken => _broken.Token;

    public void Break(Exception e)
    {
        lock (_broken)
        {
            if (_broken.IsCancellationRequested)
            {
                return;
            }
            MailLog.Warning($"queue log cannot be made durable: {e.Message}: no mail is accepted or delivered until Edge is restarted", "cleanup");
            _broken.Cancel();
        }
    }

    public void ThrowIfBroken()
    {
        if (_broken.IsCancellationRequested)
        {
            throw new IOException("the queue log is broken by an earlier disk error");
        }
    }

    /// <summary>The server is stopping and writes no longer wait for space (<see cref="GiveUp"/>).</summary>
    public bool GivenUp => Volatile.Read(ref _givenUp);

    /// <summary>Queues a write behind one that waits for space, so that writes land in their order once there is room.</summary>
    private bool WaitBehindStalledWrites(PendingWrite write)
    {
        lock (_stalled)
        {
            if (_stalled.Count == 0 || _givenUp)
            {
                return false;
            }
            _stalled.Add(write);
            return true;
        }
    }

    /// <summary>Writes, and calls back unless the disk is full and the write is to wait for the next retry.</summary>
    private unsafe bool TryWrite(PendingWrite write, bool firstTry)
    {
        uint error = 0;
        try
        {
            RandomAccess.Write(Segment(write.Segment), new ReadOnlySpan<byte>((void*)write.Source, (int)write.Length),
                (long)write.Destination);
            lock (_unsyncedLock)
            {
                _unsynced.Add(write.Segment);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            lock (_stalled)
            {
                if (DiskSpace.IsFull(e) && !_givenUp)
                {
                    if (firstTry)
                    {
                        if (_stalled.Count == 0)
                        {
                            MailLog.Warning($"queue log write failed: {e.Message}; waiting for space (no mail is accepted or delivered meanwhile)", "cleanup");
                        }
                        _stalled.Add(write);
                    }
                    return false;
                }
            }
            error = ErrorCode(e);
            // FASTER gives up on the log at a failed write; so does Edge, and says so.
            if (!DiskSpace.IsFull(e))
            {
                Break(e);
            }
        }
        write.Callback(error, error == 0 ? write.Length : 0, write.Context);
        return true;
    }

    /// <summary>
    /// Each second: the writes that waited for space, in their order, and the next segment's space. On a timer thread,
    /// where an exception would end the process: nothing escapes, and nothing is done once the device is disposed.
    /// </summary>
    private void Retry()
    {
        if (Volatile.Read(ref _disposed))
        {
            return;
        }
        try
        {
            RetryStalledWrites();
            if (ShortOfSpace)
            {
                ReserveAhead();
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            MailLog.Warning($"queue log: retrying a write or setting space aside failed: {e.Message}", "cleanup");
        }
    }

    private void RetryStalledWrites()
    {
        lock (_retrying)
        {
            // New stalled writes only join at the end, and only this pass (or GiveUp) takes any away.
            PendingWrite[] waiting;
            lock (_stalled)
            {
                waiting = [.. _stalled];
            }
            int written = 0;
            while (written < waiting.Length && TryWrite(waiting[written], firstTry: false))
            {
                written++;
            }
            if (written == 0)
            {
                return;
            }
            bool resumed;
            lock (_stalled)
            {
                _stalled.RemoveRange(0, written);
                resumed = _stalled.Count == 0;
            }
            if (resumed)
            {
                MailLog.Info("queue log writes resumed: the disk has room again", "cleanup");
            }
        }
    }

    /// <summary>
    /// The log writes into <paramref name="segmentId"/>: its space and the next one's are set aside first (once per
    /// segment, on the flush that enters it), so that whether the queue is short of space is known before any
    /// content goes into the segment.
    /// </summary>
    private void EnterSegment(int segmentId)
    {
        lock (_reserved)
        {
            if (segmentId <= _tailSegment)
            {
                return;
            }
            _tailSegment = segmentId;
        }
        Reserve(segmentId);
        ReserveAhead();
    }

    private void ReserveAhead()
    {
        int next;
        lock (_reserved)
        {
            next = _tailSegment + 1;
        }
        bool noRoom = Reserve(next) == Reservation.NoSpace;
        if (noRoom == Volatile.Read(ref _shortOfSpace))
        {
            return;
        }
        Volatile.Write(ref _shortOfSpace, noRoom);
        if (noRoom)
        {
            MailLog.Warning($"not enough free space in the queue file system to set aside the next {SegmentSize >> 20} MiB of queue log: new mail is refused until there is", "cleanup");
        }
        else
        {
            MailLog.Info("the queue file system has room again: new mail is accepted", "cleanup");
        }
    }

    private Reservation Reserve(int segmentId)
    {
        lock (_reserved)
        {
            if (_reserved.Contains(segmentId) || _reservationUnsupported)
            {
                return Reservation.Reserved;
            }
        }
        Reservation result;
        try
        {
            result = DiskSpace.Reserve(Segment(segmentId), 0, SegmentSize);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            MailLog.Warning(e.Message, "cleanup");
            result = Reservation.NoSpace;
        }
        lock (_reserved)
        {
            if (result == Reservation.Reserved)
            {
                _reserved.Add(segmentId);
            }
            else if (result == Reservation.Unsupported && !_reservationUnsupported)
            {
                _reservationUnsupported = true;
                MailLog.Warning("the queue file system cannot set space aside (fallocate): when it is full, deliveries may not be recorded and may be repeated", "cleanup");
            }
        }
        return result;
    }
}
