using Edge.Tests.Support;
using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Edge.Smtp.Proxy;

namespace Edge.Tests.Smtp;

public class ProxyHeaderTests
{
    private const string Trailing = "EHLO x\r\n";

    /// <summary>kind ("v1": the text itself, "v2": hex after the signature), header, source, destination.</summary>
    public static TheoryData<string, string, string?, string?> ValidHeaders => new()
    {
        { "v1", "PROXY TCP4 192.0.2.1 198.51.100.2 56324 25\r\n", "192.0.2.1:56324", "198.51.100.2:25" },
        { "v1", "PROXY TCP4 0.0.0.0 255.255.255.255 0 65535\r\n", "0.0.0.0:0", "255.255.255.255:65535" },
        { "v1", "PROXY TCP6 2001:db8::1 2001:db8::2 4000 25\r\n", "[2001:db8::1]:4000", "[2001:db8::2]:25" },
        {
            "v1",
            "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n",
            "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535", "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535"
        },
        { "v1", "PROXY TCP6 ::1 :: 1 2\r\n", "[::1]:1", "[::]:2" },
        { "v1", "PROXY TCP6 ::ffff:192.0.2.1 2001:DB8:0:0:0:0:0:2 1 2\r\n", "192.0.2.1:1", "[2001:db8::2]:2" },
        { "v1", "PROXY UNKNOWN\r\n", null, null },
        { "v1", "PROXY UNKNOWN 192.0.2.1 198.51.100.2 56324 25\r\n", null, null },
        {
            "v1",
            "PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n",
            null, null
        },
        { "v2", "21 11 000C C0000201 C6336402 DBC4 0019", "192.0.2.1:56260", "198.51.100.2:25" },
        { "v2", "21 11 0017 C0000201 C6336402 DBC4 0019 01 0004 736D7470 04 0001 00", "192.0.2.1:56260", "198.51.100.2:25" },
        {
            "v2", "21 21 0024 20010DB8000000000000000000000001 20010DB8000000000000000000000002 0FA0 0019",
            "[2001:db8::1]:4000", "[2001:db8::2]:25"
        },
        {
            "v2", "21 21 002B 20010DB8000000000000000000000001 20010DB8000000000000000000000002 0FA0 0019 02 0004 6D782E78",
            "[2001:db8::1]:4000", "[2001:db8::2]:25"
        },
        {
            "v2", "21 21 0024 00000000000000000000FFFFC0000201 00000000000000000000FFFFC6336402 0001 0019",
            "192.0.2.1:1", "198.51.100.2:25"
        },
        { "v2", "20 00 0000", null, null },
        { "v2", "20 11 0010 C0000201 C6336402 DBC4 0019 04 0001 00", null, null },
        { "v2", "20 31 0003 AABBCC", null, null },
        { "v2", "21 00 0000", null, null },
        { "v2", "21 00 0004 01020304", null, null },
    };

    [Fact]
    public void V1_tcp4_gives_both_endpoints_and_leaves_the_smtp_data()
    {
        byte[] input = Text("PROXY TCP4 192.0.2.1 198.51.100.2 56324 25\r\n" + Trailing);
        Result result = Parse(new ReadOnlySequence<byte>(input));
        Assert.Equal(ProxyParseStatus.Done, result.Status);
        Assert.Null(result.Error);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("192.0.2.1"), 56324), result.Source);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("198.51.100.2"), 25), result.Destination);
        Assert.Equal(input.Length - Trailing.Length, result.Consumed);
        Assert.Equal(Trailing, result.Rest);
    }

    [Fact]
    public void V1_tcp6_gives_ipv6_endpoints()
    {
        Result result = Parse(new ReadOnlySequence<byte>(Text("PROXY TCP6 2001:db8::1 2001:db8::2 4000 25\r\n")));
        Assert.Equal(ProxyParseStatus.Done, result.Status);
        Assert.Equal(AddressFamily.InterNetworkV6, result.Source!.AddressFamily);
        Assert.Equal(IPEndPoint.Parse("[2001:db8::1]:4000"), result.Source);
        Assert.Equal(IPEndPoint.Parse("[2001:db8::2]:25"), result.Destination);
    }

    [Fact]
    public void V1_unknown_keeps_the_connection_addresses()
    {
        Result result = Parse(new ReadOnlySequence<byte>(Text("PROXY UNKNOWN\r\n" + Trailing)));
        Assert.Equal(ProxyParseStatus.Done, result.Status);
        Assert.Null(result.Source);
        Assert.Null(result.Destination);
        Assert.Null(result.Error);
        Assert.Equal(Trailing, result.Rest);
    }

    [Fact]
    public void Ipv4_mapped_addresses_come_out_as_ipv4()
    {
        Result v1 = Parse(new ReadOnlySequence<byte>(Text("PROXY TCP6 ::ffff:192.0.2.1 ::FFFF:c633:6402 1 2\r\n")));
        Assert.Equal(ProxyParseStatus.Done, v1.Status);
        Assert.Equal(AddressFamily.InterNetwork, v1.Source!.AddressFamily);
        Assert.Equal(IPEndPoint.Parse("192.0.2.1:1"), v1.Source);
        Assert.Equal(IPEndPoint.Parse("198.51.100.2:2"), v1.Destination);

        Result v2 = Parse(new ReadOnlySequence<byte>(
            V2("21 21 0024 00000000000000000000FFFFC0000201 20010DB8000000000000000000000002 0001 0019")));
        Assert.Equal(ProxyParseStatus.Done, v2.Status);
        Assert.Equal(AddressFamily.InterNetwork, v2.Source!.AddressFamily);
        Assert.Equal(AddressFamily.InterNetworkV6, v2.Destination!.AddressFamily);
    }

    [Fact]
    public void V2_ipv4_without_and_with_tlvs()
    {
        byte[] plain = V2("21 11 000C C0000201 C6336402 DBC4 0019");
        byte[] withTlvs = V2("21 11 0017 C0000201 C6336402 DBC4 0019 01 0004 736D7470 04 0001 00");
        foreach (byte[] header in new[] { plain, withTlvs })
        {
            Result result = Parse(new ReadOnlySequence<byte>([.. header, .. Text(Trailing)]));
            Assert.Equal(ProxyParseStatus.Done, result.Status);
            Assert.Equal(IPEndPoint.Parse("192.0.2.1:56260"), result.Source);
            Assert.Equal(IPEndPoint.Parse("198.51.100.2:25"), result.Destination);
            Assert.Equal(header.Length, result.Consumed);
            Assert.Equal(Trailing, result.Rest);
        }
    }

    [Fact]
    public void V2_ipv6_without_and_with_tlvs()
    {
        byte[] plain = V2("21 21 0024 20010DB8000000000000000000000001 20010DB8000000000000000000000002 0FA0 0019");
        byte[] withTlvs = V2(
            "21 21 002B 20010DB8000000000000000000000001 20010DB8000000000000000000000002 0FA0 0019 02 0004 6D782E78");
        foreach (byte[] header in new[] { plain, withTlvs })
        {
            Result result = Parse(new ReadOnlySequence<byte>([.. header, .. Text(Trailing)]));
            Assert.Equal(ProxyParseStatus.Done, result.Status);
            Assert.Equal(IPEndPoint.Parse("[2001:db8::1]:4000"), result.Source);
            Assert.Equal(IPEndPoint.Parse("[2001:db8::2]:25"), result.Destination);
            Assert.Equal(header.Length, result.Consumed);
            Assert.Equal(Trailing, result.Rest);
        }
    }

    [Theory]
    [InlineData("20 00 0000")]
    [InlineData("20 11 000C C0000201 C6336402 DBC4 0019")]
    [InlineData("20 11 0010 C0000201 C6336402 DBC4 0019 04 0001 00")]
    [InlineData("20 31 0003 AABBCC")]
    public void V2_local_skips_the_block_and_keeps_the_connection_addresses(string hex)
    {
        byte[] header = V2(hex);
        Result result = Parse(new ReadOnlySequence<byte>([.. header, .. Text(Trailing)]));
        Assert.Equal(ProxyParseStatus.Done, result.Status);
        Assert.Null(result.Source);
        Assert.Null(result.Destination);
        Assert.Equal(header.Length, result.Consumed);
        Assert.Equal(Trailing, result.Rest);
    }

    [Theory]
    [MemberData(nameof(ValidHeaders))]
    public void Every_prefix_of_a_valid_header_needs_more(string kind, string header, string? source, string? destination)
    {
        byte[] bytes = Sample(kind, header);
        for (int length = 0; length < bytes.Length; length++)
        {
            var buffer = new ReadOnlySequence<byte>(bytes, 0, length);
            Result partial = Parse(buffer);
            Assert.True(partial.Status == ProxyParseStatus.NeedMore, $"{length} bytes: {partial.Status} {partial.Error}");
            Assert.Equal(0, partial.Consumed);
            Assert.Null(partial.Source);
            Assert.Null(partial.Destination);
            Assert.Null(partial.Error);
        }
        AssertParsed(Parse(new ReadOnlySequence<byte>(bytes)), bytes.Length, "", source, destination);
    }

    [Theory]
    [MemberData(nameof(ValidHeaders))]
    public void A_header_split_across_segments_parses(string kind, string header, string? source, string? destination)
    {
        byte[] bytes = [.. Sample(kind, header), .. Text(Trailing)];
        int headerLength = bytes.Length - Trailing.Length;
        for (int split = 1; split < bytes.Length; split++)
        {
            Result result = Parse(Segments.Of(bytes[..split], bytes[split..]));
            AssertParsed(result, headerLength, Trailing, source, destination);
        }
        AssertParsed(Parse(Segments.Of(bytes.Select(b => new[] { b }).ToArray())), headerLength, Trailing, source, destination);
    }

    [Theory]
    [MemberData(nameof(ValidHeaders))]
    public void Data_after_the_header_stays_unconsumed(string kind, string header, string? source, string? destination)
    {
        byte[] headerBytes = Sample(kind, header);
        // Data that looks like another header must not be taken either.
        byte[] bytes = [.. headerBytes, .. headerBytes, .. Text(Trailing)];
        var buffer = new ReadOnlySequence<byte>(bytes);
        Assert.Equal(ProxyParseStatus.Done, ProxyHeader.TryParse(buffer, out SequencePosition consumed, out _, out _, out _));
        Assert.Equal(headerBytes.Length, buffer.Slice(buffer.Start, consumed).Length);
        Assert.Equal(bytes[headerBytes.Length..], buffer.Slice(consumed).ToArray());
        AssertParsed(Parse(buffer), headerBytes.Length, Encoding.Latin1.GetString(bytes[headerBytes.Length..]),
            source, destination);
    }

    [Theory]
    // keyword
    [InlineData("PROXY TCP5 192.0.2.1 198.51.100.2 1 2\r\n", "bad or missing protocol type")]
    [InlineData("PROXY tcp4 192.0.2.1 198.51.100.2 1 2\r\n", "bad or missing protocol type")]
    [InlineData("PROXY UDP4 192.0.2.1 198.51.100.2 1 2\r\n", "bad or missing protocol type")]
    [InlineData("PROXY UNKNOWNX\r\n", "bad or missing protocol type")]
    [InlineData("PROXY \r\n", "bad or missing protocol type")]
    [InlineData("PROXY TCP4\t192.0.2.1 198.51.100.2 1 2\r\n", "bad or missing protocol type")]
    [InlineData("proxy TCP4 192.0.2.1 198.51.100.2 1 2\r\n", "unrecognized protocol header")]
    [InlineData("PROXYTCP4 192.0.2.1 198.51.100.2 1 2\r\n", "unrecognized protocol header")]
    // spacing and field count
    [InlineData("PROXY  TCP4 192.0.2.1 198.51.100.2 1 2\r\n", "bad or missing protocol type")]
    [InlineData("PROXY TCP4  192.0.2.1 198.51.100.2 1 2\r\n", "bad or missing client address")]
    [InlineData("PROXY TCP4 192.0.2.1  198.51.100.2 1 2\r\n", "bad or missing server address")]
    [InlineData("PROXY TCP4 192.0.2.1 198.51.100.2  1 2\r\n", "bad or missing client port")]
    [InlineData("PROXY TCP4 192.0.2.1 198.51.100.2 1  2\r\n", "bad or missing server port")]
    [InlineData("PROXY TCP4 192.0.2.1 198.51.100.2 1 2 \r\n", "bad or missing server port")]
    [InlineData("PROXY TCP4 192.0.2.1 198.51.100.2 1 2 3\r\n", "bad or missing server port")]
    [InlineData("PROXY TCP4 192.0.2.1 198.51.100.2 1\r\n", "bad or missing server port")]
    [InlineData("PROXY TCP4 192.0.2.1 198.51.100.2\r\n", "bad or missing client port")]
    [InlineData("PROXY TCP4 192.0.2.1\r\n", "bad or missing server address")]
    [InlineData("PROXY TCP4\r\n", "bad or missing client address")]
    [InlineData("PROXY TCP4 \r\n", "bad or missing client address")]
    // family mismatch
    [InlineData("PROXY TCP4 2001:db8::1 198.51.100.2 1 2\r\n", "bad or missing client address")]
    [InlineData("PROXY TCP4 192.0.2.1 2001:db8::2 1 2\r\n", "bad or missing server address")]
    [InlineData("PROXY TCP6 192.0.2.1 2001:db8::2 1 2\r\n", "bad or missing client address")]
    [InlineData("PROXY TCP6 2001:db8::1 198.51.100.2 1 2\r\n", "bad or missing server address")]
    // ports
    [InlineData("PROXY TCP4 192.0.2.1 198.51.100.2 65536 25\r\n", "bad or missing client port")]
    [InlineData("PROXY TCP4 192.0.2.1 198.51.100.2 25 65536\r\n", "bad or missing server port")]
    [InlineData("PROXY TCP4 192.0.2.1 198.51.100.2 +25 25\r\n", "bad or missing client port")]
    [InlineData("PROXY TCP4 192.0.2.1 198.51.100.2 25 -1\r\n", "bad or missing server port")]
    [InlineData("PROXY TCP4 192.0.2.1 198.51.100.2 025 25\r\n", "bad or missing client port")]
    [InlineData("PROXY TCP4 192.0.2.1 198.51.100.2 00 25\r\n", "bad or missing client port")]
    [InlineData("PROXY TCP4 192.0.2.1 198.51.100.2 1e3 25\r\n", "bad or missing client port")]
    [InlineData("PROXY TCP4 192.0.2.1 198.51.100.2 99999 25\r\n", "bad or missing client port")]
    [InlineData("PROXY TCP4 192.0.2.1 198.51.100.2 100000 25\r\n", "bad or missing client port")]
    // line ending
    [InlineData("PROXY TCP4 192.0.2.1 198.51.100.2 1 2\n", "bad protocol header terminator")]
    [InlineData("PROXY TCP4 192.0.2.1 198.51.100.2 1 2\rX\n", "bad protocol header terminator")]
    [InlineData("PROXY TCP4 192.0.2.1 198.51.100.2 1 2\n\r", "bad protocol header terminator")]
    [InlineData("PROXY UNKNOWN\n", "bad protocol header terminator")]
    [InlineData("PROXY UNKNOWN a\rb\r\n", "bad protocol header terminator")]
    public void Malformed_v1_lines_are_invalid(string input, string error)
    {
        Result result = Parse(new ReadOnlySequence<byte>(Text(input)));
        Assert.Equal(ProxyParseStatus.Invalid, result.Status);
        Assert.Equal(error, result.Error);
        Assert.Equal(0, result.Consumed);
        Assert.Null(result.Source);
        Assert.Null(result.Destination);
    }

    [Theory]
    [InlineData("TCP4", "192.0.2")]
    [InlineData("TCP4", "192.0.2.256")]
    [InlineData("TCP4", "192.0.2.01")]
    [InlineData("TCP4", "192.0.02.1")]
    [InlineData("TCP4", "192.0.2.1.5")]
    [InlineData("TCP4", "192.0.2.")]
    [InlineData("TCP4", ".192.0.2.1")]
    [InlineData("TCP4", "192.0..1")]
    [InlineData("TCP4", "0x7f.0.0.1")]
    [InlineData("TCP4", "3221225985")]
    [InlineData("TCP4", "1000.0.0.1")]
    [InlineData("TCP4", "-1.0.0.1")]
    [InlineData("TCP4", "localhost")]
    [InlineData("TCP6", "2001:db8::1%eth0")]
    [InlineData("TCP6", "[2001:db8::1]")]
    [InlineData("TCP6", "2001:db8::1/64")]
    [InlineData("TCP6", "1::2::3")]
    [InlineData("TCP6", ":::1")]
    [InlineData("TCP6", ":1::")]
    [InlineData("TCP6", ":")]
    [InlineData("TCP6", "1::2:")]
    [InlineData("TCP6", "1:2:3:4:5:6:7:8:9")]
    [InlineData("TCP6", "1:2:3:4:5:6:7")]
    [InlineData("TCP6", "1:2:3:4:5:6:7:8::")]
    [InlineData("TCP6", "::1:2:3:4:5:6:7:8")]
    [InlineData("TCP6", "1:2:3:4:5:6:7:1.2.3.4")]
    [InlineData("TCP6", "12345::")]
    [InlineData("TCP6", "g::1")]
    [InlineData("TCP6", "::1.2.3")]
    [InlineData("TCP6", "::1.2.3.04")]
    [InlineData("TCP6", "::1.2.3.4:5")]
    [InlineData("TCP6", "::1.2.3.4.5")]
    [InlineData("TCP6", "::ffff:1.2.3.256")]
    public void Bad_addresses_are_invalid(string protocol, string address)
    {
        string server = protocol == "TCP4" ? "198.51.100.2" : "2001:db8::2";
        Result client = Parse(new ReadOnlySequence<byte>(Text($"PROXY {protocol} {address} {server} 1 2\r\n")));
        Assert.Equal(ProxyParseStatus.Invalid, client.Status);
        Assert.Equal("bad or missing client address", client.Error);
        Result serverSide = Parse(new ReadOnlySequence<byte>(Text($"PROXY {protocol} {server} {address} 1 2\r\n")));
        Assert.Equal(ProxyParseStatus.Invalid, serverSide.Status);
        Assert.Equal("bad or missing server address", serverSide.Error);
    }

    [Theory]
    [InlineData("::")]
    [InlineData("::1")]
    [InlineData("1::")]
    [InlineData("1::8")]
    [InlineData("2001:DB8::a:B")]
    [InlineData("1:2:3:4:5:6:7:8")]
    [InlineData("1:2:3:4:5:6::8")]
    [InlineData("1::3:4:5:6:7:8")]
    [InlineData("0001:0002:0003:0004:0005:0006:0007:0008")]
    [InlineData("fe80::1:2")]
    [InlineData("::1.2.3.4")]
    [InlineData("1:2:3:4:5:6:1.2.3.4")]
    [InlineData("64:ff9b::192.0.2.33")]
    [InlineData("::ffff:0.0.0.0")]
    [InlineData("::ffff:c000:201")]
    public void Ipv6_text_forms_parse_like_the_framework(string address)
    {
        Result result = Parse(new ReadOnlySequence<byte>(Text($"PROXY TCP6 {address} ::1 1 2\r\n")));
        Assert.Equal(ProxyParseStatus.Done, result.Status);
        IPAddress expected = IPAddress.Parse(address);
        if (expected.IsIPv4MappedToIPv6)
        {
            expected = expected.MapToIPv4();
        }
        Assert.Equal(expected, result.Source!.Address);
    }

    [Fact]
    public void A_v1_line_of_107_bytes_is_the_longest()
    {
        string longest =
            "PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
        Assert.Equal(ProxyHeader.MaxV1Length, longest.Length);
        Result done = Parse(new ReadOnlySequence<byte>(Text(longest + Trailing)));
        Assert.Equal(ProxyParseStatus.Done, done.Status);
        Assert.Equal(107, done.Consumed);

        // One more byte before the CRLF: the CRLF no longer fits in 107 bytes.
        string tooLong = longest.Insert(14, "f");
        Result invalid = Parse(new ReadOnlySequence<byte>(Text(tooLong)));
        Assert.Equal(ProxyParseStatus.Invalid, invalid.Status);
        Assert.Equal("missing protocol header terminator", invalid.Error);
    }

    [Fact]
    public void Missing_crlf_after_107_bytes_is_invalid()
    {
        string start = "PROXY UNKNOWN " + new string('a', 92);
        Assert.Equal(106, start.Length);
        Assert.Equal(ProxyParseStatus.NeedMore, Parse(new ReadOnlySequence<byte>(Text(start))).Status);
        Assert.Equal(ProxyParseStatus.NeedMore, Parse(Segments.Of(Text(start[..50]), Text(start[50..]))).Status);

        foreach (string input in new[] { start + "a", start + "\r", start + "a\r\n", start + "aaaaaaa" })
        {
            Result result = Parse(new ReadOnlySequence<byte>(Text(input)));
            Assert.Equal(ProxyParseStatus.Invalid, result.Status);
            Assert.Equal("missing protocol header terminator", result.Error);
            Result split = Parse(Segments.Of(Text(input[..3]), Text(input[3..100]), Text(input[100..])));
            Assert.Equal(ProxyParseStatus.Invalid, split.Status);
        }
    }

    [Theory]
    [InlineData("E")]
    [InlineData("EHLO x\r\n")]
    [InlineData("HELO mail.example.org\r\n")]
    [InlineData("GET / HTTP/1.1\r\n")]
    [InlineData("Q")]
    [InlineData("PROXX")]
    [InlineData("PROXY\t")]
    [InlineData("PROXY X")]
    [InlineData("PROXY TCP5")]
    [InlineData("PROXY TCP44")]
    [InlineData("PROXY UNKNOWNX")]
    [InlineData("PROXY TCP4 192.0.2.x")]
    [InlineData("PROXY TCP4 2001:")]
    [InlineData("PROXY TCP4 1234567890123456")]
    [InlineData("PROXY TCP4  ")]
    [InlineData("PROXY TCP4 192.0.2.1  ")]
    [InlineData("PROXY TCP4 192.0.2.1 198.51.100.2 1.")]
    [InlineData("PROXY TCP4 192.0.2.1 198.51.100.2 123456")]
    [InlineData("PROXY TCP4 192.0.2.1 198.51.100.2 1 2 ")]
    [InlineData("PROXY TCP6 2001:db8::g")]
    [InlineData("PROXY TCP6 2001:db8::1%")]
    [InlineData("PROXY TCP6 [")]
    [InlineData("PROXY TCP4 192.0.2.1 198.51.100.2 1 2\n")]
    [InlineData("\r\r")]
    [InlineData("\r\n\r\n\0\r\nQUIX")]
    [InlineData("\r\nQUIT\r\n")]
    public void Input_that_cannot_become_a_header_is_rejected_at_once(string input)
    {
        Result result = Parse(new ReadOnlySequence<byte>(Text(input)));
        Assert.Equal(ProxyParseStatus.Invalid, result.Status);
        Assert.NotNull(result.Error);
        Assert.Equal(0, result.Consumed);
    }

    [Theory]
    [InlineData("P")]
    [InlineData("PROXY")]
    [InlineData("\r")]
    [InlineData("\r\n\r\n\0")]
    [InlineData("PROXY TCP4 192.0.2.1 198.51.100.2 1 2\r")]
    [InlineData("PROXY UNKNOWN whatever")]
    public void A_valid_prefix_waits(string input)
    {
        Result result = Parse(new ReadOnlySequence<byte>(Text(input)));
        Assert.Equal(ProxyParseStatus.NeedMore, result.Status);
        Assert.Null(result.Error);
    }

    [Fact]
    public void Plain_smtp_is_invalid()
    {
        Result result = Parse(new ReadOnlySequence<byte>(Text("EHLO x\r\n")));
        Assert.Equal(ProxyParseStatus.Invalid, result.Status);
        Assert.Equal("unrecognized protocol header", result.Error);
    }

    [Fact]
    public void A_tls_client_hello_is_invalid()
    {
        byte[] clientHello =
        [
            0x16, 0x03, 0x01, 0x00, 0xC8, 0x01, 0x00, 0x00, 0xC4, 0x03, 0x03,
            .. Enumerable.Range(0, 32).Select(i => (byte)i),
            0x00, 0x00, 0x04, 0x13, 0x01, 0x13, 0x02, 0x01, 0x00,
        ];
        for (int length = 1; length <= clientHello.Length; length++)
        {
            Result result = Parse(new ReadOnlySequence<byte>(clientHello, 0, length));
            Assert.Equal(ProxyParseStatus.Invalid, result.Status);
            Assert.Equal("unrecognized protocol header", result.Error);
        }
    }

    [Theory]
    [InlineData("11", "unrecognized protocol version")]
    [InlineData("31 11 000C C0000201 C6336402 DBC4 0019", "unrecognized protocol version")]
    [InlineData("01 11 000C C0000201 C6336402 DBC4 0019", "unrecognized protocol version")]
    [InlineData("12", "unrecognized protocol version")]
    [InlineData("22", "bad command in proxy header")]
    [InlineData("2F 11 000C C0000201 C6336402 DBC4 0019", "bad command in proxy header")]
    [InlineData("21 12", "unsupported network protocol")]
    [InlineData("21 12 000C C0000201 C6336402 DBC4 0019", "unsupported network protocol")]
    [InlineData("21 22 0024", "unsupported network protocol")]
    [InlineData("21 31 00D8", "unsupported network protocol")]
    [InlineData("21 32", "unsupported network protocol")]
    [InlineData("21 13", "bad address family")]
    [InlineData("21 10 0000", "bad address family")]
    [InlineData("21 01 0000", "bad address family")]
    [InlineData("21 41 000C C0000201 C6336402 DBC4 0019", "bad address family")]
    [InlineData("21 11 000B C0000201 C6336402 DBC4 00", "short address field")]
    [InlineData("21 11 0000", "short address field")]
    [InlineData("21 21 000C C0000201 C6336402 DBC4 0019", "short address field")]
    [InlineData("21 21 0023", "short address field")]
    [InlineData("21 11 1001", "protocol header too long")]
    [InlineData("21 11 FFFF", "protocol header too long")]
    [InlineData("20 00 FFFF", "protocol header too long")]
    public void Malformed_v2_headers_are_invalid_as_soon_as_the_bad_byte_arrives(string hex, string error)
    {
        Result result = Parse(new ReadOnlySequence<byte>(V2(hex)));
        Assert.Equal(ProxyParseStatus.Invalid, result.Status);
        Assert.Equal(error, result.Error);
        Assert.Equal(0, result.Consumed);
        Assert.Null(result.Source);
        Assert.Null(result.Destination);
    }

    [Fact]
    public void V2_tlvs_up_to_the_cap_are_skipped_across_segments()
    {
        int payload = ProxyHeader.MaxV2PayloadLength;
        int noopLength = payload - 12 - 3;
        byte[] header =
        [
            .. V2($"21 11 {payload:X4} C0000201 C6336402 DBC4 0019 04 {noopLength:X4}"),
            .. new byte[noopLength],
        ];
        Assert.Equal(16 + payload, header.Length);
        byte[] bytes = [.. header, .. Text(Trailing)];

        Assert.Equal(ProxyParseStatus.NeedMore, Parse(new ReadOnlySequence<byte>(bytes, 0, header.Length - 1)).Status);
        Assert.Equal(ProxyParseStatus.NeedMore, Parse(Segments.Of(bytes[..20], bytes[20..(header.Length - 1)])).Status);
        Result result = Parse(Segments.Of(bytes[..20], bytes[20..1000], bytes[1000..(header.Length + 3)], bytes[(header.Length + 3)..]));
        AssertParsed(result, header.Length, Trailing, "192.0.2.1:56260", "198.51.100.2:25");
    }

    [Fact]
    public void Only_the_returned_endpoints_are_allocated()
    {
        var needMore = new ReadOnlySequence<byte>(Text("PROXY TCP4 192.0.2.1 198.51.100"));
        var invalidText = new ReadOnlySequence<byte>(Text("PROXY TCP4 192.0.2.1 198.51.100.2 1 65536\r\n"));
        var invalidTls = new ReadOnlySequence<byte>([0x16, 0x03, 0x01, 0x00, 0xC8]);
        ReadOnlySequence<byte> local = Segments.Of(V2("20 11 000C C0000201 C6336402")[..14], V2("20 11 000C C0000201 C6336402 DBC4 0019")[14..]);
        ReadOnlySequence<byte> tcp4 = Segments.Of(Text("PROXY TCP4 192.0.2.1 198."), Text("51.100.2 56324 25\r\nEHLO x\r\n"));
        ReadOnlySequence<byte> tcp6 = Segments.Of(V2("21 21 0024 20010DB8000000000000000000000001")[..20],
            V2("21 21 0024 20010DB8000000000000000000000001 20010DB8000000000000000000000002 0FA0 0019")[20..]);
        ReadOnlySequence<byte>[] free = [needMore, invalidText, invalidTls, local];

        for (int warm = 0; warm < 3; warm++)
        {
            foreach (ReadOnlySequence<byte> input in (ReadOnlySequence<byte>[])[.. free, tcp4, tcp6])
            {
                ProxyHeader.TryParse(input, out _, out _, out _, out _);
            }
            ExpectedEndpoints(false);
            ExpectedEndpoints(true);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            foreach (ReadOnlySequence<byte> input in free)
            {
                ProxyHeader.TryParse(input, out _, out _, out _, out _);
            }
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);

        foreach ((ReadOnlySequence<byte> input, bool ipv6) in new[] { (tcp4, false), (tcp6, true) })
        {
            before = GC.GetAllocatedBytesForCurrentThread();
            ExpectedEndpoints(ipv6);
            long expected = GC.GetAllocatedBytesForCurrentThread() - before;
            before = GC.GetAllocatedBytesForCurrentThread();
            ProxyParseStatus status = ProxyHeader.TryParse(input, out _, out _, out _, out _);
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.Equal(ProxyParseStatus.Done, status);
            Assert.Equal(expected, allocated);
        }

        static void ExpectedEndpoints(bool ipv6)
        {
            ReadOnlySpan<byte> bytes = stackalloc byte[ipv6 ? 16 : 4];
            GC.KeepAlive(new IPEndPoint(new IPAddress(bytes), 1));
            GC.KeepAlive(new IPEndPoint(new IPAddress(bytes), 2));
        }
    }

    private sealed record Result(
        ProxyParseStatus Status, long Consumed, string Rest, IPEndPoint? Source, IPEndPoint? Destination, string? Error);

    private static Result Parse(ReadOnlySequence<byte> buffer)
    {
        ProxyParseStatus status = ProxyHeader.TryParse(buffer, out SequencePosition consumed,
            out IPEndPoint? source, out IPEndPoint? destination, out string? error);
        ReadOnlySequence<byte> rest = buffer.Slice(consumed);
        return new Result(status, buffer.Length - rest.Length, Encoding.Latin1.GetString(rest), source, destination, error);
    }

    private static void AssertParsed(Result result, long consumed, string rest, string? source, string? destination)
    {
        Assert.True(result.Status == ProxyParseStatus.Done, $"{result.Status}: {result.Error}");
        Assert.Null(result.Error);
        Assert.Equal(consumed, result.Consumed);
        Assert.Equal(rest, result.Rest);
        Assert.Equal(source is null ? null : IPEndPoint.Parse(source), result.Source);
        Assert.Equal(destination is null ? null : IPEndPoint.Parse(destination), result.Destination);
        if (source is not null)
        {
            Assert.Equal(IPEndPoint.Parse(source).AddressFamily, result.Source!.AddressFamily);
        }
    }

    private static byte[] Text(string text) => Encoding.Latin1.GetBytes(text);

    /// <summary>The v2 signature followed by the bytes written in hex (spaces ignored).</summary>
    private static byte[] V2(string hex) =>
        [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, .. Convert.FromHexString(hex.Replace(" ", ""))];

    private static byte[] Sample(string kind, string header) => kind switch
    {
        "v1" => Text(header),
        "v2" => V2(header),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };
}
