using System.Collections.Concurrent;

namespace Edge.Tables.Remote;

/// <summary>
/// A remote table's recent answers, found for edge_table_cache_time and not found for edge_table_negative_cache_time
/// (zero keeps none). Failures are never kept: the next lookup asks again.
/// </summary>
internal sealed class TableCache(TableSettings settings)
{
    /// <summary>Past this many keys the expired ones go, and if that is not enough, all of them.</summary>
    private const int MaxEntries = 100_000;

    private readonly ConcurrentDictionary<string, (string? Value, long Expires)> _entries = new(StringComparer.Ordinal);

    public bool TryGet(string key, out string? value)
    {
        if (_entries.TryGetValue(key, out (string? Value, long Expires) entry) && entry.Expires > Environment.TickCount64)
        {
            value = entry.Value;
            return true;
        }
        value = null;
        return false;
    }

    public void Add(string key, string? value)
    {
        TimeSpan lifetime = value is null ? settings.NegativeCacheTime : settings.CacheTime;
        if (lifetime <= TimeSpan.Zero)
        {
            return;
        }
        if (_entries.Count >= MaxEntries)
        {
            Prune();
        }
        _entries[key] = (value, Environment.TickCount64 + (long)lifetime.TotalMilliseconds);
    }

    private void Prune()
    {
        long now = Environment.TickCount64;
        foreach (KeyValuePair<string, (string? Value, long Expires)> entry in _entries)
        {
            if (entry.Value.Expires <= now)
            {
                _entries.TryRemove(entry);
            }
        }
        if (_entries.Count >= MaxEntries)
        {
            _entries.Clear();
        }
    }
}
