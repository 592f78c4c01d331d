using System.Net;
using System.Net.Sockets;
using Edge.Dns;

namespace Edge.Restrictions;

internal enum DnsCheckKind : byte
{
    /// <summary>Whether a domain can receive mail: its MX records, or else its A or AAAA records.</summary>
    MailDomain,
    /// <summary>The A records of a DNS list query name ("9.100.51.198.zen.example"), with its TXT reason.</summary>
    ListEntry,
    /// <summary>A domain's MX hosts with their addresses, for permit_mx_backup.</summary>
    Exchangers,
    /// <summary>check_*_mx_access: a domain's MX hosts with their addresses; the domain itself when it has no MX.</summary>
    MailServers,
    /// <summary>check_*_ns_access: a domain's NS hosts with their addresses, from the nearest parent domain that has some.</summary>
    NameServers,
    /// <summary>check_*_a_access: the name itself as the one server, with its addresses.</summary>
    HostAddresses,
}

/// <summary>One MX host of a domain, and what looking up its addresses found.</summary>
internal sealed record Exchanger(string Name, int Preference, DnsStatus Status, IReadOnlyList<IPAddress> Addresses);

/// <summary>A DNS question a restriction needs answered before it can decide.</summary>
internal readonly record struct DnsCheck(DnsCheckKind Kind, string Name);

/// <summary>
/// What DNS said: <see cref="DnsStatus.Ok"/> with the records, NoData or NxDomain when there are none, anything
/// else when no server answered (the restriction then defers). <see cref="NullMx"/>: the domain publishes a
/// null MX (RFC 7505) and accepts no mail.
/// </summary>
internal sealed record DnsFact(DnsStatus Status, IReadOnlyList<IPAddress> Addresses, string? Reason, bool NullMx = false,
    IReadOnlyList<Exchanger>? Exchangers = null)
{
    public bool Found => Status == DnsStatus.Ok;
    public bool Failed => Status is not (DnsStatus.Ok or DnsStatus.NoData or DnsStatus.NxDomain);
}

/// <summary>
/// The DNS answers one session's restrictions have asked for. The restrictions themselves stay synchronous:
/// one that needs an answer not here yet says which (<see cref="Outcome.Lookup"/>); the session fetches it
/// and evaluates the lists again, now with the answer. Answers are kept for the rest of the session.
/// </summary>
internal sealed class DnsChecks(DnsResolver resolver)
{
    private readonly Dictionary<DnsCheck, DnsFact> _facts = [];

    public bool TryGet(DnsCheck check, out DnsFact fact) => _facts.TryGetValue(check, out fact!);

    public async Task FetchAsync(DnsCheck check, CancellationToken cancellationToken)
    {
        _facts[check] = check.Kind switch
        {
            DnsCheckKind.MailDomain => await MailDomainAsync(check.Name, cancellationToken),
            DnsCheckKind.Exchangers => await ExchangersAsync(check.Name, cancellationToken),
            DnsCheckKind.ListEntry => await ListEntryAsync(check.Name, cancellationToken),
            _ => await ServersAsync(check.Kind, check.Name, cancellationToken),
        };
    }

    private async Task<DnsFact> MailDomainAsync(string domain, CancellationToken cancellationToken)
    {
        DnsAnswer<MxRecord> mx = await resolver.QueryMxAsync(domain, cancellationToken);
        if (mx.Status == DnsStatus.Ok && mx.Records.Count > 0)
        {
            return new DnsFact(DnsStatus.Ok, [], null, NullMx: mx.Records is [{ Exchange: "" }]);
        }
        if (mx.Status is not (DnsStatus.NoData or DnsStatus.NxDomain))
        {
            return new DnsFact(mx.Status, [], null);
        }
        DnsAnswer<IPAddress> a = await resolver.QueryAddressesAsync(domain, AddressFamily.InterNetwork, cancellationToken);
        if (a.Status != DnsStatus.Ok)
        {
            DnsAnswer<IPAddress> aaaa = await resolver.QueryAddressesAsync(domain, AddressFamily.InterNetworkV6, cancellationToken);
            a = aaaa.Status == DnsStatus.Ok || a.Status is DnsStatus.NoData or DnsStatus.NxDomain ? aaaa : a;
        }
        return new DnsFact(a.Status, a.Records, null);
    }

    private async Task<DnsFact> ExchangersAsync(string domain, CancellationToken cancellationToken)
    {
        DnsAnswer<MxRecord> mx = await resolver.QueryMxAsync(domain, cancellationToken);
        if (mx.Status != DnsStatus.Ok)
        {
            return new DnsFact(mx.Status, [], null);
        }
        return new DnsFact(DnsStatus.Ok, [], null, Exchangers: await WithAddressesAsync(mx.Records, cancellationToken));
    }

    /// <summary>
    /// The servers of check_server_access() in Postfix: an MX list (or the domain, when it has none; nothing for a
    /// null MX), an NS list (walking up to the parent domains until one has some), or the name alone.
    /// </summary>
    private async Task<DnsFact> ServersAsync(DnsCheckKind kind, string domain, CancellationToken cancellationToken)
    {
        IReadOnlyList<MxRecord> servers = [new MxRecord(0, domain)];
        if (kind == DnsCheckKind.MailServers)
        {
            DnsAnswer<MxRecord> mx = await resolver.QueryMxAsync(domain, cancellationToken);
            if (mx.Status == DnsStatus.Ok && mx.Records is [{ Exchange: "" }])
            {
                return new DnsFact(DnsStatus.Ok, [], null, NullMx: true, Exchangers: []);
            }
            if (mx.Status is not (DnsStatus.NoData or DnsStatus.NxDomain))
            {
                if (mx.Status != DnsStatus.Ok)
                {
                    return new DnsFact(mx.Status, [], null);
                }
                servers = mx.Records;
            }
        }
        else if (kind == DnsCheckKind.NameServers)
        {
            DnsAnswer<string> ns = await resolver.QueryNsAsync(domain, cancellationToken);
            for (string zone = domain; ns.Status is DnsStatus.NoData or DnsStatus.NxDomain && zone.IndexOf('.') is var dot and >= 0
                && dot < zone.Length - 1;)
            {
                zone = zone[(dot + 1)..];
                ns = await resolver.QueryNsAsync(zone, cancellationToken);
            }
            if (ns.Status != DnsStatus.Ok)
            {
                return new DnsFact(ns.Status, [], null);
            }
            servers = [.. ns.Records.Select(name => new MxRecord(0, name))];
        }
        return new DnsFact(DnsStatus.Ok, [], null, Exchangers: await WithAddressesAsync(servers, cancellationToken));
    }

    /// <summary>Each host with its A and AAAA addresses (a host written as an address is that address).</summary>
    private async Task<List<Exchanger>> WithAddressesAsync(IReadOnlyList<MxRecord> hosts, CancellationToken cancellationToken)
    {
        var exchangers = new List<Exchanger>(hosts.Count);
        foreach (MxRecord record in hosts.OrderBy(r => r.Preference))
        {
            if (IPAddress.TryParse(record.Exchange, out IPAddress? literal))
            {
                exchangers.Add(new Exchanger(record.Exchange, record.Preference, DnsStatus.Ok, [literal]));
                continue;
            }
            DnsAnswer<IPAddress> a = await resolver.QueryAddressesAsync(record.Exchange, AddressFamily.InterNetwork, cancellationToken);
            DnsAnswer<IPAddress> aaaa = await resolver.QueryAddressesAsync(record.Exchange, AddressFamily.InterNetworkV6, cancellationToken);
            // Found when either family has addresses; failed only when neither answered.
            DnsStatus status = a.Status == DnsStatus.Ok || aaaa.Status == DnsStatus.Ok ? DnsStatus.Ok
                : a.Status is DnsStatus.NoData or DnsStatus.NxDomain ? aaaa.Status : a.Status;
            exchangers.Add(new Exchanger(record.Exchange, record.Preference, status, [.. a.Records, .. aaaa.Records]));
        }
        return exchangers;
    }

    private async Task<DnsFact> ListEntryAsync(string name, CancellationToken cancellationToken)
    {
        DnsAnswer<IPAddress> a = await resolver.QueryAddressesAsync(name, AddressFamily.InterNetwork, cancellationToken);
        if (a.Status != DnsStatus.Ok)
        {
            return new DnsFact(a.Status, [], null);
        }
        DnsAnswer<string> txt = await resolver.QueryTxtAsync(name, cancellationToken);
        return new DnsFact(DnsStatus.Ok, a.Records, txt.Records.Count > 0 ? txt.Records[0] : null);
    }
}
