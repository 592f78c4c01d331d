using Edge.Config;
using Edge.Net;

namespace Edge.Hosting;

/// <summary>
/// edge check's warnings beyond what start-up refuses: a domain in two address classes (Postfix then uses the
/// first class, which is rarely what was meant: the seeds' precedence trap), a mynetworks entry wider than this
/// machine's own networks (every client in it may relay), and restrictions that can never run (after an
/// unconditional permit, reject or defer).
/// </summary>
internal static class ConfigurationLint
{
    /// <summary>The address class lists in the order trivial-rewrite decides by.</summary>
    private static readonly string[] ClassLists = ["mydestination", "virtual_alias_domains", "virtual_mailbox_domains", "relay_domains"];

    private static readonly string[] RestrictionLists =
    [
        "smtpd_client_restrictions", "smtpd_helo_restrictions", "smtpd_sender_restrictions", "smtpd_relay_restrictions",
        "smtpd_recipient_restrictions", "smtpd_data_restrictions",
    ];

    public static void Run(MainConfig main, MasterConfig master, Action<string> warn)
    {
        DomainClasses(main, warn);
        MainConfig[] configs = [main, .. master.Listeners.Where(l => l.Overrides.Count > 0).Select(l => l.ConfigFrom(main))];
        foreach (MainConfig config in configs)
        {
            Unreachable(config, warn);
        }
        Mynetworks(main, warn);
    }

    private static void DomainClasses(MainConfig main, Action<string> warn)
    {
        var seen = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (string list in ClassLists)
        {
            foreach (string domain in main.GetList(list).Where(d => !d.Contains(':') && !d.StartsWith('/')).Select(d => d.TrimEnd('.')))
            {
                if (seen.TryGetValue(domain, out string? first) && first != list)
                {
                    warn(main.Error(list, $"do not list domain {domain} in BOTH {first} and {list}: mail for it is treated as {first} says").Message);
                }
                seen.TryAdd(domain, list);
            }
        }
    }

    private static void Unreachable(MainConfig config, Action<string> warn)
    {
        foreach (string list in RestrictionLists)
        {
            IReadOnlyList<string> names = config.GetList(list);
            int end = names.ToList().FindIndex(n => n.ToLowerInvariant() is "permit" or "reject" or "defer");
            if (end >= 0 && end + 1 < names.Count)
            {
                warn(config.Error(list, $"restriction \"{names[end + 1]}\" after \"{names[end]}\" can never run").Message);
            }
        }
    }

    private static void Mynetworks(MainConfig main, Action<string> warn)
    {
        Network[] own = [.. System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
            .SelectMany(i => i.GetIPProperties().UnicastAddresses)
            .Select(u => Network.Of(u.Address, u.PrefixLength))];
        foreach (string entry in main.GetList("mynetworks"))
        {
            if (Network.TryParse(entry, out Network network) && !own.Any(network.Within))
            {
                warn(main.Error("mynetworks", $"{entry} is wider than this machine's networks ({string.Join(", ", own)}): " +
                    "every client in it may relay through Edge").Message);
            }
        }
    }
}
