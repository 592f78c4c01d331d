using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Edge.Queue;

/// <summary>How a reservation of disk space went.</summary>
internal enum Reservation : byte
{
    Reserved,
    /// <summary>The file system has no room for it (ENOSPC, EDQUOT).</summary>
    NoSpace,
    /// <summary>The file system cannot reserve space ahead of writing (no fallocate), so nothing is held back.</summary>
    Unsupported,
}

/// <summary>The queue file system's free space, and space set aside in a file before it is written.</summary>
internal static partial class DiskSpace
{
    private const int FallocKeepSize = 1;
    private const int ENOSPC = 28;
    private const int EDQUOT = 122;
    private const int ENOSYS = 38;
    private const int EOPNOTSUPP = 95;

    /// <summary>Bytes an unprivileged writer may still use on the file system that holds <paramref name="path"/>.</summary>
    public static long Available(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            return new DriveInfo(path).AvailableFreeSpace;
        }
        // statvfs itself: looked up at MAIL FROM, where DriveInfo would allocate.
        if (Statvfs(path, out StatvfsResult result) != 0)
        {
            throw new IOException($"cannot read the free space of {path}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        }
        return (long)Math.Min(result.FreeBlocksUnprivileged * result.FragmentSize, long.MaxValue);
    }

    /// <summary>glibc's struct statvfs on 64-bit Linux, with room to spare at its end.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct StatvfsResult
    {
        public ulong BlockSize;
        public ulong FragmentSize;
        public ulong Blocks;
        public ulong FreeBlocks;
        public ulong FreeBlocksUnprivileged;
        public ulong Files;
        public ulong FreeFiles;
        public ulong FreeFilesUnprivileged;
        public ulong FileSystemId;
        public ulong Flags;
        public ulong NameMax;
        public Spare Reserved;
    }

    [System.Runtime.CompilerServices.InlineArray(8)]
    private struct Spare
    {
        private ulong _element;
    }

    [LibraryImport("libc", EntryPoint = "statvfs", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statvfs(string path, out StatvfsResult result);

    /// <summary>
    /// Allocates <paramref name="length"/> bytes of <paramref name="file"/> from <paramref name="offset"/> without
    /// changing its size, so that writing there later cannot fail for want of space.
    /// </summary>
    public static Reservation Reserve(SafeFileHandle file, long offset, long length)
    {
        if (!OperatingSystem.IsLinux())
        {
            return Reservation.Unsupported;
        }
        if (Fallocate((int)file.DangerousGetHandle(), FallocKeepSize, offset, length) == 0)
        {
            return Reservation.Reserved;
        }
        int errno = Marshal.GetLastPInvokeError();
        return errno is ENOSPC or EDQUOT ? Reservation.NoSpace
            : errno is EOPNOTSUPP or ENOSYS ? Reservation.Unsupported
            : throw new IOException($"cannot reserve queue log space: {Marshal.GetPInvokeErrorMessage(errno)}");
    }

    /// <summary>Whether an exception from a write means the file system is full (or the quota used up).</summary>
    public static bool IsFull(Exception e) => (e.HResult & 0xFFFF) is ENOSPC or EDQUOT;

    [LibraryImport("libc", EntryPoint = "fallocate", SetLastError = true)]
    private static partial int Fallocate(int fd, int mode, long offset, long length);
}
