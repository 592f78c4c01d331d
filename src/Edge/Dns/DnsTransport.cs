using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Edge.Dns;

/// <summary>Why an exchange with one server gave no reply to interpret.</summary>
internal enum DnsExchangeFailure : byte
{
    None,
    Timeout,
    /// <summary>The network said no: ICMP port unreachable, no route, TCP connection refused or cut.</summary>
    Unreachable,
    /// <summary>A reply with our ID and question whose content does not parse.</summary>
    Malformed,
}

/// <summary>The outcome of one exchange: a reply, or why there is none.</summary>
internal readonly record struct DnsExchange(DnsMessage? Reply, DnsExchangeFailure Failure);

/// <summary>
/// One query to one server: over UDP, and again over TCP when the UDP reply is truncated (RFC 7766).
/// </summary>
internal static class DnsTransport
{
    private const int MaxUdpReply = 65535;

    public static async Task<DnsExchange> ExchangeAsync(
        IPEndPoint server, DnsQuestion question, bool edns, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ushort id = DnsQuery.NewId();
        byte[] query = DnsQuery.Build(id, question, edns);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            (DnsExchange exchange, bool truncated) = await UdpAsync(server, query, id, question, deadline.Token);
            if (!truncated)
            {
                return exchange;
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new DnsExchange(null, DnsExchangeFailure.Timeout);
        }
        catch (SocketException)
        {
            return new DnsExchange(null, DnsExchangeFailure.Unreachable);
        }

        // The TCP exchange gets a timeout of its own: it needs a handshake and carries the larger answer.
        using var tcpDeadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        tcpDeadline.CancelAfter(timeout);
        try
        {
            return await TcpAsync(server, query, id, question, tcpDeadline.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new DnsExchange(null, DnsExchangeFailure.Timeout);
        }
        catch (Exception e) when (e is SocketException or IOException)
        {
            return new DnsExchange(null, DnsExchangeFailure.Unreachable);
        }
    }

    /// <summary>
    /// A fresh socket per query: the kernel binds it to a random ephemeral port (Linux randomizes the choice),
    /// which with the random ID is what makes a reply hard to forge. The socket is connected, so the kernel
    /// drops datagrams from any address or port but the server's, and an ICMP port unreachable ends the wait
    /// early. A datagram that is not the reply to this query (wrong ID, other question, unparsable header)
    /// is ignored and the wait goes on to the same deadline, so a flood of forgeries cannot extend it.
    /// </summary>
    private static async Task<(DnsExchange, bool Truncated)> UdpAsync(
        IPEndPoint server, byte[] query, ushort id, DnsQuestion question, CancellationToken cancellationToken)
    {
        using var socket = new Socket(server.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        socket.Connect(server);
        await socket.SendAsync(query, SocketFlags.None, cancellationToken);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(MaxUdpReply);
        try
        {
            while (true)
            {
                int received = await socket.ReceiveAsync(buffer.AsMemory(0, MaxUdpReply), SocketFlags.None, cancellationToken);
                ReadOnlySpan<byte> reply = buffer.AsSpan(0, received);
                if (!DnsMessage.IsReplyTo(reply, id, question, out bool truncated))
                {
                    continue;
                }
                if (truncated)
                {
                    return (default, true);
                }
                return (Parse(reply), false);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>RFC 1035 §4.2.2: the same query with a two-byte length in front, one reply likewise.</summary>
    private static async Task<DnsExchange> TcpAsync(
        IPEndPoint server, byte[] query, ushort id, DnsQuestion question, CancellationToken cancellationToken)
    {
        using var socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(server, cancellationToken);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        byte[] framed = new byte[2 + query.Length];
        BinaryPrimitives.WriteUInt16BigEndian(framed, (ushort)query.Length);
        query.CopyTo(framed, 2);
        await stream.WriteAsync(framed, cancellationToken);
        byte[] length = new byte[2];
        await stream.ReadExactlyAsync(length, cancellationToken);
        byte[] reply = new byte[BinaryPrimitives.ReadUInt16BigEndian(length)];
        await stream.ReadExactlyAsync(reply, cancellationToken);
        // Nobody but the server can answer on this connection, so a reply that does not match is broken.
        return DnsMessage.IsReplyTo(reply, id, question, out _)
            ? Parse(reply)
            : new DnsExchange(null, DnsExchangeFailure.Malformed);
    }

    private static DnsExchange Parse(ReadOnlySpan<byte> reply)
    {
        try
        {
            return new DnsExchange(DnsMessage.Parse(reply), DnsExchangeFailure.None);
        }
        catch (DnsFormatException)
        {
            return new DnsExchange(null, DnsExchangeFailure.Malformed);
        }
    }
}
