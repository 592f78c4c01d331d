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
            _ => await ListEntryAsync(check.Name, cancellationToken),
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
        var exchangers = new List<Exchanger>(mx.Records.Count);
        foreach (MxRecord record in mx.Records.OrderBy(r => r.Preference))
        {
            DnsAnswer<IPAddress> a = await resolver.QueryAddressesAsync(record.Exchange, AddressFamily.InterNetwork, cancellationToken);
            DnsAnswer<IPAddress> aaaa = await resolver.QueryAddressesAsync(record.Exchange, AddressFamily.InterNetworkV6, cancellationToken);
            // Found when either family has addresses; failed only when neither answered.
            DnsStatus status = a.Status == DnsStatus.Ok || aaaa.Status == DnsStatus.Ok ? DnsStatus.Ok
                : a.Status is DnsStatus.NoData or DnsStatus.NxDomain ? aaaa.Status : a.Status;
            exchangers.Add(new Exchanger(record.Exchange, record.Preference, status, [.. a.Records, .. aaaa.Records]));
        }
        return new DnsFact(DnsStatus.Ok, [], null, Exchangers: exchangers);
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
