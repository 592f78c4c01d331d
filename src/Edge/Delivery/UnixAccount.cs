using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace Edge.Delivery;

/// <summary>
/// Accounts from the system's password and group databases (getpwnam, getgrnam, so NSS sources count too):
/// the user= of pipe(8), and the recipients of local(8).
/// </summary>
[UnsupportedOSPlatform("windows")]
internal static partial class UnixAccount
{
    /// <summary>"user" or "user:group"; null with a reason when either is unknown.</summary>
    public static (uint Uid, uint Gid)? Find(string value, out string? error)
    {
        error = null;
        int colon = value.IndexOf(':');
        string user = colon < 0 ? value : value[..colon];
        if (Lookup(user) is not { } account)
        {
            error = $"unknown user name: {user}";
            return null;
        }
        (uint uid, uint gid, _) = account;
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

    /// <summary>A local user's uid, gid and home directory; null when the system has no such user.</summary>
    public static (uint Uid, uint Gid, string Home)? Lookup(string user)
    {
        IntPtr passwd = GetPwNam(user);
        if (passwd == IntPtr.Zero)
        {
            return null;
        }
        // struct passwd: pw_name, pw_passwd, pw_uid, pw_gid, pw_gecos, pw_dir, pw_shell.
        uint uid = (uint)Marshal.ReadInt32(passwd, 2 * IntPtr.Size);
        uint gid = (uint)Marshal.ReadInt32(passwd, 2 * IntPtr.Size + 4);
        string home = Marshal.PtrToStringUTF8(Marshal.ReadIntPtr(passwd, 4 * IntPtr.Size)) ?? "/";
        return (uid, gid, home);
    }

    public static uint EffectiveUid => GetEUid();

    [LibraryImport("libc", EntryPoint = "getpwnam", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr GetPwNam(string name);

    [LibraryImport("libc", EntryPoint = "getgrnam", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr GetGrNam(string name);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEUid();
}
