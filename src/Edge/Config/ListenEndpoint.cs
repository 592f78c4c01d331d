using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Edge.Config;

/// <summary>
/// Where an inet service listens, from its master.cf name: <c>host:port</c>, <c>[ipv6]:port</c> or a
/// bare <c>port</c>, which means every address in inet_interfaces. A port is a number or one of the
/// mail service names (smtp = 25, submission = 587, smtps and submissions = 465, lmtp = 24); port 0
/// asks the system for a free port, which tests use.
/// </summary>
/// <param name="Host">An address or host name; null for the inet_interfaces addresses.</param>
public sealed record ListenEndpoint(string? Host, int Port)
{
    static readonly Dictionary<string, int> ServicePorts = new(StringComparer.OrdinalIgnoreCase)
    {
        ["smtp"] = 25,
        ["submission"] = 587,
        ["smtps"] = 465,
        ["submissions"] = 465,
        ["lmtp"] = 24,
    };

    /// <summary>A port number (0 to 65535) or one of the mail service names.</summary>
    public static bool TryParsePort(string text, out int port) =>
        ServicePorts.TryGetValue(text, out port)
        || (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port <= 65535);

    /// <summary>Parses a service name; on failure, <paramref name="error"/> says why.</summary>
    public static ListenEndpoint? Parse(string name, out string? error)
    {
        string? host = null;
        var port = name;
        if (name.StartsWith('['))
        {
            var close = name.IndexOf(']');
            if (close < 0 || close + 1 >= name.Length || name[close + 1] != ':')
            {
                error = "expected [address]:port";
                return null;
            }
            host = name[1..close];
            port = name[(close + 2)..];
            if (!IPAddress.TryParse(host, out _))
            {
                error = $"bad address \"{host}\"";
                return null;
            }
        }
        else if (name.LastIndexOf(':') is var colon and >= 0)
        {
            host = name[..colon];
            port = name[(colon + 1)..];
            if (host.Length == 0)
            {
                error = "missing host before ':'";
                return null;
            }
        }

        if (!TryParsePort(port, out int number))
        {
            error = $"bad port \"{port}\"";
            return null;
        }
        error = null;
        return new ListenEndpoint(host, number);
    }

    /// <summary>The master.cf file that names this endpoint, for errors.</summary>
    public string File { get; init; } = "";

    /// <summary>The master.cf line that names this endpoint, for errors.</summary>
    public int Line { get; init; }

    /// <summary>
    /// The socket addresses to bind, honouring inet_interfaces (for a bare port) and inet_protocols.
    /// Every interface is one IPv6 wildcard when both protocols are on: a dual-stack socket takes
    /// IPv4 as well, and a separate 0.0.0.0 socket on the same port would conflict with it.
    /// </summary>
    public IReadOnlyList<IPEndPoint> Resolve(MainConfig config)
    {
        var families = InetProtocols.Families(config);
        var addresses = Host is null
            ? config.GetList("inet_interfaces").SelectMany(i => InterfaceAddresses(i, families, config))
            : HostAddresses(Host, families, error => new ConfigException(File, Line, null, $"service {this}: {error}"));
        return addresses.Distinct().Select(a => new IPEndPoint(a, Port)).ToList();
    }

    public override string ToString() =>
        Host is null ? Port.ToString() : Host.Contains(':') ? $"[{Host}]:{Port}" : $"{Host}:{Port}";

    /// <summary>
    /// This host's own addresses as Postfix's own_inet_addr() and proxy_inet_addr() know them: those of
    /// inet_interfaces (every interface's, for "all") and of proxy_interfaces.
    /// </summary>
    public static IReadOnlySet<IPAddress> OwnAddresses(MainConfig config, bool withProxyInterfaces = true)
    {
        var families = InetProtocols.Families(config);
        var own = new HashSet<IPAddress>();
        foreach (string entry in config.GetList("inet_interfaces"))
        {
            own.UnionWith(entry.Equals("all", StringComparison.OrdinalIgnoreCase)
                ? System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
                    .SelectMany(i => i.GetIPProperties().UnicastAddresses).Select(u => u.Address)
                    .Where(a => families.Contains(a.AddressFamily))
                : InterfaceAddresses(entry, families, config));
        }
        foreach (string entry in withProxyInterfaces ? config.GetList("proxy_interfaces") : [])
        {
            own.UnionWith(HostAddresses(entry, families, error => config.Error("proxy_interfaces", $"{entry}: {error}")));
        }
        return own;
    }

    static IEnumerable<IPAddress> InterfaceAddresses(string entry, IReadOnlyCollection<AddressFamily> families, MainConfig config)
    {
        if (entry.Equals("all", StringComparison.OrdinalIgnoreCase))
            return [families.Contains(AddressFamily.InterNetworkV6) ? IPAddress.IPv6Any : IPAddress.Any];
        if (entry.Equals("loopback-only", StringComparison.OrdinalIgnoreCase))
            return Loopback(families);
        return HostAddresses(entry, families, error => config.Error("inet_interfaces", $"{entry}: {error}"));
    }

    static IEnumerable<IPAddress> HostAddresses(string host, IReadOnlyCollection<AddressFamily> families, Func<string, ConfigException> fail)
    {
        if (IPAddress.TryParse(host.Trim('[', ']'), out var literal))
            return [literal];
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
            return Loopback(families);
        IPAddress[] resolved;
        try
        {
            resolved = System.Net.Dns.GetHostAddresses(host);
        }
        catch (SocketException e)
        {
            throw fail($"cannot resolve host name: {e.Message}");
        }
        var usable = resolved.Where(a => families.Contains(a.AddressFamily)).ToList();
        return usable.Count > 0 ? usable : throw fail("host name has no address of an enabled protocol (inet_protocols)");
    }

    static IEnumerable<IPAddress> Loopback(IReadOnlyCollection<AddressFamily> families)
    {
        if (families.Contains(AddressFamily.InterNetwork))
            yield return IPAddress.Loopback;
        if (families.Contains(AddressFamily.InterNetworkV6))
            yield return IPAddress.IPv6Loopback;
    }
}
