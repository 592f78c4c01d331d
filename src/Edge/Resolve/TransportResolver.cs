using Edge.Tables;

namespace Edge.Resolve;

/// <summary>
/// trivial-rewrite's routing: the address class gives the default transport and next hop
/// (local_transport, virtual_transport, relay_transport, default_transport, relayhost), then
/// transport_maps may override them, searched as transport(5) says: the full address, the address without
/// its extension, the domain, each parent domain as ".parent", and "*". A relocated user (relocated_maps) goes to the
/// error transport last, whatever the tables said, as in Postfix.
/// </summary>
internal sealed class TransportResolver(
    AddressClassifier classifier,
    IReadOnlyList<ILookupTable> transportMaps,
    string relayhost,
    Route local,
    Route virtualMailbox,
    string relayTransport,
    string defaultTransport,
    string recipientDelimiter,
    RelocatedMaps? relocated = null)
{
    /// <summary>A table the routing asks (the address classes' domain lists, transport_maps, relocated_maps) is answered by a server.</summary>
    public bool IsRemote { get; } = classifier.IsRemote || transportMaps.Any(table => table.IsRemote) || relocated?.IsRemote == true;

    /// <summary>The address the queue manager delivers <paramref name="recipient"/> as (<see cref="AddressClassifier.Delivered"/>).</summary>
    public string Delivered(string recipient) => classifier.Delivered(recipient);

    /// <summary>
    /// The recipient's address class (trivial-rewrite's), as the metrics name it: local, virtual_alias, virtual_mailbox,
    /// relay or default; "unknown" when a domain table cannot say now. It is asked after a delivery, before its outcome
    /// is recorded, so it never throws: an outcome not recorded would be delivered again.
    /// </summary>
    public string ClassName(string recipient)
    {
        try
        {
            return classifier.Classify(System.Text.Encoding.UTF8.GetBytes(recipient)) switch
            {
                AddressClass.Local => "local",
                AddressClass.VirtualAlias => "virtual_alias",
                AddressClass.VirtualMailbox => "virtual_mailbox",
                AddressClass.Relay => "relay",
                _ => "default",
            };
        }
        catch (TableLookupException)
        {
            return "unknown";
        }
    }

    public Route Resolve(string recipient)
    {
        int at = recipient.LastIndexOf('@');
        string domain = at < 0 ? "" : recipient[(at + 1)..].TrimEnd('.').ToLowerInvariant();
        Route route = classifier.Classify(System.Text.Encoding.UTF8.GetBytes(recipient)) switch
        {
            AddressClass.Local => local,
            AddressClass.VirtualAlias => new Route("error", "5.1.1 User unknown in virtual alias table"),
            AddressClass.VirtualMailbox => new Route(virtualMailbox.Transport, virtualMailbox.Nexthop.Length > 0 ? virtualMailbox.Nexthop : domain),
            AddressClass.Relay => new Route(relayTransport, relayhost.Length > 0 ? relayhost : domain),
            _ => new Route(defaultTransport, relayhost.Length > 0 ? relayhost : domain),
        };
        route = Override(route, recipient, at, domain);
        return relocated is { IsEmpty: false } && relocated.Find(recipient) is { } status ? new Route("error", status) : route;
    }

    private Route Override(Route route, string recipient, int at, string domain)
    {
        if (transportMaps.Count == 0)
        {
            return route;
        }
        foreach (string key in Keys(recipient, at, domain))
        {
            foreach (ILookupTable table in transportMaps)
            {
                if (table.Lookup(key) is string value)
                {
                    Route found = Route.Parse(value);
                    return new Route(found.Transport.Length > 0 ? found.Transport : route.Transport,
                        found.Nexthop.Length > 0 ? found.Nexthop : route.Nexthop);
                }
            }
        }
        return route;
    }

    private IEnumerable<string> Keys(string recipient, int at, string domain)
    {
        yield return recipient;
        if (at > 0 && recipientDelimiter.Length > 0)
        {
            string local = recipient[..at];
            int extension = local.IndexOfAny(recipientDelimiter.ToCharArray());
            if (extension > 0)
            {
                yield return local[..extension] + recipient[at..];
            }
        }
        if (domain.Length > 0)
        {
            yield return domain;
            for (int dot = domain.IndexOf('.'); dot >= 0; dot = domain.IndexOf('.', dot + 1))
            {
                yield return domain[dot..];
            }
        }
        yield return "*";
    }
}
