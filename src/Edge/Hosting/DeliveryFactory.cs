using System.Net;
using Edge.Cleanup;
using Edge.Config;
using Edge.Delivery;
using Edge.Delivery.Local;
using Edge.Delivery.Pipe;
using Edge.Delivery.Smtp;
using Edge.Dns;
using Edge.Resolve;
using Edge.Scheduler;
using Edge.Tables;

namespace Edge.Hosting;

/// <summary>
/// Builds the delivery side from main.cf and master.cf: routing (address classes, relayhost, the default
/// transports, transport_maps), one agent per master.cf transport, and the queue manager's schedule.
/// </summary>
internal static class DeliveryFactory
{
    /// <summary>
    /// Everything the queue manager needs, checked as the rest of the configuration is: a bad table, DNS
    /// server or transport setting is a <see cref="ConfigException"/> naming it.
    /// </summary>
    public static QueueManagerSettings Settings(MainConfig main, MasterConfig master, SmtpDeliveryAgent smtp)
    {
        TransportResolver resolver = Resolver(main, Ordinary);
        DnsResolver dns = Resolver(main, out string? dnsError);
        if (dnsError is not null)
        {
            throw main.Error("edge_dns_servers", dnsError);
        }
        return QueueManagerSettings.Create(resolver, ProbeResolver(main, resolver), Transports(main, master, smtp, new NextHopFinder(dns)), Schedule(main),
            main.Get("myhostname"), main.GetList("defer_transports"), new DomainSet(main.GetList("fast_flush_domains"),
                SmtpdSettingsFactory.ParentMatchesSubdomains(main, "fast_flush_domains")),
            BounceSettings.FromConfig(main),
            InternalMailKinds.From(main, SmtpdSettingsFactory.Classifier(main)));
    }

    /// <summary>The parameters that route mail: transport_maps, relayhost and the *_transport ones.</summary>
    private sealed record RoutingNames(string TransportMaps, string Relayhost, string Local, string Virtual, string Relay, string Default)
    {
        public IEnumerable<string> All => [TransportMaps, Relayhost, Local, Virtual, Relay, Default];
    }

    private static readonly RoutingNames Ordinary = new("transport_maps", "relayhost", "local_transport", "virtual_transport",
        "relay_transport", "default_transport");

    private static readonly RoutingNames Probes = new("address_verify_transport_maps", "address_verify_relayhost",
        "address_verify_local_transport", "address_verify_virtual_transport", "address_verify_relay_transport",
        "address_verify_default_transport");

    private static TransportResolver Resolver(MainConfig main, RoutingNames names)
    {
        var maps = new List<ILookupTable>();
        foreach (string reference in main.GetList(names.TransportMaps))
        {
            maps.Add(TableFactory.Open(reference, TableSettings.From(main), out string? error)
                     ?? throw main.Error(names.TransportMaps, error ?? $"cannot open {reference}"));
        }
        AddressClassifier classifier = SmtpdSettingsFactory.Classifier(main);
        return new TransportResolver(
            classifier, maps, main.Get(names.Relayhost),
            Route.Parse(main.Get(names.Local)), Route.Parse(main.Get(names.Virtual)),
            Route.Parse(main.Get(names.Relay)).Transport, Route.Parse(main.Get(names.Default)).Transport,
            main.Get("recipient_delimiter"), new RelocatedMaps(main, classifier));
    }

    /// <summary>
    /// How address verification probes are routed: the address_verify_* routing parameters, which default to the
    /// ordinary ones (then the ordinary resolver serves), as trivial-rewrite routes probes in Postfix.
    /// </summary>
    private static TransportResolver ProbeResolver(MainConfig main, TransportResolver ordinary) =>
        Probes.All.Zip(Ordinary.All).All(pair => main.Get(pair.First) == main.Get(pair.Second)) ? ordinary : Resolver(main, Probes);

    /// <summary>
    /// One agent per master.cf transport, each with the main.cf its -o options make. The SMTP client and
    /// the resolver are shared: connections are cached per server across transports, as Postfix's scache does.
    /// </summary>
    private static IReadOnlyDictionary<string, (ITransport Transport, int MaxProc, DestinationPolicy Policy)> Transports(
        MainConfig main, MasterConfig master, SmtpDeliveryAgent smtp, NextHopFinder finder)
    {
        var transports = new Dictionary<string, (ITransport, int, DestinationPolicy)>(StringComparer.OrdinalIgnoreCase);
        foreach (MasterService service in master.Transports)
        {
            ITransport agent = service.Command switch
            {
                "discard" => new DiscardTransport(),
                "error" => new ErrorTransport(),
                "virtual" => new VirtualTransport(service.ConfigFrom(main)),
                "pipe" when !OperatingSystem.IsWindows() => new PipeTransport(service, service.ConfigFrom(main)),
                "local" when !OperatingSystem.IsWindows() => new LocalTransport(service.ConfigFrom(main),
                    name => transports.TryGetValue(name, out var found) ? found.Item1 : null),
                "smtp" or "lmtp" => new SmtpTransport(smtp, SmtpClientOptions.FromConfig(service.ConfigFrom(main), service.Command == "lmtp", SmtpdSettingsFactory.Classifier(main)), finder),
                _ => new UnavailableTransport(service.Command, $"delivery agent {service.Command} is not implemented yet"),
            };
            transports[service.Name] = (agent, service.MaxProc, DestinationPolicy.FromConfig(service.ConfigFrom(main), service.Name));
        }
        // local(8) hands mailbox_transport's and fallback_transport's recipients to those services' agents.
        foreach (MasterService local in master.Transports.Where(service => service.Command == "local"))
        {
            if (!OperatingSystem.IsWindows())
            {
                LocalSettings.CheckTransports(local.ConfigFrom(main), name => master.Transports.FirstOrDefault(t => t.Name.Equals(name, StringComparison.OrdinalIgnoreCase))?.Command);
            }
        }
        return transports;
    }

    /// <summary>edge_dns_servers, or /etc/resolv.conf's nameservers.</summary>
    public static DnsResolver Resolver(MainConfig main, out string? error)
    {
        error = null;
        var servers = new List<IPEndPoint>();
        foreach (string item in main.GetList("edge_dns_servers"))
        {
            if (IPEndPoint.TryParse(item, out IPEndPoint? endpoint))
            {
                servers.Add(endpoint.Port == 0 ? new IPEndPoint(endpoint.Address, 53) : endpoint);
            }
            else
            {
                error = $"bad DNS server \"{item}\" (address or address:port)";
                return DnsResolver.FromResolvConf();
            }
        }
        return servers.Count > 0 ? new DnsResolver(servers, TimeSpan.FromSeconds(5), 2) : DnsResolver.FromResolvConf();
    }

    /// <summary>Whether Edge has the delivery agent that a master.cf command names.</summary>
    public static bool Implemented(string command) => command is "discard" or "error" or "smtp" or "lmtp" or "virtual" or "pipe" or "local";

    private static QueueSchedule Schedule(MainConfig main) => new(
        main.GetTime("minimal_backoff_time"), main.GetTime("maximal_backoff_time"), main.GetTime("queue_run_delay"),
        main.GetTime("maximal_queue_lifetime"), main.GetTime("bounce_queue_lifetime"),
        main.GetTime("delay_warning_time"), Math.Max(1, main.GetInt("qmgr_message_active_limit")))
    {
        ProbeLimit = Math.Max(1, main.GetInt("address_verify_pending_request_limit")),
    };
}
