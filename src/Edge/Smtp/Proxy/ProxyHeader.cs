using System.Buffers;
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
internal static partial class ProxyHeader
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

    /// <summary>Whether the bytes so far can still begin <paramref name="signature"/>, so a mismatch is refused at its first byte.</summary>
    private static bool StartsLike(ReadOnlySpan<byte> head, ReadOnlySpan<byte> signature)
    {
        int length = Math.Min(head.Length, signature.Length);
        return head[..length].SequenceEqual(signature[..length]);
    }
}
