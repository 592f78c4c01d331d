using System.Net;
using Edge.Dns;
using Edge.Mail;

namespace Edge.Smtp.Session;

/// <summary>The client's name from DNS, looked up when smtpd_peername_lookup asks for it.</summary>
internal static class PeerNames
{
    /// <summary>
    /// The client with its name from DNS, as Postfix's smtpd finds it: the PTR record's name, kept only when
    /// that name's addresses include the client's (forward-confirmed); otherwise "unknown", with the PTR name as
    /// <see cref="Peer.ReverseName"/>. A malformed name, or no answer, leaves both "unknown".
    /// </summary>
    public static async Task<Peer> NamedAsync(this Peer peer, DnsResolver resolver, CancellationToken cancellationToken)
    {
        if (peer.Ip is null || IPAddress.IsLoopback(peer.Ip))
        {
            return peer;
        }
        DnsAnswer<string> ptr = await resolver.QueryPtrAsync(peer.Ip, cancellationToken);
        string? reverse = ptr.Status == DnsStatus.Ok && ptr.Records.Count > 0 ? ptr.Records[0].TrimEnd('.') : null;
        if (reverse is null || !Net.HostName.IsValid(reverse))
        {
            return peer with { NameLookupFailed = Failed(ptr.Status) };
        }
        DnsAnswer<IPAddress> forward = await resolver.QueryAddressesAsync(reverse, peer.Ip.AddressFamily, cancellationToken);
        bool confirmed = forward.Status == DnsStatus.Ok && forward.Records.Contains(peer.Ip);
        return new Peer(peer.Ip, peer.Address, confirmed ? reverse : "unknown", peer.Port) { ReverseName = reverse, NameLookupFailed = Failed(forward.Status) };
    }

    private static bool Failed(DnsStatus status) => status is not (DnsStatus.Ok or DnsStatus.NoData or DnsStatus.NxDomain);
}
