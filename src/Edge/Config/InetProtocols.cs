using System.Net.Sockets;

namespace Edge.Config;

/// <summary>The address families that inet_protocols enables.</summary>
static class InetProtocols
{
    public static IReadOnlyCollection<AddressFamily> Families(MainConfig config)
    {
        var families = new HashSet<AddressFamily>();
        foreach (var protocol in config.GetList("inet_protocols"))
        {
            switch (protocol.ToLowerInvariant())
            {
                case "all":
                    families.Add(AddressFamily.InterNetwork);
                    families.Add(AddressFamily.InterNetworkV6);
                    break;
                case "ipv4":
                    families.Add(AddressFamily.InterNetwork);
                    break;
                case "ipv6":
                    families.Add(AddressFamily.InterNetworkV6);
                    break;
                default:
                    throw config.Error("inet_protocols", $"bad value \"{protocol}\" (expected all, ipv4 or ipv6)");
            }
        }
        if (families.Count == 0)
            throw config.Error("inet_protocols", "no protocol is enabled");
        return families;
    }
}
