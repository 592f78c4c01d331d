using Edge.Mail;
using Edge.Tables;

namespace Edge.Restrictions;

/// <summary>
/// The keys access(5) tries for each kind of check, first match wins. An indexed table (hash, texthash,
/// inline …) is asked for the whole string and then its parts; a pattern table (regexp, cidr) only for the
/// whole string.
/// </summary>
internal static class AccessLookup
{
    /// <summary>The client's name and its parent domains (unless "unknown"), then its address and the address's leading parts ("192.0.2", "192.0", "192").</summary>
    public static string? Client(ILookupTable table, Peer client, bool parentMatches)
    {
        if (client.Name != "unknown"
            && (table.IsPattern ? table.Lookup(client.Name) : Domain(table, client.Name, parentMatches)) is { } byName)
        {
            return byName;
        }
        return HostAddress(table, client.Address);
    }

    /// <summary>An address, then its leading parts ("192.0.2", "192.0", "192"), as Postfix's check_addr_access().</summary>
    public static string? HostAddress(ILookupTable table, string address)
    {
        if (table.IsPattern)
        {
            return table.Lookup(address);
        }
        while (true)
        {
            if (table.Lookup(address) is { } result)
            {
                return result;
            }
            int cut = address.LastIndexOfAny(['.', ':']);
            if (cut <= 0)
            {
                return null;
            }
            address = address[..cut].TrimEnd(':');
        }
    }

    /// <summary>A host or domain name (HELO, ETRN, an MX or NS host) and its parent domains.</summary>
    public static string? HostName(ILookupTable table, string helo, bool parentMatches) =>
        table.IsPattern ? table.Lookup(helo) : Domain(table, helo, parentMatches);

    /// <summary>
    /// An envelope address as access(5) says: "user+foo@domain", "user@domain" (without the extension that starts at
    /// the first of <paramref name="delimiters"/>), then the domain and its parent domains, then "user+foo@" and
    /// "user@"; the null sender as <paramref name="nullKey"/>.
    /// </summary>
    public static string? Address(ILookupTable table, string address, string nullKey, bool parentMatches, string delimiters = "")
    {
        if (address.Length == 0)
        {
            return table.Lookup(nullKey);
        }
        string? whole = table.Lookup(address);
        if (whole is not null || table.IsPattern)
        {
            return whole;
        }
        int at = address.LastIndexOf('@');
        if (at < 0)
        {
            return null;
        }
        // The extension starts after the first character, as Postfix's strip_addr() has it.
        int extension = delimiters.Length == 0 || at < 2 ? -1 : address.AsSpan(1, at - 1).IndexOfAny(delimiters) + 1;
        string? bare = extension > 0 ? address[..extension] + address[at..] : null;
        return (bare is null ? null : table.Lookup(bare))
            ?? Domain(table, address[(at + 1)..], parentMatches)
            ?? table.Lookup(address[..(at + 1)])
            ?? (bare is null ? null : table.Lookup(address[..(extension)] + "@"));
    }

    /// <summary>
    /// The domain, then each parent domain up to the top level: as "example.com" when parent domains match
    /// their subdomains (Postfix's default for access tables), otherwise as ".example.com".
    /// </summary>
    private static string? Domain(ILookupTable table, string domain, bool parentMatches)
    {
        domain = domain.TrimEnd('.');
        if (table.Lookup(domain) is { } exact)
        {
            return exact;
        }
        if (domain.StartsWith('['))
        {
            return null;
        }
        for (int dot = domain.IndexOf('.'); dot >= 0; dot = domain.IndexOf('.', dot + 1))
        {
            if (table.Lookup(parentMatches ? domain[(dot + 1)..] : domain[dot..]) is { } parent)
            {
                return parent;
            }
        }
        return null;
    }
}
