using System.Collections.Frozen;
using System.Text;

namespace Edge.Resolve;

/// <summary>
/// A set of domains from a main.cf list, looked up with the recipient's domain as UTF-8 bytes straight from
/// the command line. An entry ".example.com" matches every subdomain of example.com; a plain entry matches
/// itself only (Postfix 3's parent_domain_matches_subdomains default for these parameters).
/// </summary>
internal sealed class DomainSet
{
    private readonly FrozenSet<string> _exact;
    private readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private readonly bool _hasParentEntries;

    public DomainSet(IEnumerable<string> domains)
    {
        _exact = domains.Select(d => d.TrimEnd('.')).Where(d => d.Length > 0)
            .ToFrozenSet(StringComparer.OrdinalIgnoreCase);
        _lookup = _exact.GetAlternateLookup<ReadOnlySpan<char>>();
        _hasParentEntries = _exact.Any(d => d.StartsWith('.'));
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
        if (!_hasParentEntries)
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
        }
        return false;
    }
}
