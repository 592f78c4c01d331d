using Edge.Config;

namespace Edge.Hosting;

/// <summary>maillog_file, as the server, edge postfix start and edge postlog read it: a file the mail log is appended to.</summary>
internal static class MaillogFile
{
    /// <summary>
    /// The file; null for standard output (empty, or /dev/stdout as in Postfix). A relative name is in queue_directory,
    /// where Postfix's postlogd and postfix-script both work.
    /// </summary>
    public static string? PathOf(MainConfig config)
    {
        string path = config.Get("maillog_file");
        return path.Length == 0 || path == "/dev/stdout" ? null : Path.Combine(Path.GetFullPath(config.Get("queue_directory")), path);
    }

    /// <summary>The file opened for appending (null for standard output); throws the configuration error when it cannot be.</summary>
    public static TextWriter? Open(MainConfig config)
    {
        if (PathOf(config) is not { } path)
        {
            return null;
        }
        try
        {
            var file = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
            return new StreamWriter(file, bufferSize: 64 * 1024) { AutoFlush = false };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw config.Error("maillog_file", $"cannot open {path} for appending: {e.Message}");
        }
    }
}
