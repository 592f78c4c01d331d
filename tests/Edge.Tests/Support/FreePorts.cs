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
}
