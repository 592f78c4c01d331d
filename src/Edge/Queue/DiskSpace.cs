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

    /// <summary>Bytes an unprivileged writer may still use on the file system that holds <paramref name="path"/> (statvfs).</summary>
    public static long Available(string path) => new DriveInfo(path).AvailableFreeSpace;

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
