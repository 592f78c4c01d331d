using System.Buffers.Binary;
using Edge.Logging;
using FASTER.core;
using Microsoft.Win32.SafeHandles;

namespace Edge.Queue;

/// <summary>
/// FasterLog commit metadata in one file with two slots, write-through, each written only after the log
/// data it covers was synced to disk (<see cref="LogFileDevice.Sync"/>). FASTER's default manager creates,
/// writes and deletes a file for every commit; at thousands of group commits a second that is most of the
/// commit's cost and allocations. Each commit goes to the slot that does not hold the newest valid commit,
/// so a torn write can only damage an older one. Each slot is
/// [commit number: 8][length: 4][CRC-32C of the metadata: 4][metadata].
/// </summary>
internal sealed class SingleFileCommitManager : ILogCommitManager
{
    private const int SlotSize = 64 * 1024;
    private const int HeaderSize = 16;

    private readonly SafeFileHandle _file;
    private readonly LogFileDevice _log;
    private readonly byte[] _slot = new byte[SlotSize];
    private int _nextSlot;

    public SingleFileCommitManager(string path, LogFileDevice log)
    {
        _log = log;
        _file = File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None,
            FileOptions.WriteThrough);
        // Write-through makes the records durable, not the file's name: the directory entry too, once.
        DirectorySync.Flush(Path.GetDirectoryName(Path.GetFullPath(path))!);
        // Both slots' space now, so that a commit never needs a block a full disk cannot give.
        DiskSpace.Reserve(_file, 0, 2 * SlotSize);
        bool first = TryReadSlot(0, out long firstNum, out _);
        bool second = TryReadSlot(1, out long secondNum, out _);
        _nextSlot = first && (!second || firstNum > secondNum) ? 1 : 0;
    }

    public void Commit(long beginAddress, long untilAddress, byte[] commitMetadata, long commitNum, bool forceWriteMetadata)
    {
        if (commitMetadata.Length > SlotSize - HeaderSize)
        {
            throw new InvalidOperationException($"queue commit metadata of {commitMetadata.Length} bytes exceeds {SlotSize - HeaderSize}");
        }
        // Returning is what tells FASTER the commit is durable; an exception leaves it unfinished, never falsely
        // finished. An fsync that failed cannot be tried again (the kernel may have dropped the pages it could not
        // write), so the log is broken from then on.
        _log.ThrowIfBroken();
        try
        {
            // The data first: a commit record must never point at log pages that are not yet on disk.
            _log.Sync();
        }
        catch (IOException e)
        {
            _log.Break(e);
            throw;
        }
        lock (_slot)
        {
            BinaryPrimitives.WriteInt64LittleEndian(_slot, commitNum);
            BinaryPrimitives.WriteInt32LittleEndian(_slot.AsSpan(8), commitMetadata.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(_slot.AsSpan(12), Crc32C.Compute(commitMetadata));
            commitMetadata.CopyTo(_slot.AsSpan(HeaderSize));
            // A write-through write that found the disk full wrote nothing durable: it waits for space.
            for (bool reported = false; ; reported = true)
            {
                try
                {
                    RandomAccess.Write(_file, _slot.AsSpan(0, HeaderSize + commitMetadata.Length), _nextSlot * (long)SlotSize);
                    break;
                }
                catch (IOException e) when (DiskSpace.IsFull(e) && !_log.GivenUp)
                {
                    if (!reported)
                    {
                        MailLog.Warning($"queue commit record write failed: {e.Message}; trying again each second", "cleanup");
                    }
                    Thread.Sleep(RetryInterval);
                }
                catch (IOException e)
                {
                    _log.Break(e);
                    throw;
                }
            }
            _nextSlot ^= 1;
        }
    }

    private static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(1);

    public IEnumerable<long> ListCommits()
    {
        var commits = new List<long>(2);
        for (int slot = 0; slot < 2; slot++)
        {
            if (TryReadSlot(slot, out long commitNum, out _))
            {
                commits.Add(commitNum);
            }
        }
        commits.Sort((a, b) => b.CompareTo(a));
        return commits;
    }

    public byte[] GetCommitMetadata(long commitNum)
    {
        for (int slot = 0; slot < 2; slot++)
        {
            if (TryReadSlot(slot, out long number, out byte[]? metadata) && number == commitNum)
            {
                return metadata!;
            }
        }
        return null!;
    }

    public void RemoveCommit(long commitNum)
    {
        // Superseded slots are simply overwritten by later commits.
    }

    public void RemoveAllCommits()
    {
        lock (_slot)
        {
            RandomAccess.SetLength(_file, 0);
            _nextSlot = 0;
        }
    }

    public void OnRecovery(long commitNum)
    {
    }

    public void Dispose() => _file.Dispose();

    private bool TryReadSlot(int slot, out long commitNum, out byte[]? metadata)
    {
        commitNum = -1;
        metadata = null;
        Span<byte> header = stackalloc byte[HeaderSize];
        if (RandomAccess.Read(_file, header, slot * (long)SlotSize) < HeaderSize)
        {
            return false;
        }
        long number = BinaryPrimitives.ReadInt64LittleEndian(header);
        int length = BinaryPrimitives.ReadInt32LittleEndian(header[8..]);
        uint crc = BinaryPrimitives.ReadUInt32LittleEndian(header[12..]);
        if (length <= 0 || length > SlotSize - HeaderSize)
        {
            return false;
        }
        byte[] bytes = new byte[length];
        if (RandomAccess.Read(_file, bytes, slot * (long)SlotSize + HeaderSize) < length || Crc32C.Compute(bytes) != crc)
        {
            return false;
        }
        commitNum = number;
        metadata = bytes;
        return true;
    }
}
