namespace Edge.Queue;

/// <summary>Whether the queue can take a new message now.</summary>
internal enum QueueRoom : byte
{
    Enough,
    /// <summary>The file system is too full (queue_minfree, 1.5 times message_size_limit, or the log's own reserve).</summary>
    Short,
    /// <summary>The log can no longer be made durable: nothing is taken until the server is restarted.</summary>
    Broken,
}

/// <summary>
/// The queue and a full disk. New mail is refused before the disk is full, as Postfix's smtpd does at MAIL FROM,
/// and no content is written once the log could not set aside its next segment, so that what delivery must write
/// (outcomes, removals, notices) always has room and a delivered message is never delivered again.
/// </summary>
internal sealed partial class QueueStore
{
    /// <summary>queue_minfree: the free bytes below which no new mail is taken.</summary>
    public long MinFree { get; set; }

    /// <summary>Postfix's smtpd_space_multf: the free space a message may need, in message_size_limits.</summary>
    private const double SpaceMultiple = 1.5;

    /// <summary>The free space is looked up at most this often (statvfs), not at every MAIL FROM.</summary>
    private const long FreeSpaceInterval = 100;

    private long _free = long.MaxValue;
    private long _freeCheckedAt = -FreeSpaceInterval;

    /// <summary>The log can no longer be made durable (a disk error): no mail is taken or delivered until a restart.</summary>
    public bool Broken => _device.Broken.IsCancellationRequested;

    /// <summary>A log write waits for the disk to have room: what is appended now is not durable until it has.</summary>
    public bool WritesStalled => _device.WritesStalled;

    /// <summary>Whether message content may be written now: not into the space kept for delivery's records.</summary>
    public bool TakesContent => !_device.ShortOfSpace && !_device.WritesStalled && !Broken;

    /// <summary>Postfix's smtpd_check_queue(): whether a message of up to <paramref name="messageSizeLimit"/> bytes (0: no limit) may start.</summary>
    public QueueRoom RoomFor(long messageSizeLimit)
    {
        if (Broken)
        {
            return QueueRoom.Broken;
        }
        if (!TakesContent)
        {
            return QueueRoom.Short;
        }
        long free = FreeBytes();
        return MinFree >= free || messageSizeLimit >= free / SpaceMultiple ? QueueRoom.Short : QueueRoom.Enough;
    }

    /// <summary>The free bytes in the queue's file system, at most <see cref="FreeSpaceInterval"/> ms old.</summary>
    public long FreeBytes()
    {
        long now = Environment.TickCount64;
        if (now - Volatile.Read(ref _freeCheckedAt) >= FreeSpaceInterval)
        {
            Volatile.Write(ref _free, DiskSpace.Available(Directory));
            Volatile.Write(ref _freeCheckedAt, now);
        }
        return Volatile.Read(ref _free);
    }

    /// <summary>The log's storage, whose failures (<see cref="LogFileDevice.Break"/>) end the queue's durability.</summary>
    internal LogFileDevice Device => _device;

    /// <summary>The server stops: writes waiting for space fail now, so that nobody waits for them any longer.</summary>
    public void StopWaitingForSpace() => _device.GiveUp();
}
