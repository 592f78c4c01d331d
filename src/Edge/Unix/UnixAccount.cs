using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace Edge.Unix;

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
        UnixUser? account;
        try
        {
            account = Lookup(user);
        }
        catch (IOException e)
        {
            error = $"cannot look up {user}: {e.Message}";
            return null;
        }
        if (account is null)
        {
            error = $"unknown user name: {user}";
            return null;
        }
        (uint uid, uint gid) = (account.Uid, account.Gid);
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

    /// <summary>A local user's entry; null when the system has no such user; IOException when the database cannot answer.</summary>
    public static UnixUser? Lookup(string user) =>
        Read((IntPtr entry, IntPtr buffer, nuint size, out IntPtr result) => GetPwNamR(user, entry, buffer, size, out result));

    /// <summary>The entry of the user with <paramref name="uid"/>; null when the system has none.</summary>
    public static UnixUser? Lookup(uint uid) =>
        Read((IntPtr entry, IntPtr buffer, nuint size, out IntPtr result) => GetPwUidR(uid, entry, buffer, size, out result));

    private delegate int Reentrant(IntPtr entry, IntPtr buffer, nuint size, out IntPtr result);

    /// <summary>
    /// Through the reentrant getpw*_r calls, since deliveries look users up on several threads at once and getpwnam's
    /// static entry would be overwritten under a reader.
    /// </summary>
    private static UnixUser? Read(Reentrant lookup)
    {
        const int EPERM = 1, ENOENT = 2, ESRCH = 3, EBADF = 9, ERANGE = 34;
        for (int size = 4096; ; size *= 4)
        {
            IntPtr entry = Marshal.AllocHGlobal(16 * IntPtr.Size);
            IntPtr buffer = Marshal.AllocHGlobal(size);
            try
            {
                int error = lookup(entry, buffer, (nuint)size, out IntPtr passwd);
                if (error == ERANGE && size < 1 << 20)
                {
                    continue;
                }
                // "Not found" may come as 0 or as one of these (getpwnam_r(3)); anything else is a database that cannot answer.
                if (passwd == IntPtr.Zero)
                {
                    return error is 0 or ENOENT or ESRCH or EBADF or EPERM ? null : throw new IOException(Marshal.GetPInvokeErrorMessage(error));
                }
                // struct passwd: pw_name, pw_passwd, pw_uid, pw_gid, pw_gecos, pw_dir, pw_shell.
                string name = Marshal.PtrToStringUTF8(Marshal.ReadIntPtr(passwd)) ?? "";
                uint uid = (uint)Marshal.ReadInt32(passwd, 2 * IntPtr.Size);
                uint gid = (uint)Marshal.ReadInt32(passwd, 2 * IntPtr.Size + 4);
                string home = Marshal.PtrToStringUTF8(Marshal.ReadIntPtr(passwd, 3 * IntPtr.Size + 8)) ?? "/";
                string shell = Marshal.PtrToStringUTF8(Marshal.ReadIntPtr(passwd, 4 * IntPtr.Size + 8)) ?? "";
                return new UnixUser(name, uid, gid, home, shell);
            }
            finally
            {
                Marshal.FreeHGlobal(buffer);
                Marshal.FreeHGlobal(entry);
            }
        }
    }

    public static uint EffectiveUid => GetEUid();

    [LibraryImport("libc", EntryPoint = "getpwnam_r", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int GetPwNamR(string name, IntPtr entry, IntPtr buffer, nuint size, out IntPtr result);

    [LibraryImport("libc", EntryPoint = "getpwuid_r")]
    private static partial int GetPwUidR(uint uid, IntPtr entry, IntPtr buffer, nuint size, out IntPtr result);

    [LibraryImport("libc", EntryPoint = "getgrnam", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr GetGrNam(string name);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEUid();
}

/// <summary>One entry of the password database.</summary>
internal sealed record UnixUser(string Name, uint Uid, uint Gid, string Home, string Shell);
