using System.Net;
using System.Net.Sockets;

namespace Edge.Net;

/// <summary>
/// A service Edge talks to (a policy service, a mail filter, a before-queue proxy filter), named as Postfix names them:
/// inet:host:port, host:port or [address]:port, and unix:path or local:path (a relative path is below queue_directory).
/// </summary>
internal static class ServiceEndpoint
{
    /// <summary>The endpoint <paramref name="reference"/> names, or null when it is none of those forms.</summary>
    public static EndPoint? Parse(string reference, string queueDirectory)
    {
        int colon = reference.IndexOf(':');
        string transport = colon < 0 ? "" : reference[..colon];
        if (transport is "unix" or "local" && reference.Length > colon + 1)
        {
            return new UnixDomainSocketEndPoint(Path.Combine(queueDirectory, reference[(colon + 1)..]));
        }
        string target = transport == "inet" ? reference[(colon + 1)..] : reference;
        int portColon = target.LastIndexOf(':');
        if (portColon <= 0 || !int.TryParse(target[(portColon + 1)..], out int port) || port is <= 0 or >= 65536)
        {
            return null;
        }
        string host = target[..portColon].Trim('[', ']');
        return IPAddress.TryParse(host, out IPAddress? address) ? new IPEndPoint(address, port) : new DnsEndPoint(host, port);
    }

    /// <summary>A connection to <paramref name="endpoint"/>, without Nagle's delay for TCP (these are request and reply protocols).</summary>
    public static async Task<NetworkStream> ConnectAsync(EndPoint endpoint, CancellationToken cancellationToken)
    {
        Socket socket = endpoint is UnixDomainSocketEndPoint
            ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
            : new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(endpoint, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
