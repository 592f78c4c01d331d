using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Edge.Dns;

/// <summary>The PTR owner name of an address: d.c.b.a.in-addr.arpa (RFC 1035), nibbles under ip6.arpa (RFC 3596).</summary>
internal static class ReverseName
{
    public static string For(IPAddress address)
    {
        // A dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d; their PTR records are under in-addr.arpa.
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        byte[] bytes = address.GetAddressBytes();
        var name = new StringBuilder(72);
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            for (int i = bytes.Length - 1; i >= 0; i--)
            {
                name.Append(bytes[i].ToString(CultureInfo.InvariantCulture)).Append('.');
            }
            return name.Append("in-addr.arpa").ToString();
        }
        for (int i = bytes.Length - 1; i >= 0; i--)
        {
            name.Append(HexDigit(bytes[i] & 0x0F)).Append('.').Append(HexDigit(bytes[i] >> 4)).Append('.');
        }
        return name.Append("ip6.arpa").ToString();
    }

    private static char HexDigit(int nibble) => (char)(nibble < 10 ? '0' + nibble : 'a' + nibble - 10);
}
