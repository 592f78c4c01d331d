using System.Collections.Frozen;
using System.Text;

namespace Edge.Resolve;

/// <summary>
/// A set of domains from a main.cf list, looked up with the recipient's domain as UTF-8 bytes straight from
/// the command line. An entry ".example.com" matches every subdomain of example.com; a plain entry matches
/// itself, and its subdomains too when the list is named in parent_domain_matches_subdomains (as relay_domains
/// and fast_flush_domains are by default, mydestination and the virtual domain lists are not).
/// </summary>
internal sealed class DomainSet
{
    private readonly FrozenSet<string> _exact;
    private readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private readonly bool _matchesParents;
    private readonly bool _parentMatchesSubdomains;

    public DomainSet(IEnumerable<string> domains, bool parentMatchesSubdomains = false)
    {
        _parentMatchesSubdomains = parentMatchesSubdomains;
        _exact = domains.Select(d => d.TrimEnd('.')).Where(d => d.Length > 0)
            .ToFrozenSet(StringComparer.OrdinalIgnoreCase);
        _lookup = _exact.GetAlternateLookup<ReadOnlySpan<char>>();
        _matchesParents = parentMatchesSubdomains || _exact.Any(d => d.StartsWith('.'));
    }

    public bool Contains(ReadOnlySpan<byte> domain)
    {
        if (domain.IsEmpty || domain.Length > 255)
        {
            return false;
        }
        Span<char> chars = stackalloc char[256];
        int length = Encoding.UTF8.GetChars(domain, chars);
        ReadOnlySpan<char> name = chars[..length].TrimEnd('.');
        if (_lookup.Contains(name))
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
}
