using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace Edge.Delivery.Virtual;

/// <summary>
/// The uid and gid that virtual_uid_maps and virtual_gid_maps give a mailbox. Postfix's virtual(8) switches
/// to them before it creates anything; Edge runs in one process, so it creates as itself and then hands the
/// files and directories over with chown(2) — only when running as root, since nobody else may give files away.
/// </summary>
[UnsupportedOSPlatform("windows")]
internal sealed partial class MailboxOwner(uint uid, uint gid)
{
    private const UnixFileMode PrivateFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode PrivateDirectory = PrivateFile | UnixFileMode.UserExecute;

    /// <summary>Creates <paramref name="path"/> and its missing parents (0700), each owned by the mailbox owner.</summary>
    public void CreateDirectory(string path)
    {
        if (Directory.Exists(path))
        {
            return;
        }
        string? parent = Path.GetDirectoryName(path);
        if (parent is not null)
        {
            CreateDirectory(parent);
        }
        Directory.CreateDirectory(path, PrivateDirectory);
        Give(path);
    }

    /// <summary>Opens a mailbox file to write, created 0600 and given to the owner when it is new.</summary>
    public FileStream Open(string path, FileMode mode)
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
    }

    private void Give(string path)
    {
        if (Environment.IsPrivilegedProcess && Chown(path, uid, gid) != 0)
        {
            throw new IOException($"cannot chown {path} to {uid}:{gid}: {Marshal.GetLastPInvokeErrorMessage()}");
        }
    }

    [LibraryImport("libc", EntryPoint = "chown", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Chown(string path, uint owner, uint group);
}
