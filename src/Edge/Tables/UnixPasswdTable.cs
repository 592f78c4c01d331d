using System.Runtime.InteropServices;

namespace Edge.Tables;

/// <summary>
/// unix:passwd.byname — the system's password database by user name (getpwnam_r, so NSS sources count too),
/// the first table of Postfix's default local_recipient_maps. The value is the passwd(5) line, as Postfix's.
/// </summary>
internal sealed partial class UnixPasswdTable : ILookupTable
{
    public static UnixPasswdTable Instance { get; } = new();

    private const int Found = 0;
    private const int BufferTooSmall = 34; // ERANGE

    public unsafe string? Lookup(string key)
    {
        if (key.Length == 0 || key.Contains('@'))
        {
            return null;
        }
        Span<nint> passwd = stackalloc nint[8];
        for (int size = 1024; size <= 1 << 20; size *= 4)
        {
            byte[] buffer = new byte[size];
            fixed (nint* entry = passwd)
            fixed (byte* storage = buffer)
            {
                int error = GetPwNamR(key, entry, storage, (nuint)size, out nint result);
                if (error == BufferTooSmall)
                {
                    continue;
                }
                if (error != Found || result == 0)
                {
                    return null;
                }
                // struct passwd: pw_name, pw_passwd, pw_uid and pw_gid (two ints in one word), then pw_gecos, pw_dir, pw_shell.
                uint uid = (uint)Marshal.ReadInt32(result, 2 * IntPtr.Size);
                uint gid = (uint)Marshal.ReadInt32(result, 2 * IntPtr.Size + 4);
                string Field(int word) => Marshal.PtrToStringUTF8(Marshal.ReadIntPtr(result, word * IntPtr.Size)) ?? "";
                return $"{Field(0)}:{Field(1)}:{uid}:{gid}:{Field(3)}:{Field(4)}:{Field(5)}";
            }
        }
        return null;
    }

    [LibraryImport("libc", EntryPoint = "getpwnam_r", StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int GetPwNamR(string name, nint* passwd, byte* buffer, nuint size, out nint result);
}
