using System.Net;
using Edge.Net;

namespace Edge.Restrictions;

/// <summary>The name checks of reject_invalid_helo_hostname and the reject_non_fqdn_* restrictions.</summary>
internal static class NameChecks
{
    /// <summary>A valid host name, or an address literal ("[192.0.2.1]", "[IPv6:2001:db8::1]").</summary>
    public static bool IsValidHelo(string helo) => IsAddressLiteral(helo) || HostName.IsValid(helo);

    /// <summary>An address literal, or a valid host name with a dot in it (a trailing dot does not count).</summary>
    public static bool IsFullyQualifiedHelo(string helo) =>
        IsAddressLiteral(helo) || (HostName.IsValid(helo) && helo.TrimEnd('.').Contains('.'));

    /// <summary>
    /// An address whose domain is fully qualified or an address literal; one without a domain ("postmaster")
    /// passes, since the restriction is about the domain it specifies.
    /// </summary>
    public static bool IsFullyQualifiedAddress(string address)
    {
        int at = address.LastIndexOf('@');
        return at < 0 || at == address.Length - 1 || IsFullyQualifiedHelo(address[(at + 1)..]);
    }

    /// <summary>"[192.0.2.1]" or "[IPv6:2001:db8::1]", as Postfix's valid_mailhost_literal().</summary>
    public static bool IsAddressLiteral(string name)
    {
        if (name.Length < 3 || name[0] != '[' || name[^1] != ']')
        {
            return false;
        }
        string inner = name[1..^1];
        if (inner.StartsWith("IPv6:", StringComparison.OrdinalIgnoreCase))
        {
            return IPAddress.TryParse(inner[5..], out IPAddress? v6) && v6.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6;
        }
        return IPAddress.TryParse(inner, out IPAddress? v4) && v4.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork
            && inner.Count(c => c == '.') == 3;
    }
}
