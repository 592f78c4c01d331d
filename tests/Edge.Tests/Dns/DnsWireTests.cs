using System.Net;
using Edge.Dns;

namespace Edge.Tests.Dns;

/// <summary>The wire format: hostile and broken packets must end as DnsFormatException, never anything else.</summary>
public class DnsWireTests
{
    private static readonly DnsQuestion Question = new("host.test", DnsRecordType.A);

    private static byte[] Query(ushort id = 0x1234) => DnsQuery.Build(id, Question, edns: true);

    /// <summary>A reply with compression as servers write it: the answers' owners point at the question.</summary>
    private static byte[] CompressedReply()
    {
        byte[] query = DnsQuery.Build(0x1234, Question, edns: false);
        var packet = new List<byte>(query);
        packet[2] = 0x81;
        packet[3] = 0x80;
        packet[7] = 3; // ANCOUNT
        packet.AddRange([0xC0, 12, 0, 5, 0, 1, 0, 0, 0, 60]); // host.test CNAME
        packet.AddRange([0, 6, 3, (byte)'w', (byte)'w', (byte)'w', 0xC0, 12]); // www.host.test
        int alias = packet.Count - 6;
        packet.AddRange([0xC0, (byte)alias, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 192, 0, 2, 1]);
        packet.AddRange([0xC0, (byte)alias, 0, 15, 0, 1, 0, 0, 0, 30, 0, 4, 0, 10, 0xC0, (byte)alias]);
        return packet.ToArray();
    }

    [Fact]
    public void A_compressed_reply_is_read()
    {
        DnsMessage message = DnsMessage.Parse(CompressedReply());
        Assert.Equal(0x1234, message.Id);
        Assert.True(message.IsResponse);
        Assert.Equal(3, message.Answers.Count);
        Assert.Equal("www.host.test", message.Answers[0].Data);
        Assert.Equal("www.host.test", message.Answers[1].Name);
        Assert.Equal(IPAddress.Parse("192.0.2.1"), message.Answers[1].Data);
        Assert.Equal(new MxRecord(10, "www.host.test"), message.Answers[2].Data);

        (DnsResult result, string? dangling) = DnsReplyInterpreter.Interpret(message, "HOST.test", DnsRecordType.A, TimeSpan.FromHours(1));
        Assert.Null(dangling);
        Assert.Equal(DnsStatus.Ok, result.Status);
        Assert.Equal(TimeSpan.FromSeconds(30), result.Ttl);
    }

    [Fact]
    public void Every_truncation_of_a_reply_is_a_format_error()
    {
        byte[] reply = CompressedReply();
        for (int length = 0; length < reply.Length; length++)
        {
            Assert.Throws<DnsFormatException>(() => DnsMessage.Parse(reply.AsSpan(0, length)));
        }
    }

    [Theory]
    [InlineData(new byte[] { 0xC0, 12 })]              // points at itself
    [InlineData(new byte[] { 0xC0, 14, 0xC0, 12 })]    // a forward pointer, then back: a cycle of two
    [InlineData(new byte[] { 1, (byte)'a', 0xC0, 12 })] // a label, then back to its own start
    [InlineData(new byte[] { 0xC0, 200 })]             // past the end
    [InlineData(new byte[] { 0x40, 0 })]               // extended label type
    [InlineData(new byte[] { 0x80, 0 })]               // reserved label type
    public void A_bad_name_in_the_question_is_a_format_error(byte[] name)
    {
        byte[] packet = [0x12, 0x34, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, .. name, 0, 1, 0, 1];
        DnsFormatException e = Assert.Throws<DnsFormatException>(() => DnsMessage.Parse(packet));
        Assert.False(DnsMessage.IsReplyTo(packet, 0x1234, Question, out _), e.Message);
    }

    [Fact]
    public void A_name_longer_than_255_octets_is_a_format_error()
    {
        // Five labels of 60 octets: 306 octets of name, each label well-formed.
        var packet = new List<byte> { 0x12, 0x34, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0 };
        for (int i = 0; i < 5; i++)
        {
            packet.Add(60);
            packet.AddRange(Enumerable.Repeat((byte)'a', 60));
        }
        packet.AddRange([0, 0, 1, 0, 1]);
        Assert.Throws<DnsFormatException>(() => DnsMessage.Parse(packet.ToArray()));
    }

    [Fact]
    public void Random_garbage_never_throws_anything_else()
    {
        var random = new Random(1);
        byte[] reply = CompressedReply();
        for (int i = 0; i < 20_000; i++)
        {
            byte[] packet = (byte[])reply.Clone();
            for (int flips = random.Next(1, 6); flips > 0; flips--)
            {
                packet[random.Next(packet.Length)] = (byte)random.Next(256);
            }
            try
            {
                DnsMessage.Parse(packet);
            }
            catch (DnsFormatException)
            {
            }
            DnsMessage.IsReplyTo(packet, 0x1234, Question, out _);
        }
    }

    [Fact]
    public void A_reply_must_have_our_id_our_question_and_be_a_response()
    {
        byte[] reply = TestPackets.Reply(Query());
        Assert.True(DnsMessage.IsReplyTo(reply, 0x1234, Question, out bool truncated));
        Assert.False(truncated);
        Assert.True(DnsMessage.IsReplyTo(reply, 0x1234, Question with { Name = "HOST.TEST" }, out _));
        Assert.False(DnsMessage.IsReplyTo(reply, 0x1235, Question, out _));
        Assert.False(DnsMessage.IsReplyTo(reply, 0x1234, Question with { Name = "other.test" }, out _));
        Assert.False(DnsMessage.IsReplyTo(reply, 0x1234, Question with { Type = DnsRecordType.AAAA }, out _));
        Assert.False(DnsMessage.IsReplyTo(Query(), 0x1234, Question, out _)); // our own query echoed back
        Assert.False(DnsMessage.IsReplyTo(reply.AsSpan(0, 11), 0x1234, Question, out _));
        Assert.True(DnsMessage.IsReplyTo(TestPackets.Reply(Query(), truncated: true), 0x1234, Question, out truncated));
        Assert.True(truncated);
    }

    [Fact]
    public void The_query_is_one_question_with_recursion_desired_and_an_opt_record()
    {
        byte[] query = DnsQuery.Build(0xBEEF, new DnsQuestion("mail.example", DnsRecordType.MX), edns: true);
        Assert.Equal(
            new byte[]
            {
                0xBE, 0xEF, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 1,
                4, (byte)'m', (byte)'a', (byte)'i', (byte)'l', 7, (byte)'e', (byte)'x', (byte)'a', (byte)'m', (byte)'p', (byte)'l', (byte)'e', 0,
                0, 15, 0, 1,
                0, 0, 41, 0x04, 0xD0, 0, 0, 0, 0, 0, 0,
            },
            query);
    }

    [Fact]
    public void Txt_strings_are_joined_and_their_lengths_checked()
    {
        byte[] query = Query();
        byte[] good = TestPackets.Reply(query, answers: [new TestRecord("host.test", DnsRecordType.TXT, 60, [2, (byte)'a', (byte)'b', 0, 1, (byte)'c'])]);
        Assert.Equal("abc", DnsMessage.Parse(good).Answers[0].Data);
        byte[] bad = TestPackets.Reply(query, answers: [new TestRecord("host.test", DnsRecordType.TXT, 60, [3, (byte)'a', (byte)'b'])]);
        Assert.Throws<DnsFormatException>(() => DnsMessage.Parse(bad));
    }

    [Fact]
    public void The_extended_rcode_comes_from_the_opt_record()
    {
        byte[] reply = [.. TestPackets.Reply(Query()), 0, 0, 41, 0x04, 0xD0, 1, 0, 0, 0, 0, 0];
        reply[11] = 1; // ARCOUNT
        DnsMessage message = DnsMessage.Parse(reply);
        Assert.True(message.HasOpt);
        Assert.Equal(16, message.ResponseCode); // BADVERS
    }

    [Theory]
    [InlineData("example.org", "example.org")]
    [InlineData("example.org.", "example.org")]
    [InlineData("_dmarc.Example.ORG", "_dmarc.Example.ORG")]
    [InlineData("bücher.example", "xn--bcher-kva.example")]
    [InlineData("MÜNCHEN.de", "xn--mnchen-3ya.de")]
    [InlineData(".", "")]
    public void Names_are_normalized_for_the_wire(string name, string expected)
    {
        Assert.Equal(expected, DnsName.Normalize(name));
    }

    [Theory]
    [InlineData("a..b")]
    [InlineData(".a")]
    [InlineData("a.b..")]
    [InlineData("tab\there")]
    public void Names_that_are_no_domain_names_are_refused(string name)
    {
        Assert.Null(DnsName.Normalize(name));
    }

    [Fact]
    public void Labels_and_names_have_their_length_limits()
    {
        Assert.NotNull(DnsName.Normalize(new string('a', 63) + ".test"));
        Assert.Null(DnsName.Normalize(new string('a', 64) + ".test"));
        string label = new('a', 63);
        string name253 = $"{label}.{label}.{label}.{new string('b', 61)}";
        Assert.NotNull(DnsName.Normalize(name253));
        Assert.Null(DnsName.Normalize(name253 + "b"));
    }

    [Theory]
    [InlineData("192.0.2.1", "1.2.0.192.in-addr.arpa")]
    [InlineData("::ffff:192.0.2.1", "1.2.0.192.in-addr.arpa")]
    [InlineData("2001:db8::567:89ab", "b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa")]
    public void Reverse_names_are_built_per_rfc(string address, string expected)
    {
        Assert.Equal(expected, ReverseName.For(IPAddress.Parse(address)));
    }

    [Fact]
    public void Odd_bytes_in_names_are_escaped_so_they_cannot_pass_for_other_names()
    {
        // The label "a.b" (one label with a dot in it) is not the two labels a and b.
        byte[] packet = [0x12, 0x34, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 3, (byte)'a', (byte)'.', (byte)'b', 0, 0, 1, 0, 1];
        DnsMessage message = DnsMessage.Parse(packet);
        Assert.Equal("a\\046b", message.Questions[0].Name);
        Assert.False(DnsMessage.IsReplyTo(packet, 0x1234, new DnsQuestion("a.b", DnsRecordType.A), out _));
    }
}
