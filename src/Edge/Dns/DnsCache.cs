using System.Collections.Concurrent;

namespace Edge.Dns;

/// <summary>
/// Answers by name and type until their TTL runs out. Names compare case-insensitively (RFC 4343). The number
/// of entries is bounded because the names come from the network (HELO, MAIL FROM, client addresses).
/// </summary>
internal sealed class DnsCache(TimeProvider clock, int capacity = DnsCache.DefaultCapacity)
{
    public const int DefaultCapacity = 10_000;

    private readonly ConcurrentDictionary<(string Name, DnsRecordType Type), Entry> _entries = new(KeyComparer.Instance);

    public int Count => _entries.Count;

    /// <summary>A stored answer with the TTL that is left of it.</summary>
    public bool TryGet(string name, DnsRecordType type, out DnsResult result)
    {
        result = null!;
        if (!_entries.TryGetValue((name, type), out Entry entry))
        {
            return false;
        }
        TimeSpan left = entry.Result.Ttl - clock.GetElapsedTime(entry.Stored);
        if (left <= TimeSpan.Zero)
        {
            _entries.TryRemove(new KeyValuePair<(string, DnsRecordType), Entry>((name, type), entry));
            return false;
        }
        result = entry.Result with { Ttl = left };
        return true;
    }

    /// <summary>Keeps an answer for its TTL; one of zero is not kept.</summary>
    public void Add(string name, DnsRecordType type, DnsResult result)
    {
        if (result.Ttl <= TimeSpan.Zero)
        {
            return;
        }
        if (_entries.Count >= capacity)
        {
            MakeRoom();
        }
        _entries[(name, type)] = new Entry(result, clock.GetTimestamp());
    }

    public void Clear() => _entries.Clear();

    /// <summary>
    /// Drops the expired entries and, if the cache is still full, an arbitrary tenth more: a lookup storm of
    /// fresh names must not grow memory, and which entries go hardly matters for a cache of DNS answers.
    /// </summary>
    private void MakeRoom()
    {
        foreach (KeyValuePair<(string, DnsRecordType), Entry> pair in _entries)
        {
            if (clock.GetElapsedTime(pair.Value.Stored) >= pair.Value.Result.Ttl)
            {
                _entries.TryRemove(pair);
            }
        }
        int excess = _entries.Count - capacity + Math.Max(1, capacity / 10);
        foreach (KeyValuePair<(string, DnsRecordType), Entry> pair in _entries)
        {
            if (excess-- <= 0)
            {
                break;
            }
            _entries.TryRemove(pair);
        }
    }

    /// <summary>Stored is a monotonic timestamp: a change of the wall clock neither ages nor revives an entry.</summary>
    private readonly record struct Entry(DnsResult Result, long Stored);

    private sealed class KeyComparer : IEqualityComparer<(string Name, DnsRecordType Type)>
    {
        public static readonly KeyComparer Instance = new();

        public bool Equals((string Name, DnsRecordType Type) x, (string Name, DnsRecordType Type) y) =>
            x.Type == y.Type && DnsName.Equal(x.Name, y.Name);

        public int GetHashCode((string Name, DnsRecordType Type) key) =>
            HashCode.Combine(StringComparer.OrdinalIgnoreCase.GetHashCode(key.Name), key.Type);
    }
}
