using System.Buffers;
using System.Buffers.Binary;
using System.Net;

namespace Edge.Smtp.Proxy;

internal enum ProxyParseStatus : byte
{
    /// <summary>
    /// What is buffered is a proper prefix of a valid header: wait for more input (up to
    /// smtpd_upstream_proxy_timeout), then call again with the whole buffer.
    /// </summary>
    NeedMore,
    /// <summary>A complete, valid header was parsed.</summary>
    Done,
    /// <summary>The input is not a valid PROXY header; the connection must be dropped.</summary>
    Invalid,
}

/// <summary>
/// Parses the HAProxy PROXY protocol header (versions 1 and 2) that an upstream proxy sends before the SMTP
/// conversation, as Postfix's smtpd does with smtpd_upstream_proxy_protocol = haproxy (haproxy_srvr.c).
/// </summary>
/// <remarks>
/// <para>
/// Version 1 is one line, <c>PROXY TCP4|TCP6|UNKNOWN src dst sport dport\r\n</c>, of at most 107 bytes with its
/// CRLF. Parsing is stricter than Postfix's tokenizer and follows the specification: upper-case keywords,
/// exactly one space between fields, IPv4 as a dotted quad without leading zeros, IPv6 in any RFC 4291 text
/// form (no zone, brackets or prefix length), ports 0..65535 in decimal without sign or leading zeros, and no
/// lone CR or LF. For UNKNOWN everything up to the CRLF is ignored.
/// </para>
/// <para>
/// Version 2 is the 16-byte binary header plus its length field's worth of address block and TLVs. Only
/// TCP over IPv4 (0x11) and TCP over IPv6 (0x21) carry addresses; AF_UNSPEC (0x00) and the LOCAL command keep
/// the connection's own addresses (for LOCAL the family byte is ignored, as the specification says); UDP and
/// UNIX families are rejected, as Postfix does. TLVs are skipped unread.
/// </para>
/// <para>
/// As in Postfix, IPv4-mapped IPv6 addresses (<c>::ffff:a.b.c.d</c>) come out as IPv4 addresses, so that
/// access lists see the same address whichever way the proxy wrote it.
/// </para>
/// <para>
/// Nothing is allocated except the returned endpoints: errors are constant strings, and the at most 107 bytes
/// the parser ever looks at are read from the first segment or copied to the stack.
/// </para>
/// </remarks>
internal static class ProxyHeader
{
    /// <summary>The longest version 1 line, CRLF included (the specification's worst case).</summary>
    public const int MaxV1Length = 107;

    /// <summary>
    /// The largest version 2 length field accepted (address block plus TLVs). The field could say 65535, but
    /// Postfix itself gives up on any header longer than one minimum TCP segment (536 bytes), real proxies
    /// send a few hundred bytes at most (addresses plus ALPN, authority, SSL and cloud TLVs), and everything
    /// up to the end of the header must sit unconsumed in the receive buffer of a not yet trusted connection
    /// before it can be parsed. 4 KiB leaves ample room for TLVs while bounding that buffering; a larger length
    /// is rejected as soon as the fixed 16 bytes arrive.
    /// </summary>
    public const int MaxV2PayloadLength = 4096;

    private const int V2FixedLength = 16;
    private const int V2IPv4AddressLength = 4 + 4 + 2 + 2;
    private const int V2IPv6AddressLength = 16 + 16 + 2 + 2;
    private const int MaxIPv4TextLength = 15;   // 255.255.255.255
    private const int MaxIPv6TextLength = 45;   // ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255
    private const int MaxPortTextLength = 5;

    // Messages in Postfix's words where it has them, for "warning: haproxy read: <error>: <escaped input>".
    private const string Unrecognized = "unrecognized protocol header";
    private const string MissingTerminator = "missing protocol header terminator";
    private const string BadTerminator = "bad protocol header terminator";
    private const string BadProtocolType = "bad or missing protocol type";
    private const string BadClientAddress = "bad or missing client address";
    private const string BadServerAddress = "bad or missing server address";
    private const string BadClientPort = "bad or missing client port";
    private const string BadServerPort = "bad or missing server port";
    private const string BadVersion = "unrecognized protocol version";
    private const string BadCommand = "bad command in proxy header";
    private const string UnsupportedProtocol = "unsupported network protocol";
    private const string BadFamily = "bad address family";
    private const string ShortAddress = "short address field";
    private const string TooLong = "protocol header too long";

    private const byte V2CommandLocal = 0x0;
    private const byte V2CommandProxy = 0x1;

    private static ReadOnlySpan<byte> V1Prefix => "PROXY "u8;

    private static ReadOnlySpan<byte> V2Signature =>
        [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A];

    /// <summary>
    /// Tries to parse a PROXY v1 or v2 header at the start of <paramref name="buffer"/>. On
    /// <see cref="ProxyParseStatus.Done"/>, <paramref name="consumed"/> is the position just after the header,
    /// and <paramref name="source"/>/<paramref name="destination"/> are the original client and server
    /// endpoints (null for v1 "PROXY UNKNOWN" and for v2 LOCAL or AF_UNSPEC: the connection's own addresses are
    /// kept then). On <see cref="ProxyParseStatus.Invalid"/>, <paramref name="error"/> says why in a few words.
    /// Otherwise <paramref name="consumed"/> is the buffer's start: on <see cref="ProxyParseStatus.NeedMore"/>
    /// everything was examined and nothing consumed. Input that contradicts both signatures is rejected as soon
    /// as its first bytes do, without waiting for more.
    /// </summary>
    public static ProxyParseStatus TryParse(in ReadOnlySequence<byte> buffer,
        out SequencePosition consumed, out IPEndPoint? source, out IPEndPoint? destination, out string? error)
    {
        consumed = buffer.Start;
        source = null;
        destination = null;
        error = null;
        if (buffer.IsEmpty)
        {
            return ProxyParseStatus.NeedMore;
        }

        // Neither version needs more than the first 107 bytes: a v1 line is at most that long, and v2 only
        // reads its 16-byte header and at most 36 address bytes (the TLVs are skipped by length).
        int available = (int)Math.Min(buffer.Length, MaxV1Length);
        Span<byte> copy = stackalloc byte[MaxV1Length];
        scoped ReadOnlySpan<byte> head;
        if (buffer.FirstSpan.Length >= available)
        {
            head = buffer.FirstSpan[..available];
        }
        else
        {
            buffer.Slice(0, available).CopyTo(copy);
            head = copy[..available];
        }

        ProxyParseStatus status;
        int headerLength;
        if (head[0] == V1Prefix[0])
        {
            status = ParseV1(head, out headerLength, out source, out destination, out error);
        }
        else if (head[0] == V2Signature[0])
        {
            status = ParseV2(head, buffer.Length, out headerLength, out source, out destination, out error);
        }
        else
        {
            error = Unrecognized;
            return ProxyParseStatus.Invalid;
        }

        if (status == ProxyParseStatus.Done)
        {
            consumed = buffer.GetPosition(headerLength);
        }
        return status;
    }

    // ---- Version 1 ----------------------------------------------------------------------------------------

    private static ProxyParseStatus ParseV1(ReadOnlySpan<byte> head, out int headerLength,
        out IPEndPoint? source, out IPEndPoint? destination, out string? error)
    {
        headerLength = 0;
        source = null;
        destination = null;
        error = null;

        int prefix = Math.Min(head.Length, V1Prefix.Length);
        if (!head[..prefix].SequenceEqual(V1Prefix[..prefix]))
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
        if (keyword.SequenceEqual("UNKNOWN"u8))
        {
            return null;   // the rest of the line, if any, is to be ignored
        }
        bool ipv6;
        if (keyword.SequenceEqual("TCP4"u8))
        {
            ipv6 = false;
        }
        else if (keyword.SequenceEqual("TCP6"u8))
        {
            ipv6 = true;
        }
        else
        {
            return BadProtocolType;
        }
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
        ReadOnlySpan<byte> keyword = partial[..space];
        if (keyword.SequenceEqual("UNKNOWN"u8))
        {
            return null;
        }
        bool ipv6;
        if (keyword.SequenceEqual("TCP4"u8))
        {
            ipv6 = false;
        }
        else if (keyword.SequenceEqual("TCP6"u8))
        {
            ipv6 = true;
        }
        else
        {
            return BadProtocolType;
        }

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

    // ---- Version 2 ----------------------------------------------------------------------------------------

    private static ProxyParseStatus ParseV2(ReadOnlySpan<byte> head, long total, out int headerLength,
        out IPEndPoint? source, out IPEndPoint? destination, out string? error)
    {
        headerLength = 0;
        source = null;
        destination = null;
        error = null;

        // Each check is made as soon as its byte is there, so garbage never waits for a timeout.
        int prefix = Math.Min(head.Length, V2Signature.Length);
        if (!head[..prefix].SequenceEqual(V2Signature[..prefix]))
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
