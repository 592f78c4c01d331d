using System.Net;
using System.Net.Sockets;
using Edge.Delivery.Smtp;
using Edge.Dns;

namespace Edge.Delivery;

/// <summary>
/// Turns a transport's next hop into the servers to try, as Postfix's smtp client does: "domain" and
/// "domain:port" by MX (lowest preference first, then each exchanger's addresses), falling back to the
/// domain's own addresses when it has no MX; "[host]" and "[host]:port" by address only; "unix:/path" for
/// LMTP. Name service failures become the reason to defer or bounce.
/// </summary>
internal sealed class NextHopFinder(DnsResolver dns)
{
    internal sealed record Failure(bool Permanent, string Dsn, string Reason);

    /// <param name="mxAddressLimit">smtp_mx_address_limit: the most addresses an MX lookup yields (0: no limit).</param>
    public async Task<(IReadOnlyList<NextHopServer> Servers, Failure? Failure)> FindAsync(string nexthop, int defaultPort,
        int mxAddressLimit, CancellationToken cancellationToken)
    {
        if (nexthop.StartsWith("unix:", StringComparison.OrdinalIgnoreCase))
        {
            string path = nexthop[5..];
            try
            {
                return ([new NextHopServer("localhost", new UnixDomainSocketEndPoint(path))], null);
            }
            catch (ArgumentException)
            {
                return ([], Misconfigured($"bad socket path in next hop {nexthop}: empty or longer than the system allows"));
            }
        }
        if (nexthop.StartsWith("inet:", StringComparison.OrdinalIgnoreCase))
        {
            nexthop = nexthop[5..];
        }
        (string host, int port, bool literal) = Split(nexthop, defaultPort);
        if (port is < 1 or > 65535)
        {
            return ([], Misconfigured($"bad port number in next hop {nexthop}"));
        }
        if (IPAddress.TryParse(host, out IPAddress? address))
        {
            return ([new NextHopServer(address.ToString(), new IPEndPoint(address, port))], null);
        }
        if (literal)
        {
            return await AddressesAsync(host, port, cancellationToken);
        }

        DnsAnswer<MxRecord> mx = await dns.QueryMxAsync(host, cancellationToken);
        switch (mx.Status)
        {
            case DnsStatus.Ok when mx.Records.Count == 1 && mx.Records[0].Exchange.Length == 0:
                return ([], new Failure(true, "5.1.10", $"Domain {host} does not accept mail (nullMX)"));
            case DnsStatus.Ok:
                var servers = new List<NextHopServer>();
                foreach (MxRecord record in mx.Records)
                {
                    var (found, _) = await AddressesAsync(record.Exchange, port, cancellationToken);
                    servers.AddRange(found);
                }
                if (mxAddressLimit > 0 && servers.Count > mxAddressLimit)
                {
                    servers.RemoveRange(mxAddressLimit, servers.Count - mxAddressLimit);
                }
                return servers.Count > 0
                    ? (servers, null)
                    : ([], new Failure(false, "4.4.3", $"Host or domain name not found. Name service error for name={host} type=MX: no address for any MX host, try again"));
            case DnsStatus.NoData:
                return await AddressesAsync(host, port, cancellationToken);
            default:
                return ([], NameServiceFailure(host, "MX", mx.Status));
        }
    }

    private async Task<(IReadOnlyList<NextHopServer>, Failure?)> AddressesAsync(string host, int port, CancellationToken cancellationToken)
    {
        DnsAnswer<IPAddress> v4 = await dns.QueryAddressesAsync(host, AddressFamily.InterNetwork, cancellationToken);
        DnsAnswer<IPAddress> v6 = await dns.QueryAddressesAsync(host, AddressFamily.InterNetworkV6, cancellationToken);
        var servers = v4.Records.Concat(v6.Records).Select(a => new NextHopServer(host, new IPEndPoint(a, port))).ToList();
        if (servers.Count > 0)
        {
            return (servers, null);
        }
        DnsStatus status = v4.Status == DnsStatus.NoData ? v6.Status : v4.Status;
        return ([], NameServiceFailure(host, "A", status == DnsStatus.Ok ? DnsStatus.NoData : status));
    }

    /// <summary>A next hop that transport_maps, relayhost or a *_transport setting got wrong: mail waits until it is fixed.</summary>
    private static Failure Misconfigured(string reason) => new(false, "4.3.5", $"mail system configuration error: {reason}");

    /// <summary>Postfix's texts: a name that does not exist bounces, a failing name service defers.</summary>
    private static Failure NameServiceFailure(string host, string type, DnsStatus status) => status switch
    {
        DnsStatus.NxDomain => new Failure(true, "5.4.4", $"Host or domain name not found. Name service error for name={host} type={type}: Host not found"),
        DnsStatus.NoData => new Failure(true, "5.4.4", $"Host or domain name not found. Name service error for name={host} type={type}: No address associated with hostname"),
        _ => new Failure(false, "4.4.3", $"Host or domain name not found. Name service error for name={host} type={type}: Host not found, try again"),
    };

    /// <summary>"[host]:port", "[host]", "host:port" or "host"; brackets mean no MX lookup; a bad port is -1.</summary>
    private static (string Host, int Port, bool Literal) Split(string nexthop, int defaultPort)
    {
        bool literal = nexthop.StartsWith('[');
        string host = nexthop;
        int port = defaultPort;
        if (literal)
        {
            int close = nexthop.IndexOf(']');
            host = close > 0 ? nexthop[1..close] : nexthop[1..];
            string rest = close > 0 ? nexthop[(close + 1)..] : "";
            if (rest.StartsWith(':'))
            {
                port = PortOf(rest[1..]);
            }
        }
        else
        {
            int colon = nexthop.LastIndexOf(':');
            if (colon > 0 && nexthop.IndexOf(':') == colon)
            {
                host = nexthop[..colon];
                port = PortOf(nexthop[(colon + 1)..]);
            }
        }
        return (host.TrimEnd('.'), port, literal);
    }

    private static int PortOf(string text) => Config.ListenEndpoint.TryParsePort(text, out int port) ? port : -1;
}
