using System.Net;

namespace Edge.Net;

/// <summary>
/// One network in Postfix's notation: an address, or a CIDR block ("192.0.2.0/24", "2001:db8::/32"), IPv6
/// with or without brackets. IPv4-mapped IPv6 clients match IPv4 networks.
/// </summary>
internal readonly struct Network
{
    private readonly byte[] _bytes;
    private readonly int _prefixBits;

    private Network(byte[] bytes, int prefixBits)
    {
        _bytes = bytes;
        _prefixBits = prefixBits;
    }

    public static bool TryParse(string item, out Network network)
    {
        network = default;
        string address = item;
        int prefix = -1;
        int slash = item.LastIndexOf('/');
        if (slash > 0)
        {
            if (!int.TryParse(item.AsSpan(slash + 1), out prefix) || prefix < 0)
            {
                return false;
            }
            address = item[..slash];
        }
        if (address.StartsWith('[') && address.EndsWith(']'))
        {
            address = address[1..^1];
        }
        if (!IPAddress.TryParse(address, out IPAddress? ip))
        {
            return false;
        }
        byte[] bytes = ip.GetAddressBytes();
        int max = bytes.Length * 8;
        if (prefix > max)
        {
            return false;
        }
        network = new Network(bytes, prefix < 0 ? max : prefix);
        return true;
    }

    /// <summary>The network of <paramref name="address"/> with <paramref name="prefixBits"/> of it (an interface's subnet).</summary>
    public static Network Of(IPAddress address, int prefixBits) => new(address.GetAddressBytes(), prefixBits);

    /// <summary>Whether every address of this network is in <paramref name="wider"/> (an IPv4-mapped block counts as IPv4).</summary>
    public bool Within(Network wider)
    {
        (byte[] bytes, int bits) = _bytes.Length == 16 && _prefixBits >= 96 && IsMappedPrefix(_bytes)
            ? (_bytes[12..], _prefixBits - 96)
            : (_bytes, _prefixBits);
        return bytes.Length == wider._bytes.Length && bits >= wider._prefixBits && PrefixEquals(wider._bytes, bytes, wider._prefixBits);
    }

    public override string ToString() => $"{new IPAddress(_bytes)}/{_prefixBits}";

    /// <summary>
    /// The <paramref name="index"/>th host of the block, going round (the network's own address skipped, and at most
    /// 2^32 hosts told apart): a load generator's client addresses.
    /// </summary>
    public IPAddress Nth(long index)
    {
        int hostBits = Math.Min(32, _bytes.Length * 8 - _prefixBits);
        if (hostBits == 0)
        {
            return new IPAddress(_bytes);
        }
        ulong hosts = (1UL << hostBits) - 1;
        ulong host = 1 + (ulong)index % hosts;
        byte[] bytes = (byte[])_bytes.Clone();
        for (int bit = 0; bit < hostBits; bit++)
        {
            int position = bytes.Length * 8 - 1 - bit;
            byte mask = (byte)(0x80 >> (position % 8));
            bytes[position / 8] = (host & (1UL << bit)) != 0 ? (byte)(bytes[position / 8] | mask) : (byte)(bytes[position / 8] & ~mask);
        }
        return new IPAddress(bytes);
    }

    /// <summary>
    /// The block with the address bits past the prefix cleared, when they were not (cidr_table(5) refuses
    /// "192.0.2.1/24": it is a mistake for "192.0.2.0/24" or for the host alone).
    /// </summary>
    public bool HasHostBits(out string cleared)
    {
        byte[] network = (byte[])_bytes.Clone();
        for (int bit = _prefixBits; bit < network.Length * 8; bit++)
        {
            network[bit / 8] &= (byte)~(0x80 >> (bit % 8));
        }
        cleared = $"{new IPAddress(network)}/{_prefixBits}";
        return !network.AsSpan().SequenceEqual(_bytes);
    }

    /// <summary>Whether the network holds an address given as its bytes (4 or 16, IPv4-mapped already mapped).</summary>
    public bool Contains(ReadOnlySpan<byte> address)
    {
        if (_bytes.Length == address.Length)
        {
            return PrefixEquals(_bytes, address, _prefixBits);
        }
        return _bytes.Length == 16 && address.Length == 4 && _prefixBits >= 96 && IsMappedPrefix(_bytes)
            && PrefixEquals(_bytes.AsSpan(12), address, _prefixBits - 96);
    }

    /// <summary>The bytes <see cref="Contains"/> compares: IPv4-mapped IPv6 as IPv4.</summary>
    public static int Bytes(IPAddress address, Span<byte> bytes)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        address.TryWriteBytes(bytes, out int length);
        return length;
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
