using System.Net;
using System.Net.Sockets;

namespace Edge.Tests.Support;

/// <summary>
/// A server a test scripts, on 127.0.0.1: it accepts connections until it is disposed and serves each with
/// <see cref="ServeAsync"/>, which stops when <see cref="Stopping"/> is cancelled.
/// </summary>
public abstract class LoopbackServer : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;

    /// <param name="port">The port to listen on; 0 for a free one.</param>
    protected LoopbackServer(int port = 0)
    {
        _listener = new TcpListener(IPAddress.Loopback, port);
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    protected CancellationToken Stopping => _stop.Token;

    /// <summary>One connection, until the client or the server is done with it.</summary>
    protected abstract Task ServeAsync(TcpClient client);

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                TcpClient client = await _listener.AcceptTcpClientAsync(_stop.Token);
                _ = ServeAsync(client);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
        GC.SuppressFinalize(this);
    }
}
