using System.Buffers.Binary;
using System.Net;

namespace Edge.Smtp.Proxy;

/// <summary>PROXY protocol version 2: the binary header with its signature, command, family and addresses.</summary>
internal static partial class ProxyHeader
{
    private static ProxyParseStatus ParseV2(ReadOnlySpan<byte> head, long total, out int headerLength,
        out IPEndPoint? source, out IPEndPoint? destination, out string? error)
    {
        headerLength = 0;
        source = null;
        destination = null;
        error = null;

        // Each check is made as soon as its byte is there, so garbage never waits for a timeout.
        if (!StartsLike(head, V2Signature))
        {
            error = Unrecognized;
            return ProxyParseStatus.Invalid;
        }
        if (head.Length <= 12)
        {
            return ProxyParseStatus.NeedMore;
        }

        byte versionCommand = head[12];
        if ((versionCommand & 0xF0) != 0x20)
        {
            error = BadVersion;
            return ProxyParseStatus.Invalid;
        }
        int command = versionCommand & 0x0F;
        if (command is not (V2CommandLocal or V2CommandProxy))
        {
            error = BadCommand;
            return ProxyParseStatus.Invalid;
        }
        if (head.Length <= 13)
        {
            return ProxyParseStatus.NeedMore;
        }

        // LOCAL (a health check from the proxy itself): the family is ignored and the block skipped.
        int addressLength = 0;
        if (command == V2CommandProxy)
        {
            switch (head[13])
            {
                case 0x00:   // AF_UNSPEC: keep the connection's own addresses
                    break;
                case 0x11:   // TCP over IPv4
                    addressLength = V2IPv4AddressLength;
                    break;
                case 0x21:   // TCP over IPv6
                    addressLength = V2IPv6AddressLength;
                    break;
                case 0x12 or 0x22 or 0x31 or 0x32:   // UDP over IPv4/IPv6, UNIX stream/datagram
                    error = UnsupportedProtocol;
                    return ProxyParseStatus.Invalid;
                default:
                    error = BadFamily;
                    return ProxyParseStatus.Invalid;
            }
        }
        if (head.Length < V2FixedLength)
        {
            return ProxyParseStatus.NeedMore;
        }

        int length = BinaryPrimitives.ReadUInt16BigEndian(head[14..]);
        if (length < addressLength)
        {
            error = ShortAddress;
            return ProxyParseStatus.Invalid;
        }
        if (length > MaxV2PayloadLength)
        {
            error = TooLong;
            return ProxyParseStatus.Invalid;
        }
        if (total < V2FixedLength + length)
        {
            return ProxyParseStatus.NeedMore;
        }
        headerLength = V2FixedLength + length;

        // head holds min(total, 107) bytes, at least the 16 + 36 needed here.
        ReadOnlySpan<byte> block = head[V2FixedLength..];
        if (addressLength == V2IPv4AddressLength)
        {
            source = new IPEndPoint(new IPAddress(block[..4]), BinaryPrimitives.ReadUInt16BigEndian(block[8..]));
            destination = new IPEndPoint(new IPAddress(block[4..8]), BinaryPrimitives.ReadUInt16BigEndian(block[10..]));
        }
        else if (addressLength == V2IPv6AddressLength)
        {
            source = new IPEndPoint(CreateAddress(block[..16]), BinaryPrimitives.ReadUInt16BigEndian(block[32..]));
            destination = new IPEndPoint(CreateAddress(block[16..32]), BinaryPrimitives.ReadUInt16BigEndian(block[34..]));
        }
        return ProxyParseStatus.Done;
    }

    /// <summary>An address from 4 or 16 bytes, IPv4-mapped IPv6 addresses turned into IPv4 as Postfix does.</summary>
    private static IPAddress CreateAddress(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length == 16 && bytes[..10].IndexOfAnyExcept((byte)0) < 0 && bytes[10] == 0xFF && bytes[11] == 0xFF)
        {
            return new IPAddress(bytes[12..]);
        }
        return new IPAddress(bytes);
    }
}
