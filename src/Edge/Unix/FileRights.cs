using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace Edge.Unix;

/// <summary>
/// File access with a user's rights, for the files local(8) reads and writes on a user's behalf (.forward,
/// :include:, /file destinations): Postfix switches its effective uid and gid for them, Edge switches only the
/// calling thread's file-system uid, gid and groups (setfsuid(2), setfsgid(2), and the raw setgroups system call,
/// which unlike the C library's wrapper changes one thread), for a synchronous action, and switches back before
/// the thread runs anything else. The kernel drops the root capabilities that bypass file permissions while the
/// file-system uid is not 0, so the action sees exactly what the user may see.
/// </summary>
[UnsupportedOSPlatform("windows")]
internal static partial class FileRights
{
    /// <summary>
    /// Runs <paramref name="action"/> with the rights of <paramref name="uid"/> and <paramref name="gid"/>; without root
    /// it runs with Edge's own rights, the only ones it has (callers that must not act as Edge check <see cref="CanAct"/>).
    /// </summary>
    public static T As<T>(uint uid, uint gid, Func<T> action)
    {
        if (!Environment.IsPrivilegedProcess || uid == 0)
        {
            return action();
        }
        long setGroups = SetGroupsCall();
        uint[] saved = new uint[Math.Max(0, GetGroups(0, []))];
        int count = GetGroups(saved.Length, saved);
        uint[] groups = [gid];
        if (count < 0 || Syscall(setGroups, 1, groups) != 0)
        {
            throw new IOException($"cannot set the groups of uid {uid}: {Marshal.GetLastPInvokeErrorMessage()}");
        }
        SetFsGid(gid);
        SetFsUid(uid);
        try
        {
            if (SetFsUid(uint.MaxValue) != uid)
            {
                throw new IOException($"cannot take the file rights of uid {uid}");
            }
            return action();
        }
        finally
        {
            SetFsUid(0);
            SetFsGid(0);
            // A thread left with a user's groups would give them to whatever runs on it next.
            if (Syscall(setGroups, count, saved) != 0 || SetFsUid(uint.MaxValue) != 0)
            {
                Environment.FailFast("cannot restore a delivery thread's file rights");
            }
        }
    }

    /// <summary>Whether Edge can act as <paramref name="uid"/>: as root, or as that user itself.</summary>
    public static bool CanAct(uint uid) => Environment.IsPrivilegedProcess || UnixAccount.EffectiveUid == uid;

    private static long SetGroupsCall() => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 116,
        Architecture.Arm64 => 159,
        var other => throw new PlatformNotSupportedException($"Edge cannot take a user's file rights on {other}"),
    };

    [LibraryImport("libc", EntryPoint = "setfsuid")]
    private static partial uint SetFsUid(uint uid);

    [LibraryImport("libc", EntryPoint = "setfsgid")]
    private static partial uint SetFsGid(uint gid);

    [LibraryImport("libc", EntryPoint = "getgroups")]
    private static partial int GetGroups(int size, uint[] groups);

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall(long number, long count, uint[] groups);
}
