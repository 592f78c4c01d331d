using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Edge.Unix;

namespace Edge.Delivery.Virtual;

/// <summary>
/// Who a mailbox belongs to, and how its files are made. For the mailboxes the mail system keeps (virtual_uid_maps'
/// and virtual_gid_maps' owners, a local user's spool file) Postfix's agents create as the mail system where the
/// user could not and hand over; Edge creates as itself and then hands the files and directories over with
/// chown(2) — only when running as root, since nobody else may give files away. For the files a user names (a
/// /file or maildir destination in an alias or .forward file) every step is taken with the user's own rights
/// (<see cref="Impersonating"/>), so the user can reach nothing the user could not write.
/// </summary>
[UnsupportedOSPlatform("windows")]
internal sealed partial class MailboxOwner(uint uid, uint gid, bool impersonate = false)
{
    private const UnixFileMode PrivateFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode PrivateDirectory = PrivateFile | UnixFileMode.UserExecute;

    /// <summary>An owner whose rights every file operation is made with.</summary>
    public static MailboxOwner Impersonating(uint uid, uint gid) => new(uid, gid, impersonate: true);

    /// <summary>
    /// The same owner acting with its own rights: for what is done inside a directory it owns (a Maildir's tmp/, new/ and
    /// cur/), where a link it made must not lead the mail system's rights anywhere.
    /// </summary>
    public MailboxOwner Inside() => impersonate ? this : Impersonating(uid, gid);

    /// <summary>Creates <paramref name="path"/> and its missing parents (0700), each owned by the mailbox owner.</summary>
    public void CreateDirectory(string path) => Act(() =>
    {
        Create(path);
        return true;
    });

    /// <summary>Opens a mailbox file to write, created 0600 and owned by the owner when it is new.</summary>
    public FileStream Open(string path, FileMode mode) => Act(() =>
    {
        bool existed = File.Exists(path);
        var stream = new FileStream(path, new FileStreamOptions
        {
            Mode = mode,
            Access = FileAccess.Write,
            // FileShare.None takes an exclusive flock(2), as Postfix locks a mailbox it appends to.
            Share = FileShare.None,
            UnixCreateMode = PrivateFile,
        });
        if (!existed)
        {
            try
            {
                Give(path);
            }
            catch
            {
                stream.Dispose();
                throw;
            }
        }
        return stream;
    });

    public void Move(string from, string to) => Act(() =>
    {
        File.Move(from, to);
        return true;
    });

    public void Delete(string path) => Act(() =>
    {
        File.Delete(path);
        return true;
    });

    private T Act<T>(Func<T> action) => impersonate ? FileRights.As(uid, gid, action) : action();

    private void Create(string path)
    {
        if (Directory.Exists(path))
        {
            return;
        }
        string? parent = Path.GetDirectoryName(path);
        if (parent is not null)
        {
            Create(parent);
        }
        Directory.CreateDirectory(path, PrivateDirectory);
        Give(path);
    }

    private void Give(string path)
    {
        if (!impersonate && Environment.IsPrivilegedProcess && Chown(path, uid, gid) != 0)
        {
            throw new IOException($"cannot chown {path} to {uid}:{gid}: {Marshal.GetLastPInvokeErrorMessage()}");
        }
    }

    [LibraryImport("libc", EntryPoint = "chown", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Chown(string path, uint owner, uint group);
}
