using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace Edge.Delivery.Pipe;

/// <summary>The uid and gid that pipe(8)'s user= attribute names, from the system's password and group databases.</summary>
[UnsupportedOSPlatform("windows")]
internal static partial class UnixAccount
{
    /// <summary>"user" or "user:group"; null with a reason when either is unknown.</summary>
    public static (uint Uid, uint Gid)? Find(string value, out string? error)
    {
        error = null;
        int colon = value.IndexOf(':');
        string user = colon < 0 ? value : value[..colon];
        IntPtr passwd = GetPwNam(user);
        if (passwd == IntPtr.Zero)
        {
            error = $"unknown user name: {user}";
            return null;
        }
        // struct passwd: pw_name, pw_passwd, then pw_uid and pw_gid.
        uint uid = (uint)Marshal.ReadInt32(passwd, 2 * IntPtr.Size);
        uint gid = (uint)Marshal.ReadInt32(passwd, 2 * IntPtr.Size + 4);
        if (colon >= 0)
        {
            IntPtr group = GetGrNam(value[(colon + 1)..]);
            if (group == IntPtr.Zero)
            {
                error = $"unknown group name: {value[(colon + 1)..]}";
                return null;
            }
            // struct group: gr_name, gr_passwd, then gr_gid.
            gid = (uint)Marshal.ReadInt32(group, 2 * IntPtr.Size);
        }
        return (uid, gid);
    }

    public static uint EffectiveUid => GetEUid();

    [LibraryImport("libc", EntryPoint = "getpwnam", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr GetPwNam(string name);

    [LibraryImport("libc", EntryPoint = "getgrnam", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr GetGrNam(string name);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEUid();
}
