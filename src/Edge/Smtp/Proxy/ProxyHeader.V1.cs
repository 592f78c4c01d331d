using System.Buffers.Binary;
using System.Net;

namespace Edge.Smtp.Proxy;

/// <summary>PROXY protocol version 1: the text line "PROXY TCP4|TCP6|UNKNOWN src dst sport dport".</summary>
internal static partial class ProxyHeader
{
    private static ProxyParseStatus ParseV1(ReadOnlySpan<byte> head, out int headerLength,
        out IPEndPoint? source, out IPEndPoint? destination, out string? error)
    {
        headerLength = 0;
        source = null;
        destination = null;
        error = null;

        if (!StartsLike(head, V1Prefix))
        {
            error = Unrecognized;
            return ProxyParseStatus.Invalid;
        }
        if (head.Length < V1Prefix.Length)
        {
            return ProxyParseStatus.NeedMore;
        }

        // head is at most 107 bytes, so a CRLF found in it ends a line of legal length.
        int end = head.IndexOfAny((byte)'\r', (byte)'\n');
        if (end >= 0 && head[end] == '\n')
        {
            error = BadTerminator;   // a lone LF
            return ProxyParseStatus.Invalid;
        }
        if (end >= 0 && end + 1 < head.Length)
        {
            if (head[end + 1] != '\n')
            {
                error = BadTerminator;   // a lone CR
                return ProxyParseStatus.Invalid;
            }
            headerLength = end + 2;
            error = ParseV1Line(head[V1Prefix.Length..end], out source, out destination);
            return error is null ? ProxyParseStatus.Done : ProxyParseStatus.Invalid;
        }

        // No complete CRLF yet (perhaps a CR as the last byte).
        if (head.Length >= MaxV1Length)
        {
            error = MissingTerminator;
            return ProxyParseStatus.Invalid;
        }
        error = CheckV1Prefix(head[V1Prefix.Length..(end >= 0 ? end : head.Length)]);
        return error is null ? ProxyParseStatus.NeedMore : ProxyParseStatus.Invalid;
    }

    /// <summary>Parses a complete line after "PROXY " and before the CRLF.</summary>
    private static string? ParseV1Line(ReadOnlySpan<byte> line, out IPEndPoint? source, out IPEndPoint? destination)
    {
        source = null;
        destination = null;

        ReadOnlySpan<byte> keyword = NextField(ref line, out bool more);
        V1Protocol protocol = Protocol(keyword);
        if (protocol == V1Protocol.Unknown)
        {
            return null;   // the rest of the line, if any, is to be ignored
        }
        if (protocol == V1Protocol.Bad)
        {
            return BadProtocolType;
        }
        bool ipv6 = protocol == V1Protocol.Tcp6;
        if (!more)
        {
            return BadClientAddress;
        }

        Span<byte> sourceBytes = stackalloc byte[16];
        Span<byte> destinationBytes = stackalloc byte[16];
        int addressLength = ipv6 ? 16 : 4;
        sourceBytes = sourceBytes[..addressLength];
        destinationBytes = destinationBytes[..addressLength];

        if (!TryParseAddress(NextField(ref line, out more), ipv6, sourceBytes))
        {
            return BadClientAddress;
        }
        if (!more || !TryParseAddress(NextField(ref line, out more), ipv6, destinationBytes))
        {
            return BadServerAddress;
        }
        if (!more || !TryParsePort(NextField(ref line, out more), out int sourcePort))
        {
            return BadClientPort;
        }
        if (!more || !TryParsePort(NextField(ref line, out more), out int destinationPort) || more)
        {
            return BadServerPort;
        }

        source = new IPEndPoint(CreateAddress(sourceBytes), sourcePort);
        destination = new IPEndPoint(CreateAddress(destinationBytes), destinationPort);
        return null;
    }

    /// <summary>
    /// Takes the text up to the next space (or the end) off <paramref name="rest"/>; <paramref name="more"/>
    /// tells whether a space followed it.
    /// </summary>
    private static ReadOnlySpan<byte> NextField(ref ReadOnlySpan<byte> rest, out bool more)
    {
        int space = rest.IndexOf((byte)' ');
        ReadOnlySpan<byte> field;
        if (space < 0)
        {
            field = rest;
            rest = default;
            more = false;
        }
        else
        {
            field = rest[..space];
            rest = rest[(space + 1)..];
            more = true;
        }
        return field;
    }

    /// <summary>
    /// Checks that an incomplete line (after "PROXY ", without CR or LF) can still become a valid one, so that
    /// garbage is rejected without waiting for 107 bytes. Only the character classes, field lengths and
    /// spacing are checked; the full parse happens once the CRLF is there.
    /// </summary>
    private static string? CheckV1Prefix(ReadOnlySpan<byte> partial)
    {
        int space = partial.IndexOf((byte)' ');
        if (space < 0)
        {
            return "TCP4"u8.StartsWith(partial) || "TCP6"u8.StartsWith(partial) || "UNKNOWN"u8.StartsWith(partial)
                ? null
                : BadProtocolType;
        }
        V1Protocol protocol = Protocol(partial[..space]);
        if (protocol == V1Protocol.Unknown)
        {
            return null;
        }
        if (protocol == V1Protocol.Bad)
        {
            return BadProtocolType;
        }
        bool ipv6 = protocol == V1Protocol.Tcp6;

        // Fields 0..3: client address, server address, client port, server port.
        int field = 0;
        int fieldLength = 0;
        foreach (byte c in partial[(space + 1)..])
        {
            if (c == ' ')
            {
                if (fieldLength == 0 || field == 3)
                {
                    return FieldError(field);   // an empty field (two spaces) or a fifth field
                }
                field++;
                fieldLength = 0;
                continue;
            }
            bool valid = field >= 2
                ? IsDigit(c) && fieldLength < MaxPortTextLength
                : ipv6
                    ? (IsHexDigit(c) || c == ':' || c == '.') && fieldLength < MaxIPv6TextLength
                    : (IsDigit(c) || c == '.') && fieldLength < MaxIPv4TextLength;
            if (!valid)
            {
                return FieldError(field);
            }
            fieldLength++;
        }
        return null;
    }

    private static string FieldError(int field) => field switch
    {
        0 => BadClientAddress,
        1 => BadServerAddress,
        2 => BadClientPort,
        _ => BadServerPort,
    };

    private static bool TryParseAddress(ReadOnlySpan<byte> text, bool ipv6, Span<byte> address) =>
        ipv6 ? TryParseIPv6(text, address) : TryParseIPv4(text, address);

    /// <summary>Exactly four decimal numbers 0..255 without leading zeros, separated by single dots.</summary>
    private static bool TryParseIPv4(ReadOnlySpan<byte> text, Span<byte> address)
    {
        if (text.Length > MaxIPv4TextLength)
        {
            return false;
        }
        int part = 0;
        int value = 0;
        int digits = 0;
        foreach (byte c in text)
        {
            if (c == '.')
            {
                if (digits == 0 || part == 3)
                {
                    return false;
                }
                address[part++] = (byte)value;
                value = 0;
                digits = 0;
            }
            else if (IsDigit(c))
            {
                if (digits > 0 && value == 0)
                {
                    return false;   // leading zero: octal to some parsers, so not allowed
                }
                value = value * 10 + (c - '0');
                if (value > 255)
                {
                    return false;
                }
                digits++;
            }
            else
            {
                return false;
            }
        }
        if (digits == 0 || part != 3)
        {
            return false;
        }
        address[3] = (byte)value;
        return true;
    }

    /// <summary>
    /// RFC 4291 text form: eight groups of 1..4 hex digits separated by colons, at most one "::" standing for
    /// one or more zero groups, optionally ending in a dotted quad for the last 32 bits. No zone index,
    /// brackets or prefix length.
    /// </summary>
    private static bool TryParseIPv6(ReadOnlySpan<byte> text, Span<byte> address)
    {
        if (text.Length < 2 || text.Length > MaxIPv6TextLength)
        {
            return false;
        }
        Span<ushort> groups = stackalloc ushort[8];
        int count = 0;
        int gap = -1;   // index in groups where "::" stands
        int i = 0;
        if (text[0] == ':')
        {
            if (text[1] != ':')
            {
                return false;
            }
            gap = 0;
            i = 2;
        }
        while (i < text.Length)
        {
            int start = i;
            int value = 0;
            while (i < text.Length && i - start < 4 && HexValue(text[i]) is int nibble and >= 0)
            {
                value = value << 4 | nibble;
                i++;
            }
            if (i < text.Length && text[i] == '.')
            {
                Span<byte> ipv4 = stackalloc byte[4];
                if (count > 6 || !TryParseIPv4(text[start..], ipv4))
                {
                    return false;
                }
                groups[count++] = (ushort)(ipv4[0] << 8 | ipv4[1]);
                groups[count++] = (ushort)(ipv4[2] << 8 | ipv4[3]);
                break;
            }
            if (i == start || count == 8)
            {
                return false;
            }
            groups[count++] = (ushort)value;
            if (i == text.Length)
            {
                break;
            }
            if (text[i] != ':' || ++i == text.Length)
            {
                return false;   // a fifth hex digit, another character, or a trailing single colon
            }
            if (text[i] == ':')
            {
                if (gap >= 0)
                {
                    return false;
                }
                gap = count;
                i++;
            }
        }
        if (gap < 0 ? count != 8 : count > 7)
        {
            return false;
        }

        address.Clear();
        int zeros = 8 - count;
        for (int k = 0; k < count; k++)
        {
            int slot = gap >= 0 && k >= gap ? k + zeros : k;
            BinaryPrimitives.WriteUInt16BigEndian(address[(slot * 2)..], groups[k]);
        }
        return true;
    }

    /// <summary>Decimal 0..65535, no sign, no leading zeros.</summary>
    private static bool TryParsePort(ReadOnlySpan<byte> text, out int port)
    {
        port = 0;
        if (text.IsEmpty || text.Length > MaxPortTextLength || (text[0] == '0' && text.Length > 1))
        {
            return false;
        }
        foreach (byte c in text)
        {
            if (!IsDigit(c))
            {
                return false;
            }
            port = port * 10 + (c - '0');
        }
        return port <= IPEndPoint.MaxPort;
    }

    private static bool IsDigit(byte c) => (uint)(c - '0') <= 9;

    private static bool IsHexDigit(byte c) => HexValue(c) >= 0;

    private static int HexValue(byte c) => c switch
    {
        >= (byte)'0' and <= (byte)'9' => c - '0',
        >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => c - 'A' + 10,
        _ => -1,
    };

    private enum V1Protocol : byte
    {
        Unknown,
        Tcp4,
        Tcp6,
        Bad,
    }

    private static V1Protocol Protocol(ReadOnlySpan<byte> keyword) =>
        keyword.SequenceEqual("UNKNOWN"u8) ? V1Protocol.Unknown
        : keyword.SequenceEqual("TCP4"u8) ? V1Protocol.Tcp4
        : keyword.SequenceEqual("TCP6"u8) ? V1Protocol.Tcp6
        : V1Protocol.Bad;
}
