using System.Net;

namespace Edge.Smtp.Session;

/// <summary>
/// Who the client is, as restrictions, logs and the Received: header see it: the connection's address, or the
/// one a PROXY header or XCLIENT command gave. <see cref="Ip"/> is null when the address is "unknown".
/// </summary>
internal sealed record Peer(IPAddress? Ip, string Address, string Name, int Port)
{
    /// <summary>Postfix's name[addr] form for log lines.</summary>
    public string NamAddr { get; } = $"{Name}[{Address}]";

    public static Peer FromEndPoint(EndPoint? endpoint)
    {
        if (endpoint is not IPEndPoint ip)
        {
            return new Peer(null, "unknown", "unknown", 0);
        }
        IPAddress address = ip.Address.IsIPv4MappedToIPv6 ? ip.Address.MapToIPv4() : ip.Address;
        // Reverse DNS (smtpd_peername_lookup) comes with the resolver; until then only loopback has a name.
        string name = IPAddress.IsLoopback(address) ? "localhost" : "unknown";
        return new Peer(address, address.ToString(), name, ip.Port);
    }
}
