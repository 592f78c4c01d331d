using System.Net;

namespace Edge.Net;

/// <summary>
/// A list of networks in Postfix's notation (mynetworks, smtpd_forbid_bare_newline_exclusions): addresses and
/// CIDR blocks, IPv6 in brackets ("[::1]/128"). IPv4-mapped IPv6 clients match IPv4 entries.
/// </summary>
internal sealed class NetworkList
{
    private readonly Network[] _entries;

    private NetworkList(Network[] entries) => _entries = entries;

    public static NetworkList Empty { get; } = new([]);

    public bool IsEmpty => _entries.Length == 0;

    /// <summary>Parses the entries; an entry that is not an address or block is returned in <paramref name="bad"/>.</summary>
    public static NetworkList Parse(IEnumerable<string> items, out string? bad)
    {
        bad = null;
        var entries = new List<Network>();
        foreach (string raw in items)
        {
            string item = raw.Trim();
            if (item.Length == 0 || item.StartsWith('#'))
            {
                continue;
            }
            if (!Network.TryParse(item, out Network network))
            {
                bad = item;
                return Empty;
            }
            entries.Add(network);
        }
        return new NetworkList(entries.ToArray());
    }

    public bool Contains(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        bytes = bytes[..Network.Bytes(address, bytes)];
        foreach (Network network in _entries)
        {
            if (network.Contains(bytes))
            {
                return true;
            }
        }
        return false;
    }
}
