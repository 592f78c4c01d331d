using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Edge.Unix;

namespace Edge.Delivery.Virtual;

/// <summary>
/// Who a mailbox belongs to, and with whose rights its files are made. Where the owner could not write (a spool or
/// virtual_mailbox_base that only the mail system may write), Edge creates as itself and hands the files and
/// directories over with chown(2) — only when running as root, since nobody else may give files away — as Postfix's
/// agents create such mailboxes as the mail system. Inside a directory the owner controls (its own, or one anyone may
/// write), every step is taken with the owner's rights, so that a link the owner made there leads nowhere the owner
/// could not write; for the files a user names (a /file or maildir destination in an alias or .forward file) every step
/// is (<see cref="Impersonating"/>).
/// </summary>
[UnsupportedOSPlatform("windows")]
internal sealed partial class MailboxOwner(uint uid, uint gid, bool impersonate = false)
{
    private const UnixFileMode PrivateFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode PrivateDirectory = PrivateFile | UnixFileMode.UserExecute;

    /// <summary>An owner whose rights every file operation is made with.</summary>
    public static MailboxOwner Impersonating(uint uid, uint gid) => new(uid, gid, impersonate: true);

    /// <summary>Creates <paramref name="path"/> and its missing parents (0700), each owned by the mailbox owner.</summary>
    public void CreateDirectory(string path)
    {
        if (Act(path, () => Directory.Exists(path)))
        {
            return;
        }
        string? parent = Path.GetDirectoryName(path);
        if (parent is not null)
        {
            CreateDirectory(parent);
        }
        Act(path, () =>
        {
            Directory.CreateDirectory(path, PrivateDirectory);
            Give(path);
            return true;
        });
    }

    /// <summary>Opens a mailbox file to write, created 0600 and owned by the owner when it is new.</summary>
    public FileStream Open(string path, FileMode mode) => Act(path, () =>
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

    public void Move(string from, string to) => Act(from, () =>
    {
        File.Move(from, to);
        return true;
    });

    public void Delete(string path) => Act(path, () =>
    {
        File.Delete(path);
        return true;
    });

    /// <summary>
    /// Runs a step on <paramref name="path"/> with the owner's rights when impersonating, or when the directory it is in
    /// is one the owner controls; as Edge otherwise (Give then hands what it made over).
    /// </summary>
    private T Act<T>(string path, Func<T> action) => impersonate || OwnerControls(Path.GetDirectoryName(path))
        ? FileRights.As(uid, gid, () => WithoutGiving(action))
        : action();

    /// <summary>
    /// Whether the owner could change what <paramref name="directory"/> leads to: it, or a directory (or link) above it,
    /// belongs to the owner, or anyone may write it — a sticky one like /tmp only counts where the file itself is made,
    /// since there nobody can replace another's entry but anyone can take a name first. Links are not followed, so a
    /// link the owner made counts as the owner's.
    /// </summary>
    private bool OwnerControls(string? directory)
    {
        const uint Sticky = 0x200;
        bool container = true;
        for (string? current = string.IsNullOrEmpty(directory) ? "." : directory; current is not null; current = Path.GetDirectoryName(current))
        {
            FileStatus status;
            try
            {
                status = FileStatus.OfName(current);
            }
            catch (FileNotFoundException)
            {
                // Not made yet: what it will be made in decides.
                continue;
            }
            if (status.Uid == uid && uid != 0 || status.IsWorldWritable && (container || (status.Mode & Sticky) == 0))
            {
                return true;
            }
            container = false;
        }
        return false;
    }

    /// <summary>Made with the owner's rights, a file is the owner's already: there is nothing to give.</summary>
    [ThreadStatic]
    private static bool t_asOwner;

    private static T WithoutGiving<T>(Func<T> action)
    {
        t_asOwner = true;
        try
        {
            return action();
        }
        finally
        {
            t_asOwner = false;
        }
    }

    private void Give(string path)
    {
        if (!t_asOwner && Environment.IsPrivilegedProcess && Chown(path, uid, gid) != 0)
        {
            throw new IOException($"cannot chown {path} to {uid}:{gid}: {Marshal.GetLastPInvokeErrorMessage()}");
        }
    }

    [LibraryImport("libc", EntryPoint = "chown", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Chown(string path, uint owner, uint group);
}
