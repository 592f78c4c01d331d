using System.Runtime.Versioning;
using Edge.Unix;

namespace Edge.Delivery.Local;

/// <summary>
/// A file of destinations a user controls (.forward, :include:), read with the rights of whoever named it, so that it
/// reveals nothing those rights could not read; without waiting on a FIFO put in its place, and only up to a size no
/// list of destinations needs, so that neither can hold a delivery or fill Edge's memory.
/// </summary>
[UnsupportedOSPlatform("windows")]
internal static class UserFile
{
    public const int Limit = 1 << 20;

    /// <summary>The file's status, and its text when it is a regular file within <see cref="Limit"/> (null otherwise).</summary>
    public static (string? Text, FileStatus Status) Read(string path, uint uid, uint gid) => FileRights.As(uid, gid, () =>
    {
        using var handle = FileStatus.OpenToRead(path);
        FileStatus status = FileStatus.Of(handle);
        if (!status.IsRegular || status.Size > Limit)
        {
            return (null, status);
        }
        // Read what the file said it holds and no further: one that grows while it is read (or a user's FUSE mount that
        // never ends) is refused as too large.
        int expected = (int)status.Size;
        byte[] buffer = new byte[expected + 1];
        using var stream = new FileStream(handle, FileAccess.Read);
        int length = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        return (length > expected ? null : System.Text.Encoding.UTF8.GetString(buffer, 0, length), status);
    });
}

/// <summary>Something local(8) needs and cannot have now (the password database, a right Edge lacks): the recipient waits.</summary>
internal sealed class LocalDeferralException(string dsn, string reason) : Exception(reason)
{
    public string Dsn => dsn;
}
