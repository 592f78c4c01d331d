using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Edge.Dns;

/// <summary>A query packet: one question, recursion desired, and (unless a server refused it) an EDNS0 OPT record.</summary>
internal static class DnsQuery
{
    /// <summary>
    /// The UDP payload size advertised in the OPT record: the DNS flag day 2020 value, small enough not to be
    /// fragmented on any path, so no answer is lost to dropped fragments (or spoofed through them).
    /// </summary>
    public const ushort UdpPayloadSize = 1232;

    /// <summary>A random query ID from the system CSPRNG: with the random source port, what a spoofer must guess.</summary>
    public static ushort NewId() => (ushort)RandomNumberGenerator.GetInt32(0, 0x10000);

    public static byte[] Build(ushort id, DnsQuestion question, bool edns)
    {
        var packet = new List<byte>(32 + question.Name.Length);
        Span<byte> header = stackalloc byte[12];
        BinaryPrimitives.WriteUInt16BigEndian(header, id);
        header[2] = 0x01; // RD: the server is a recursive resolver; this is a stub
        BinaryPrimitives.WriteUInt16BigEndian(header[4..], 1); // QDCOUNT
        BinaryPrimitives.WriteUInt16BigEndian(header[10..], (ushort)(edns ? 1 : 0)); // ARCOUNT
        packet.AddRange(header);
        DnsName.Write(packet, question.Name);
        AddUInt16(packet, (ushort)question.Type);
        AddUInt16(packet, question.Class);
        if (edns)
        {
            // RFC 6891 §6.1.2: root owner, CLASS = payload size, TTL = extended RCODE 0, version 0, no DO bit.
            packet.Add(0);
            AddUInt16(packet, (ushort)DnsRecordType.OPT);
            AddUInt16(packet, UdpPayloadSize);
            AddUInt16(packet, 0);
            AddUInt16(packet, 0);
            AddUInt16(packet, 0); // RDLENGTH
        }
        return packet.ToArray();
    }

    private static void AddUInt16(List<byte> packet, ushort value)
    {
        packet.Add((byte)(value >> 8));
        packet.Add((byte)value);
    }
}
