using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace Edge.Config;

/// <summary>The default of mynetworks, which Postfix computes from mynetworks_style.</summary>
static class MynetworksDefault
{
    /// <summary>
    /// The "host" style. Postfix lists every address of the machine; Edge trusts loopback only, the
    /// list Debian writes into main.cf, so that a machine's public address is never trusted by default.
    /// </summary>
    public const string Loopback = "127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128";

    public static string For(MainConfig config)
    {
        var style = config.Get("mynetworks_style");
        return style switch
        {
            "host" => Loopback,
            "subnet" or "class" => FromInterfaces(style == "class", InetProtocols.Families(config)),
            _ => throw config.Error("mynetworks_style", ValueSyntax.BadChoice(style, ["host", "subnet", "class"])),
        };
    }

    /// <summary>Every interface's network, IPv4 first then IPv6, as Postfix prints them ("192.0.2.0/24 [fd00::]/64").</summary>
    static string FromInterfaces(bool classful, IReadOnlyCollection<AddressFamily> families)
    {
        var networks = new List<(AddressFamily Family, string Text)>();
        foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
        {
            foreach (var unicast in nic.GetIPProperties().UnicastAddresses)
            {
                var address = unicast.Address;
                if (!families.Contains(address.AddressFamily))
                    continue;
                var prefix = classful && address.AddressFamily == AddressFamily.InterNetwork
                    ? ClassPrefix(address, unicast.PrefixLength)
                    : unicast.PrefixLength;
                var network = Mask(address, prefix);
                var text = address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{network}]/{prefix}" : $"{network}/{prefix}";
                if (!networks.Contains((address.AddressFamily, text)))
                    networks.Add((address.AddressFamily, text));
            }
        }
        return string.Join(' ', networks
            .OrderBy(n => n.Family == AddressFamily.InterNetwork ? 0 : 1)
            .Select(n => n.Text));
    }

    // Class A, B and C networks; multicast and reserved addresses keep their interface prefix.
    static int ClassPrefix(IPAddress address, int interfacePrefix) => address.GetAddressBytes()[0] switch
    {
        < 128 => 8,
        < 192 => 16,
        < 224 => 24,
        _ => interfacePrefix,
    };

    static IPAddress Mask(IPAddress address, int prefix)
    {
        var bytes = address.GetAddressBytes();
        for (var i = 0; i < bytes.Length; i++)
        {
            var bits = Math.Clamp(prefix - i * 8, 0, 8);
            bytes[i] &= (byte)(0xFF << (8 - bits));
        }
        return new IPAddress(bytes);
    }
}
