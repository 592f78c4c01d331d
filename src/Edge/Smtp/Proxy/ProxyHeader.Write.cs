using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Edge.Smtp.Proxy;

/// <summary>The headers a proxy (haproxy) sends before the client's bytes, for a load generator that stands in for one.</summary>
internal static partial class ProxyHeader
{
    /// <summary>
    /// The PROXY header of <paramref name="version"/> 1 (text) or 2 (binary) saying that <paramref name="source"/> connected
    /// to <paramref name="destination"/>; both of one address family.
    /// </summary>
    public static byte[] Write(int version, IPEndPoint source, IPEndPoint destination)
    {
        bool v6 = source.AddressFamily == AddressFamily.InterNetworkV6;
        if (version == 1)
        {
            return Encoding.ASCII.GetBytes($"PROXY {(v6 ? "TCP6" : "TCP4")} {source.Address} {destination.Address} {source.Port} {destination.Port}\r\n");
        }
        int addresses = v6 ? V2IPv6AddressLength : V2IPv4AddressLength;
        var header = new byte[16 + addresses];
        V2Signature.CopyTo(header);
        header[12] = 0x20 | V2CommandProxy;
        header[13] = v6 ? (byte)0x21 : (byte)0x11;
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(14), (ushort)addresses);
        int length = v6 ? 16 : 4;
        source.Address.TryWriteBytes(header.AsSpan(16), out _);
        destination.Address.TryWriteBytes(header.AsSpan(16 + length), out _);
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(16 + 2 * length), (ushort)source.Port);
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(18 + 2 * length), (ushort)destination.Port);
        return header;
    }
}
