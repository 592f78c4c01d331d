using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Microsoft.Win32.SafeHandles;

namespace Edge.Delivery;

/// <summary>
/// The owner and mode of an open file (statx(2) on its descriptor, so that what is checked is what was opened):
/// local(8) ignores a .forward file that is not a regular file, is owned by someone else or is world-writable.
/// </summary>
[UnsupportedOSPlatform("windows")]
internal readonly partial record struct FileStatus(uint Uid, uint Mode)
{
    public bool IsRegular => (Mode & 0xF000) == 0x8000;

    public bool IsWorldWritable => (Mode & 0x2) != 0;

    public bool IsExecutable => (Mode & 0x49) != 0;

    public static FileStatus Of(SafeFileHandle handle)
    {
        const int AtEmptyPath = 0x1000;
        const uint BasicStats = 0x7ff;
        // struct statx has the same layout on every architecture: stx_uid at 20, stx_mode (16 bits) at 28.
        byte[] buffer = new byte[256];
        if (Statx((int)handle.DangerousGetHandle(), "", AtEmptyPath, BasicStats, buffer) != 0)
        {
            throw new IOException($"cannot stat: {Marshal.GetLastPInvokeErrorMessage()}");
        }
        return new FileStatus(BitConverter.ToUInt32(buffer, 20), BitConverter.ToUInt16(buffer, 28));
    }

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int directory, string path, int flags, uint mask, byte[] buffer);
}
