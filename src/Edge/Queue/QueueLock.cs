namespace Edge.Queue;

/// <summary>
/// queue_directory/pid/master.lock, held open exclusively while a process owns the queue, so that a second
/// server, or a tool reading the log directly, cannot work on a queue that is in use. The owner's pid is in
/// master.pid beside it (the lock file itself cannot be read while it is held).
/// </summary>
internal sealed class QueueLock : IDisposable
{
    private readonly FileStream _file;

    private QueueLock(FileStream file) => _file = file;

    public static string PathOf(string queueDirectory) => System.IO.Path.Combine(queueDirectory, "pid", "master.lock");

    private static string PidFileOf(string queueDirectory) => System.IO.Path.Combine(queueDirectory, "pid", "master.pid");

    public static QueueLock Acquire(string queueDirectory)
    {
        string path = PathOf(queueDirectory);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        FileStream file;
        try
        {
            file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            string owner = TryReadOwner(PidFileOf(queueDirectory));
            throw new QueueInUseException($"the queue in {queueDirectory} is in use by another Edge process{owner}");
        }
        File.WriteAllText(PidFileOf(queueDirectory), $"{Environment.ProcessId,10}\n");
        return new QueueLock(file);
    }

    /// <summary>True when no server holds the queue (the lock could be taken and was released at once).</summary>
    public static bool IsFree(string queueDirectory)
    {
        if (!File.Exists(PathOf(queueDirectory)))
        {
            return true;
        }
        try
        {
            using var probe = new FileStream(PathOf(queueDirectory), FileMode.Open, FileAccess.ReadWrite, FileShare.None);
            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>The process ID of the server that holds the queue; null when none does.</summary>
    public static int? Owner(string queueDirectory)
    {
        if (IsFree(queueDirectory))
        {
            return null;
        }
        try
        {
            return int.TryParse(File.ReadAllText(PidFileOf(queueDirectory)).Trim(), out int pid) ? pid : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static string TryReadOwner(string path)
    {
        try
        {
            string pid = File.ReadAllText(path).Trim();
            return pid.Length > 0 ? $" (pid {pid})" : "";
        }
        catch (IOException)
        {
            return "";
        }
    }

    public void Dispose() => _file.Dispose();
}

internal sealed class QueueInUseException(string message) : Exception(message);
