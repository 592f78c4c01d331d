using System.Collections.Frozen;
using System.Text;

namespace Edge.Resolve;

/// <summary>
/// A set of domains from a main.cf list, looked up with the recipient's domain as UTF-8 bytes straight from
/// the command line. An entry ".example.com" matches every subdomain of example.com; a plain entry matches
/// itself, and its subdomains too when the list is named in parent_domain_matches_subdomains (as relay_domains
/// and fast_flush_domains are by default, mydestination and the virtual domain lists are not). A type:table
/// entry matches a domain it has as a key (virtual_alias_domains = $virtual_alias_maps, the default, names the
/// domains listed in the alias table): only then is a string made for the lookup.
/// </summary>
internal sealed class DomainSet
{
    private readonly FrozenSet<string> _exact;
    private readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private readonly bool _matchesParents;
    private readonly bool _parentMatchesSubdomains;
    private readonly Tables.ILookupTable[] _tables;

    public DomainSet(IEnumerable<string> domains, bool parentMatchesSubdomains = false, Tables.ILookupTable[]? tables = null)
    {
        _tables = tables ?? [];
        _parentMatchesSubdomains = parentMatchesSubdomains;
        _exact = domains.Select(d => d.TrimEnd('.')).Where(d => d.Length > 0)
            .ToFrozenSet(StringComparer.OrdinalIgnoreCase);
        _lookup = _exact.GetAlternateLookup<ReadOnlySpan<char>>();
        _matchesParents = parentMatchesSubdomains || _exact.Any(d => d.StartsWith('.'));
    }

    /// <summary>A table of the list is answered by a server.</summary>
    public bool IsRemote => _tables.Any(table => table.IsRemote);

    public bool Contains(ReadOnlySpan<byte> domain)
    {
        if (domain.IsEmpty || domain.Length > 255)
        {
            return false;
        }
        Span<char> chars = stackalloc char[256];
        int length = Encoding.UTF8.GetChars(domain, chars);
        ReadOnlySpan<char> name = chars[..length].TrimEnd('.');
        if (_lookup.Contains(name) || (_tables.Length > 0 && InTables(name)))
        {
            return true;
        }
        if (!_matchesParents)
        {
            return false;
        }
        for (int dot = name.IndexOf('.'); dot >= 0; dot = name.IndexOf('.'))
        {
            name = name[dot..];
            if (_lookup.Contains(name))
            {
                return true;
            }
            name = name[1..];
            if (_parentMatchesSubdomains && _lookup.Contains(name))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>The domain, or with parent matching one of its parents, as a key of a table.</summary>
    private bool InTables(ReadOnlySpan<char> name)
    {
        for (string domain = name.ToString(); domain.Length > 0;)
        {
            foreach (Tables.ILookupTable table in _tables)
            {
                if (table.Lookup(domain) is not null)
                {
                    return true;
                }
            }
            int dot = domain.IndexOf('.');
            if (!_parentMatchesSubdomains || dot < 0)
            {
                return false;
            }
            domain = domain[(dot + 1)..];
        }
        return false;
    }
}
