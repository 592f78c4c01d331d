using System.Collections.Concurrent;
using Edge.Logging;

namespace Edge.Restrictions.Policy.Store;

/// <summary>
/// <c>edge_policy_store = memory</c>: values held by this process only, so a restart forgets them, as it forgets a
/// policy server's in-memory state. Also what <c>edge check</c> and <c>edge policy test</c> give scripts, so that
/// trying a script never touches the state the server keeps.
/// </summary>
internal sealed class MemoryPolicyStore : IPolicyStore
{
    /// <summary>Entries kept at most; past it, set and increment store nothing (and say so once).</summary>
    private const int MaxEntries = 1_000_000;

    private sealed record Entry(string Value, long Count, long Expires);

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private int _writes;
    private int _fullLogged;

    public ValueTask<string?> GetAsync(string key) =>
        new(_entries.TryGetValue(key, out Entry? entry) && entry.Expires > Environment.TickCount64 ? entry.Value : null);

    public ValueTask SetAsync(string key, string value, double seconds)
    {
        if (HasRoom())
        {
            _entries[key] = new Entry(value, 0, Expiry(seconds));
        }
        return ValueTask.CompletedTask;
    }

    public ValueTask<long> IncrementAsync(string key, double seconds)
    {
        if (!HasRoom())
        {
            return new(0L);
        }
        Entry entry = _entries.AddOrUpdate(key,
            static (_, expires) => new Entry("1", 1, expires),
            static (_, old, expires) => old.Expires > Environment.TickCount64
                ? Counted((long.TryParse(old.Value, out long count) ? count : 0) + 1, old.Expires)
                : new Entry("1", 1, expires),
            Expiry(seconds));
        return new(entry.Count);
    }

    private static Entry Counted(long count, long expires) => new(count.ToString(System.Globalization.CultureInfo.InvariantCulture), count, expires);

    private static long Expiry(double seconds) => Environment.TickCount64 + (long)(Math.Max(0, seconds) * 1000);

    /// <summary>Every 10,000th write sweeps out what expired; a full store refuses writes rather than grow without end.</summary>
    private bool HasRoom()
    {
        if (Interlocked.Increment(ref _writes) % 10_000 == 0 || _entries.Count >= MaxEntries)
        {
            long now = Environment.TickCount64;
            foreach ((string key, Entry entry) in _entries)
            {
                if (entry.Expires <= now)
                {
                    _entries.TryRemove(key, out _);
                }
            }
        }
        if (_entries.Count < MaxEntries)
        {
            return true;
        }
        if (Interlocked.Exchange(ref _fullLogged, 1) == 0)
        {
            MailLog.Warning($"policy scripts: the memory store holds {MaxEntries} entries; new ones are not kept until old ones expire");
        }
        return false;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
