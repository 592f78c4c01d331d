using System.Net;

namespace Edge.Net;

/// <summary>
/// A list of networks in Postfix's notation (mynetworks, smtpd_forbid_bare_newline_exclusions): addresses and
/// CIDR blocks, IPv6 in brackets ("[::1]/128"). IPv4-mapped IPv6 clients match IPv4 entries.
/// </summary>
internal sealed class NetworkList
{
    private readonly (byte[] Network, int PrefixBits)[] _entries;

    private NetworkList((byte[], int)[] entries) => _entries = entries;

    public static NetworkList Empty { get; } = new([]);

    /// <summary>Parses the entries; an entry that is not an address or block is returned in <paramref name="bad"/>.</summary>
    public static NetworkList Parse(IEnumerable<string> items, out string? bad)
    {
        bad = null;
        var entries = new List<(byte[], int)>();
        foreach (string raw in items)
        {
            string item = raw.Trim();
            if (item.Length == 0 || item.StartsWith('#'))
            {
                continue;
            }
            string address = item;
            int prefix = -1;
            int slash = item.LastIndexOf('/');
            if (slash > 0)
            {
                if (!int.TryParse(item.AsSpan(slash + 1), out prefix))
                {
                    bad = item;
                    return Empty;
                }
                address = item[..slash];
            }
            if (address.StartsWith('[') && address.EndsWith(']'))
            {
                address = address[1..^1];
            }
            if (!IPAddress.TryParse(address, out IPAddress? ip))
            {
                bad = item;
                return Empty;
            }
            byte[] bytes = ip.GetAddressBytes();
            int max = bytes.Length * 8;
            if (prefix < 0)
            {
                prefix = max;
            }
            if (prefix > max)
            {
                bad = item;
                return Empty;
            }
            entries.Add((bytes, prefix));
        }
        return new NetworkList(entries.ToArray());
    }

    public bool Contains(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out int length);
        bytes = bytes[..length];
        foreach ((byte[] network, int prefix) in _entries)
        {
            if (network.Length == length && PrefixEquals(network, bytes, prefix))
            {
                return true;
            }
            if (network.Length == 16 && length == 4 && prefix >= 96 && IsMappedPrefix(network)
                && PrefixEquals(network.AsSpan(12), bytes, prefix - 96))
            {
                return true;
            }
        }
        return false;
    }

    private static bool IsMappedPrefix(byte[] network) =>
        network.AsSpan(0, 10).IndexOfAnyExcept((byte)0) < 0 && network[10] == 0xff && network[11] == 0xff;

    private static bool PrefixEquals(ReadOnlySpan<byte> network, ReadOnlySpan<byte> address, int bits)
    {
        int whole = bits / 8;
        if (!network[..whole].SequenceEqual(address[..whole]))
        {
            return false;
        }
        int rest = bits % 8;
        if (rest == 0)
        {
            return true;
        }
        int mask = 0xff << (8 - rest) & 0xff;
        return (network[whole] & mask) == (address[whole] & mask);
    }
}
