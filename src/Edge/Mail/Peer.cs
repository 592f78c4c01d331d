using System.Net;

namespace Edge.Mail;

/// <summary>
/// Who the client is, as restrictions, logs and the Received: header see it: the connection's address, or the
/// one a PROXY header or XCLIENT command gave. <see cref="Ip"/> is null when the address is "unknown".
/// </summary>
internal sealed record Peer(IPAddress? Ip, string Address, string Name, int Port)
{
    /// <summary>What the address's PTR record says, confirmed or not (Postfix's reverse_client_name).</summary>
    public string ReverseName { get; init; } = Name;

    /// <summary>DNS did not answer while the name was looked up: "unknown" may be wrong, so nothing is refused for good.</summary>
    public bool NameLookupFailed { get; init; }

    /// <summary>Postfix's name[addr] form for log lines.</summary>
    public string NamAddr { get; } = $"{Name}[{Address}]";

    public static Peer FromEndPoint(EndPoint? endpoint)
    {
        if (endpoint is not IPEndPoint ip)
        {
            return new Peer(null, "unknown", "unknown", 0);
        }
        IPAddress address = ip.Address.Unmapped();
        // Loopback is "localhost" without asking DNS (Postfix's resolver reads /etc/hosts for it); others are
        // named by NamedAsync when smtpd_peername_lookup asks for it.
        string name = IPAddress.IsLoopback(address) ? "localhost" : "unknown";
        return new Peer(address, address.ToString(), name, ip.Port);
    }
}
