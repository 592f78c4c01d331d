using System.Buffers.Binary;
using System.Net;
using System.Text;
using Edge.Dns;

namespace Edge.Tests.Dns;

/// <summary>One resource record for a hand-made reply; names are written uncompressed.</summary>
internal sealed record TestRecord(string Name, DnsRecordType Type, uint Ttl, byte[] Data)
{
    public static TestRecord A(string name, string address, uint ttl = 300) =>
        new(name, DnsRecordType.A, ttl, IPAddress.Parse(address).GetAddressBytes());

    public static TestRecord Cname(string name, string target, uint ttl = 300) =>
        new(name, DnsRecordType.CNAME, ttl, TestPackets.Name(target));

    public static TestRecord Txt(string name, string text, uint ttl = 300)
    {
        byte[] bytes = Encoding.ASCII.GetBytes(text);
        return new(name, DnsRecordType.TXT, ttl, [(byte)bytes.Length, .. bytes]);
    }

    public static TestRecord Mx(string name, ushort preference, string exchange, uint ttl = 300) =>
        new(name, DnsRecordType.MX, ttl, [.. TestPackets.UInt16(preference), .. TestPackets.Name(exchange)]);

    /// <summary>An SOA record with the given MINIMUM (the other fields do not matter here).</summary>
    public static TestRecord Soa(string zone, uint ttl, uint minimum)
    {
        var data = new List<byte>();
        data.AddRange(TestPackets.Name("ns." + zone));
        data.AddRange(TestPackets.Name("hostmaster." + zone));
        foreach (uint value in new uint[] { 1, 3600, 600, 86400, minimum })
        {
            data.AddRange(TestPackets.UInt32(value));
        }
        return new(zone, DnsRecordType.SOA, ttl, data.ToArray());
    }
}

/// <summary>Hand-made DNS packets for the parser tests and the scripted server.</summary>
internal static class TestPackets
{
    /// <summary>A reply to <paramref name="query"/>: its ID (unless another is given) and question, then the records.</summary>
    public static byte[] Reply(
        byte[] query, int rcode = 0, IEnumerable<TestRecord>? answers = null, IEnumerable<TestRecord>? authority = null,
        bool truncated = false, ushort? id = null)
    {
        TestRecord[] an = answers?.ToArray() ?? [];
        TestRecord[] ns = authority?.ToArray() ?? [];
        var packet = new List<byte>();
        packet.AddRange(UInt16(id ?? BinaryPrimitives.ReadUInt16BigEndian(query)));
        packet.AddRange(UInt16((ushort)(0x8180 | (truncated ? 0x0200 : 0) | rcode)));
        packet.AddRange(UInt16(1));
        packet.AddRange(UInt16((ushort)an.Length));
        packet.AddRange(UInt16((ushort)ns.Length));
        packet.AddRange(UInt16(0));
        packet.AddRange(query.AsSpan(12, QuestionLength(query)).ToArray());
        foreach (TestRecord record in an.Concat(ns))
        {
            packet.AddRange(Name(record.Name));
            packet.AddRange(UInt16((ushort)record.Type));
            packet.AddRange(UInt16(1));
            packet.AddRange(UInt32(record.Ttl));
            packet.AddRange(UInt16((ushort)record.Data.Length));
            packet.AddRange(record.Data);
        }
        return packet.ToArray();
    }

    /// <summary>The queried name of a query packet, as the resolver normalized it.</summary>
    public static string QuestionName(byte[] query)
    {
        var reader = new DnsMessageReader(query);
        reader.ReadBytes(12);
        return reader.ReadQuestion().Name;
    }

    public static int AdditionalCount(byte[] query) => BinaryPrimitives.ReadUInt16BigEndian(query.AsSpan(10));

    public static byte[] Name(string name)
    {
        var bytes = new List<byte>();
        foreach (string label in name.TrimEnd('.').Split('.', StringSplitOptions.RemoveEmptyEntries))
        {
            bytes.Add((byte)label.Length);
            bytes.AddRange(Encoding.ASCII.GetBytes(label));
        }
        bytes.Add(0);
        return bytes.ToArray();
    }

    public static byte[] UInt16(ushort value) => [(byte)(value >> 8), (byte)value];

    public static byte[] UInt32(uint value) => [(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value];

    private static int QuestionLength(byte[] query)
    {
        var reader = new DnsMessageReader(query);
        reader.ReadBytes(12);
        reader.ReadQuestion();
        return reader.Position - 12;
    }
}
