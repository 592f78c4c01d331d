using System.Net;
using Edge.Config;
using Edge.Mail;
using Edge.Tables;
using Edge.Restrictions;
using Edge.Restrictions.Policy;

namespace Edge.Smtp.Session;

/// <summary>
/// local_header_rewrite_clients, as Postfix's smtpd_check_rewrite() reads it: the clients whose message headers are
/// rewritten in the local context (unqualified addresses get @$myorigin, canonical maps and masquerading apply);
/// other clients' headers only in the remote one. permit_inet_interfaces (a client on one of this host's
/// inet_interfaces addresses), permit_mynetworks, check_address_map type:table (or a bare type:table: the client
/// address is a key, static:all matches every client), permit_sasl_authenticated, permit_tls_clientcerts and
/// permit_tls_all_clientcerts, tried in order. The session decides at MAIL FROM, as Postfix's smtpd does, and a table
/// that cannot answer refuses MAIL FROM for now.
/// </summary>
internal sealed class HeaderRewriteClients
{
    private enum Kind
    {
        InetInterfaces,
        Mynetworks,
        Table,
        SaslAuthenticated,
        TlsClientcerts,
        TlsAllClientcerts,
    }

    private readonly (Kind Kind, ILookupTable? Table)[] _items;
    private readonly IReadOnlySet<IPAddress> _interfaces;

    private readonly bool _tablesRemote;
    private readonly bool _asksCertificates;

    private HeaderRewriteClients((Kind Kind, ILookupTable? Table)[] items, IReadOnlySet<IPAddress> interfaces)
    {
        _items = items;
        _interfaces = interfaces;
        _tablesRemote = items.Any(item => item.Table?.IsRemote == true);
        _asksCertificates = items.Any(item => item.Kind is Kind.TlsClientcerts or Kind.TlsAllClientcerts);
    }

    /// <summary>
    /// A table the list asks is answered by a server (one of its own, or relay_clientcerts for permit_tls_clientcerts):
    /// the session fetches the answers before MAIL FROM decides.
    /// </summary>
    public bool IsRemote(TableList relayClientCerts) => _tablesRemote || (_asksCertificates && relayClientCerts.IsRemote);

    public static HeaderRewriteClients From(MainConfig config)
    {
        const string parameter = "local_header_rewrite_clients";
        var items = new List<(Kind, ILookupTable?)>();
        IReadOnlyList<string> entries = config.GetList(parameter);
        for (int i = 0; i < entries.Count; i++)
        {
            string entry = entries[i];
            if (entry.Equals("check_address_map", StringComparison.OrdinalIgnoreCase))
            {
                entry = i + 1 < entries.Count ? entries[++i] : throw config.Error(parameter, "check_address_map needs a type:table after it");
            }
            if (entry.Contains(':'))
            {
                items.Add((Kind.Table, TableFactory.Open(entry, TableSettings.From(config), out string? error)
                    ?? throw config.Error(parameter, error ?? $"cannot open {entry}")));
                continue;
            }
            items.Add((entry.ToLowerInvariant() switch
            {
                "permit_inet_interfaces" => Kind.InetInterfaces,
                "permit_mynetworks" => Kind.Mynetworks,
                "permit_sasl_authenticated" => Kind.SaslAuthenticated,
                "permit_tls_clientcerts" => Kind.TlsClientcerts,
                "permit_tls_all_clientcerts" => Kind.TlsAllClientcerts,
                _ => throw config.Error(parameter, $"invalid request: {entry} (permit_inet_interfaces, permit_mynetworks, " +
                    "permit_sasl_authenticated, permit_tls_clientcerts, permit_tls_all_clientcerts or check_address_map type:table)"),
            }, null));
        }
        return new HeaderRewriteClients([.. items], items.Any(item => item.Item1 == Kind.InetInterfaces)
            ? ListenEndpoint.OwnAddresses(config, withProxyInterfaces: false) : new HashSet<IPAddress>());
    }

    /// <summary>
    /// Whether the headers of mail from <paramref name="client"/> (in mynetworks or not, logged in or showing a
    /// certificate as <paramref name="session"/> says) are rewritten in the local context.
    /// </summary>
    /// <exception cref="TableLookupException">A table of the list cannot answer.</exception>
    public bool IsLocal(ISessionDescription session, IPAddress? client, bool inMynetworks, TableList relayClientCerts)
    {
        client = client?.Unmapped();
        foreach ((Kind kind, ILookupTable? table) in _items)
        {
            bool local = kind switch
            {
                Kind.InetInterfaces => client is not null && _interfaces.Contains(client),
                Kind.Mynetworks => inMynetworks,
                Kind.Table => client is not null && table!.Lookup(client.ToString()) is not null,
                Kind.SaslAuthenticated => ClientPermits.SaslAuthenticated(session),
                _ => ClientPermits.Certificate(session, relayClientCerts, all: kind == Kind.TlsAllClientcerts),
            };
            if (local)
            {
                return true;
            }
        }
        return false;
    }
}
