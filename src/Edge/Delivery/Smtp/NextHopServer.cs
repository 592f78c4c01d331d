using System.Net;
using System.Net.Sockets;

namespace Edge.Delivery.Smtp;

/// <summary>
/// One server of the next hop, already resolved (MX, A/AAAA) by the caller: an <see cref="IPEndPoint"/>, or a
/// <see cref="UnixDomainSocketEndPoint"/> for an LMTP server on this machine.
/// </summary>
internal sealed record NextHopServer(string HostName, EndPoint Endpoint)
{
    /// <summary>Postfix's "host[addr]" (session->namaddr), as it appears in reasons.</summary>
    public string NameAddr => Endpoint switch
    {
        IPEndPoint ip => $"{HostName}[{ip.Address}]",
        UnixDomainSocketEndPoint unix => $"{HostName}[{unix}]",
        _ => $"{HostName}[{Endpoint}]",
    };

    /// <summary>Postfix's relay= field: "host[addr]:port", or "host[path]" for a Unix socket.</summary>
    public string Relay => Endpoint is IPEndPoint ip ? $"{NameAddr}:{ip.Port}" : NameAddr;
}
