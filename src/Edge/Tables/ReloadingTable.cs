using Edge.Logging;

namespace Edge.Tables;

/// <summary>
/// A table read from a file that is read again when the file changes, without a reload: Postfix's daemons notice a
/// changed table and restart, so an administrator who edits (and postmaps) a table expects the next lookup to see
/// it. The file's time and length are looked at once a second at most; a file that changed and cannot be read leaves
/// the table as it was, with a warning.
/// </summary>
internal sealed class ReloadingTable(string reference, string path, Func<ILookupTable> load, ILookupTable first) : ILookupTable
{
    private const long CheckIntervalMs = 1000;

    private ILookupTable _table = first;
    private (DateTime Time, long Length) _stamp = Stamp(path);
    private long _checked = Environment.TickCount64;

    public ILookupTable Current
    {
        get
        {
            Refresh();
            return Volatile.Read(ref _table);
        }
    }

    public string? Lookup(string key) => Current.Lookup(key);

    public bool IsPattern => Volatile.Read(ref _table).IsPattern;

    private void Refresh()
    {
        long now = Environment.TickCount64;
        long last = Volatile.Read(ref _checked);
        // One caller a second looks at the file; the others go on with the table they have.
        if (now - last < CheckIntervalMs || Interlocked.CompareExchange(ref _checked, now, last) != last)
        {
            return;
        }
        (DateTime, long) stamp = Stamp(path);
        if (stamp == _stamp)
        {
            return;
        }
        _stamp = stamp;
        try
        {
            Volatile.Write(ref _table, load());
            MailLog.Info($"table {reference} has changed -- read again", "master");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or TableException or Config.ConfigException)
        {
            MailLog.Warning($"table {reference} has changed and cannot be read: {e.Message}; the table as it was stays in use", "master");
        }
    }

    private static (DateTime, long) Stamp(string path)
    {
        var file = new FileInfo(path);
        return file.Exists ? (file.LastWriteTimeUtc, file.Length) : (DateTime.MinValue, -1);
    }
}
