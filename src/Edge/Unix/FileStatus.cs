using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Microsoft.Win32.SafeHandles;

namespace Edge.Unix;

/// <summary>
/// The owner, mode, inode and link count of a file (statx(2), whose layout is the same on every architecture): local(8)
/// ignores a .forward file that is not a regular file, is owned by someone else or is world-writable; pickup takes the
/// submitter from a maildrop file's owner, and refuses a file that is not the one its name names.
/// </summary>
[UnsupportedOSPlatform("windows")]
internal readonly partial record struct FileStatus(uint Uid, uint Mode, ulong Inode, uint Links, long Size, ulong Device)
{
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const int AtEmptyPath = 0x1000;
    private const uint BasicStats = 0x7ff;

    public bool IsRegular => (Mode & 0xF000) == 0x8000;

    /// <summary>A FIFO or socket: writing to one can block the writer for as long as its owner likes.</summary>
    public bool IsPipe => (Mode & 0xF000) is 0x1000 or 0xC000;

    public bool IsWorldWritable => (Mode & 0x2) != 0;

    public bool IsExecutable => (Mode & 0x49) != 0;

    /// <summary>The open file itself, so that what is checked is what was opened.</summary>
    public static FileStatus Of(SafeFileHandle handle) => Stat((int)handle.DangerousGetHandle(), "", AtEmptyPath);

    /// <summary>The name itself: a symbolic link is not followed.</summary>
    public static FileStatus OfName(string path) => Stat(AtFdCwd, path, AtSymlinkNoFollow);

    /// <summary>What the name leads to: symbolic links are followed (/var/mail → spool/mail).</summary>
    public static FileStatus OfTarget(string path) => Stat(AtFdCwd, path, 0);

    /// <summary>
    /// Opens a file to read without waiting on it: a FIFO or device someone put in its place does not block the reader
    /// (O_NONBLOCK, which does not change how a regular file reads), and never becomes the reader's terminal (O_NOCTTY).
    /// With <paramref name="noFollow"/> a symbolic link is not followed (O_NOFOLLOW, whose value differs on ARM).
    /// </summary>
    public static SafeFileHandle OpenToRead(string path, bool noFollow = false)
    {
        const int NonBlocking = 0x800, NoTerminal = 0x100, CloseOnExec = 0x80000;
        int flags = NonBlocking | NoTerminal | CloseOnExec | (noFollow ? NoFollow : 0);
        int descriptor = Open(path, flags);
        if (descriptor < 0)
        {
            throw Failure(Marshal.GetLastPInvokeError(), path);
        }
        return new SafeFileHandle(descriptor, ownsHandle: true);
    }

    private static int NoFollow => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 or Architecture.X86 => 0x20000,
        Architecture.Arm64 or Architecture.Arm => 0x8000,
        var other => throw new PlatformNotSupportedException($"O_NOFOLLOW is not known for {other}"),
    };

    /// <summary>ENOENT and ENOTDIR as FileNotFoundException, as .NET reports a missing file; anything else as IOException.</summary>
    private static IOException Failure(int error, string path)
    {
        string reason = Marshal.GetPInvokeErrorMessage(error);
        return error is 2 or 20 ? new FileNotFoundException(reason, path) : new IOException($"{path}: {reason}");
    }

    private static FileStatus Stat(int directory, string path, int flags)
    {
        // struct statx: stx_nlink at 16, stx_uid at 20, stx_mode (16 bits) at 28, stx_ino at 32, stx_size at 40,
        // stx_dev_major and stx_dev_minor at 136 and 140.
        byte[] buffer = new byte[256];
        if (Statx(directory, path, flags, BasicStats, buffer) != 0)
        {
            throw Failure(Marshal.GetLastPInvokeError(), path);
        }
        return new FileStatus(BitConverter.ToUInt32(buffer, 20), BitConverter.ToUInt16(buffer, 28), BitConverter.ToUInt64(buffer, 32),
            BitConverter.ToUInt32(buffer, 16), BitConverter.ToInt64(buffer, 40), BitConverter.ToUInt64(buffer, 136));
    }

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int directory, string path, int flags, uint mask, byte[] buffer);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);
}
