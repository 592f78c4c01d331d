using System.Net;
using System.Net.Sockets;

namespace Edge.Tests.Dns;

/// <summary>A datagram to send back, from the server's socket or from another port (a spoofer's).</summary>
internal sealed record ScriptedReply(byte[] Packet, bool FromOtherPort = false);

/// <summary>
/// A UDP "DNS server" on 127.0.0.1 that answers each query with what the script returns — nothing at all for
/// a server that never replies, or forged, broken and odd replies the resolver must cope with.
/// </summary>
internal sealed class ScriptedDnsServer : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
    private readonly Socket _otherPort = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
    private readonly Func<byte[], IEnumerable<ScriptedReply>> _script;
    private readonly List<byte[]> _queries = [];
    private readonly List<int> _sourcePorts = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public ScriptedDnsServer(Func<byte[], IEnumerable<ScriptedReply>> script)
    {
        _script = script;
        _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _otherPort.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        EndPoint = (IPEndPoint)_socket.LocalEndPoint!;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>A server that receives and never answers.</summary>
    public static ScriptedDnsServer Silent() => new(_ => []);

    public IPEndPoint EndPoint { get; }

    public IReadOnlyList<byte[]> Queries
    {
        get
        {
            lock (_queries)
            {
                return _queries.ToArray();
            }
        }
    }

    /// <summary>The port each query came from.</summary>
    public IReadOnlyList<int> SourcePorts
    {
        get
        {
            lock (_queries)
            {
                return _sourcePorts.ToArray();
            }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _socket.Dispose();
        _otherPort.Dispose();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // The loop ends with the socket's disposal.
        }
        _stop.Dispose();
    }

    private async Task RunAsync()
    {
        byte[] buffer = new byte[65535];
        while (!_stop.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), _stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            byte[] query = buffer.AsSpan(0, received.ReceivedBytes).ToArray();
            lock (_queries)
            {
                _queries.Add(query);
                _sourcePorts.Add(((IPEndPoint)received.RemoteEndPoint).Port);
            }
            foreach (ScriptedReply reply in _script(query))
            {
                Socket from = reply.FromOtherPort ? _otherPort : _socket;
                await from.SendToAsync(reply.Packet, SocketFlags.None, received.RemoteEndPoint);
            }
        }
    }
}
