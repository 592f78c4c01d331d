using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Edge.Tests.Delivery;

/// <summary>
/// A TCP relay in front of a real server that spoils the first TLS handshake: once the server has said
/// "220 … Ready to start TLS" on the first connection, the client gets plaintext garbage instead of the
/// server's handshake, and the connection closes. Later connections are relayed untouched.
/// </summary>
public sealed class BrokenTlsProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;

    public BrokenTlsProxy(int targetPort)
    {
        _target = targetPort;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public int Connections { get; private set; }

    private async Task AcceptAsync()
    {
        var relays = new List<Task>();
        try
        {
            while (true)
            {
                Socket client = await _listener.AcceptSocketAsync(_stop.Token);
                relays.Add(RelayAsync(client, spoil: ++Connections == 1));
            }
        }
        catch (OperationCanceledException)
        {
            await Task.WhenAll(relays);
        }
    }

    private async Task RelayAsync(Socket client, bool spoil)
    {
        using (client)
        using (var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            await server.ConnectAsync(new IPEndPoint(IPAddress.Loopback, _target));
            using var done = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            Task up = PumpAsync(client, server, spoil: false, done.Token);
            Task down = PumpAsync(server, client, spoil, done.Token);
            await Task.WhenAny(up, down);
            await done.CancelAsync();
            try
            {
                await Task.WhenAll(up, down);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException)
            {
                // One side hung up; the relay ends.
            }
        }
    }

    private static async Task PumpAsync(Socket from, Socket to, bool spoil, CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        var seen = new StringBuilder();
        while (true)
        {
            int read = await from.ReceiveAsync(buffer, cancellationToken);
            if (read == 0)
            {
                return;
            }
            await to.SendAsync(buffer.AsMemory(0, read), cancellationToken);
            if (spoil && seen.Append(Encoding.ASCII.GetString(buffer, 0, read)).ToString().Contains("Ready to start TLS"))
            {
                await to.SendAsync("this is not a TLS server hello\r\n"u8.ToArray(), cancellationToken);
                return;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
    }
}
