using System.Net;
using Edge.Config;
using Edge.Mail;
using Edge.Tables;
using Edge.Tables.Remote;

namespace Edge.Smtp.Session;

/// <summary>
/// local_header_rewrite_clients, as Postfix's smtpd_check_rewrite() reads it: the clients whose message headers are
/// rewritten in the local context (unqualified addresses get @$myorigin, canonical maps and masquerading apply);
/// other clients' headers only in the remote one. permit_inet_interfaces (a client on one of this host's
/// inet_interfaces addresses), permit_mynetworks, check_address_map type:table (or a bare type:table: the client
/// address is a key, static:all matches every client); permit_sasl_authenticated and permit_tls_clientcerts match
/// no client, since Edge neither authenticates clients nor asks them for certificates.
/// </summary>
internal sealed class HeaderRewriteClients
{
    private readonly bool _inetInterfaces;
    private readonly bool _mynetworks;
    private readonly ILookupTable[] _tables;
    private readonly IReadOnlySet<IPAddress> _interfaces;

    private HeaderRewriteClients(bool inetInterfaces, bool mynetworks, ILookupTable[] tables, IReadOnlySet<IPAddress> interfaces)
    {
        _inetInterfaces = inetInterfaces;
        _mynetworks = mynetworks;
        _tables = tables;
        _interfaces = interfaces;
    }

    public static HeaderRewriteClients From(MainConfig config)
    {
        const string parameter = "local_header_rewrite_clients";
        bool inetInterfaces = false;
        bool mynetworks = false;
        var tables = new List<ILookupTable>();
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
                tables.Add(TableFactory.Open(entry, TableSettings.From(config), out string? error) ?? throw config.Error(parameter, error ?? $"cannot open {entry}"));
                continue;
            }
            switch (entry.ToLowerInvariant())
            {
                case "permit_inet_interfaces": inetInterfaces = true; break;
                case "permit_mynetworks": mynetworks = true; break;
                case "permit_sasl_authenticated" or "permit_tls_clientcerts" or "permit_tls_all_clientcerts": break;
                default:
                    throw config.Error(parameter, $"invalid request: {entry} (permit_inet_interfaces, permit_mynetworks, " +
                        "permit_sasl_authenticated, permit_tls_clientcerts, permit_tls_all_clientcerts or check_address_map type:table)");
            }
        }
        return new HeaderRewriteClients(inetInterfaces, mynetworks, [.. tables],
            inetInterfaces ? ListenEndpoint.OwnAddresses(config, withProxyInterfaces: false) : new HashSet<IPAddress>());
    }

    /// <summary>Whether the headers of mail from <paramref name="client"/> (in mynetworks or not) are rewritten in the local context.</summary>
    public bool IsLocal(IPAddress? client, bool inMynetworks)
    {
        if (client is null)
        {
            return false;
        }
        client = client.Unmapped();
        if ((_inetInterfaces && _interfaces.Contains(client)) || (_mynetworks && inMynetworks))
        {
            return true;
        }
        if (_tables.Length == 0)
        {
            return false;
        }
        string key = client.ToString();
        foreach (ILookupTable table in _tables)
        {
            try
            {
                if (table.Lookup(key) is not null)
                {
                    return true;
                }
            }
            catch (TableLookupException e)
            {
                // Asked once the client was told to send its message: the headers stay as the client wrote them.
                Logging.MailLog.Warning($"local_header_rewrite_clients: {e.Message}: {key} is taken as a remote client");
                return false;
            }
        }
        return false;
    }
}
