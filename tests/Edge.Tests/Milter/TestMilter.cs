using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;

using Edge.Tests.Support;

namespace Edge.Tests.Milter;

/// <summary>How a <see cref="TestMilter"/> behaves on the wire.</summary>
public enum MilterBehaviour
{
    /// <summary>Speaks the protocol and answers each event as the test's script says.</summary>
    Normal,
    /// <summary>Negotiates, then never answers an event.</summary>
    Silent,
    /// <summary>Answers the negotiation with bytes that are not a milter packet.</summary>
    Garbage,
}

/// <summary>
/// A mail filter the tests script, speaking libmilter's side of the protocol on 127.0.0.1: it negotiates protocol
/// version 6 with every action and every event, records each event (with the macros that came before it), and answers
/// each with the packets <see cref="Script"/> gives (continue when it gives none).
/// </summary>
public sealed class TestMilter(MilterBehaviour behaviour = MilterBehaviour.Normal) : LoopbackServer
{
    public string Endpoint => $"inet:127.0.0.1:{Port}";

    /// <summary>Each event: its command, its data, and the macros sent for it (name to value).</summary>
    public ConcurrentQueue<(char Command, byte[] Data, Dictionary<string, string> Macros)> Events { get; } = new();

    /// <summary>The protocol flags (SMFIP_*) it asks for in the negotiation: events it does not want, or wants more of.</summary>
    public uint ProtocolFlags { get; init; }

    /// <summary>The answers to an event; null or empty means continue.</summary>
    public Func<char, byte[], IEnumerable<byte[]>?> Script { get; set; } = (_, _) => null;

    /// <summary>The events' data as text (NULs shown as '|'), in order, one line per event: "M <a@b>|".</summary>
    public string[] Log => [.. Events.Select(e => $"{e.Command} {Encoding.UTF8.GetString(e.Data).Replace('\0', '|')}")];

    /// <summary>A packet: the reply command and its NUL-terminated strings.</summary>
    public static byte[] Packet(char command, params string[] strings) =>
        [(byte)command, .. strings.SelectMany(s => Encoding.UTF8.GetBytes(s).Append((byte)0))];

    /// <summary>A packet with a 32-bit index before its strings (change or insert header).</summary>
    public static byte[] IndexedPacket(char command, int index, params string[] strings)
    {
        byte[] number = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(number, index);
        return [(byte)command, .. number, .. strings.SelectMany(s => Encoding.UTF8.GetBytes(s).Append((byte)0))];
    }

    protected override async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            NetworkStream stream = client.GetStream();
            var macros = new Dictionary<string, string>();
            try
            {
                while (true)
                {
                    byte[] header = new byte[4];
                    await stream.ReadExactlyAsync(header, Stopping);
                    byte[] packet = new byte[BinaryPrimitives.ReadUInt32BigEndian(header)];
                    await stream.ReadExactlyAsync(packet, Stopping);
                    char command = (char)packet[0];
                    byte[] data = packet[1..];
                    switch (command)
                    {
                        case 'O' when behaviour == MilterBehaviour.Garbage:
                            await stream.WriteAsync("this is not a milter\r\n"u8.ToArray(), Stopping);
                            continue;
                        case 'O':
                            byte[] words = new byte[12];
                            BinaryPrimitives.WriteUInt32BigEndian(words, 6);
                            BinaryPrimitives.WriteUInt32BigEndian(words.AsSpan(4), 0x1FF);
                            BinaryPrimitives.WriteUInt32BigEndian(words.AsSpan(8), ProtocolFlags);
                            await WriteAsync(stream, [(byte)'O', .. words]);
                            continue;
                        case 'D':
                            macros = Macros(data[1..]);
                            continue;
                        case 'A':
                            continue;
                        case 'Q':
                            return;
                    }
                    Events.Enqueue((command, data, macros));
                    macros = [];
                    if (behaviour == MilterBehaviour.Silent)
                    {
                        continue;
                    }
                    IEnumerable<byte[]>? answers = Script(command, data);
                    foreach (byte[] answer in answers is null || !answers.Any() ? [[(byte)'c']] : answers)
                    {
                        await WriteAsync(stream, answer);
                    }
                }
            }
            catch (Exception e) when (e is IOException or EndOfStreamException or OperationCanceledException or ObjectDisposedException)
            {
            }
        }
    }

    private static Dictionary<string, string> Macros(byte[] data)
    {
        string[] parts = Encoding.UTF8.GetString(data).Split('\0');
        var macros = new Dictionary<string, string>();
        for (int i = 0; i + 1 < parts.Length; i += 2)
        {
            macros[parts[i]] = parts[i + 1];
        }
        return macros;
    }

    private async Task WriteAsync(NetworkStream stream, byte[] packet)
    {
        byte[] length = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(length, (uint)packet.Length);
        await stream.WriteAsync(length, Stopping);
        await stream.WriteAsync(packet, Stopping);
    }
}
