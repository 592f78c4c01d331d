using System.Net;
using System.Net.Sockets;

namespace Edge.Tests.Support;

/// <summary>Ports on 127.0.0.1 that nothing listens on, for peers a test starts (or leaves down on purpose).</summary>
internal static class FreePorts
{
    /// <summary>A TCP port free now (another process may take it before the test binds it).</summary>
    public static int Tcp()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>
    /// A TCP port that refuses connections for as long as the socket returned is kept: bound without listening (and
    /// without SO_REUSEADDR), so no listener of a test running alongside can take it, as one can a port of <see cref="Tcp"/>.
    /// </summary>
    public static Socket Refusing()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, false);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return socket;
    }

    public static int Port(this Socket socket) => ((IPEndPoint)socket.LocalEndPoint!).Port;
}
