using Edge.Config;
using Edge.Tables;

namespace Edge.Cleanup;

/// <summary>
/// masquerade_domains and masquerade_exceptions, as Postfix's cleanup_masquerade_external() applies them: an address
/// in a subdomain of a listed domain loses the subdomain (user@host.example.com becomes user@example.com); the first
/// listed domain that is the address's own domain or a parent of it decides, and a "!" before it means "leave
/// this one alone". A user named in masquerade_exceptions keeps the full domain.
/// </summary>
internal sealed class Masquerade
{
    private readonly (string Domain, bool Truncate)[] _domains;
    private readonly string[] _exceptions;
    private readonly ILookupTable[] _exceptionTables;

    private Masquerade((string, bool)[] domains, string[] exceptions, ILookupTable[] exceptionTables)
    {
        _domains = domains;
        _exceptions = exceptions;
        _exceptionTables = exceptionTables;
    }

    /// <summary>The masquerading main.cf asks for; null when masquerade_domains is empty.</summary>
    public static Masquerade? From(MainConfig config)
    {
        var domains = new List<(string, bool)>();
        foreach (string entry in config.GetList("masquerade_domains"))
        {
            string domain = entry.TrimStart('!');
            // Each "!" flips the meaning, as in Postfix ("!!example.com" masquerades again).
            bool truncate = (entry.Length - domain.Length) % 2 == 0;
            if (domain.Contains(':'))
            {
                throw config.Error("masquerade_domains", $"\"{entry}\": lookup tables are not supported in masquerade_domains; list the domains");
            }
            if (domain.Length > 0)
            {
                domains.Add((domain.ToLowerInvariant(), truncate));
            }
        }
        if (domains.Count == 0)
        {
            return null;
        }
        var names = new List<string>();
        var tables = new List<ILookupTable>();
        foreach (string entry in config.GetList("masquerade_exceptions"))
        {
            if (entry.Contains(':'))
            {
                tables.Add(TableFactory.Open(entry, TableSettings.From(config), out string? error)
                    ?? throw config.Error("masquerade_exceptions", error ?? $"cannot open {entry}"));
            }
            else
            {
                names.Add(entry);
            }
        }
        return new Masquerade([.. domains], [.. names], [.. tables]);
    }

    /// <summary>masquerade_exceptions has a table a server answers.</summary>
    public bool IsRemote => _exceptionTables.Any(table => table.IsRemote);

    /// <summary><paramref name="address"/> with its domain masqueraded, or itself.</summary>
    public string Apply(string address)
    {
        int at = address.LastIndexOf('@');
        if (at < 0)
        {
            return address;
        }
        string domain = address[(at + 1)..].ToLowerInvariant();
        if (IsException(address[..at]))
        {
            return address;
        }
        foreach ((string masq, bool truncate) in _domains)
        {
            if (masq.Length == domain.Length)
            {
                if (masq == domain)
                {
                    break;
                }
            }
            else if (masq.Length < domain.Length && domain[domain.Length - masq.Length - 1] == '.' && domain.EndsWith(masq, StringComparison.Ordinal))
            {
                return truncate ? $"{address[..at]}@{masq}" : address;
            }
        }
        return address;
    }

    private bool IsException(string user)
    {
        foreach (string name in _exceptions)
        {
            if (name.Equals(user, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }
        foreach (ILookupTable table in _exceptionTables)
        {
            if (table.Lookup(user.ToLowerInvariant()) is not null)
            {
                return true;
            }
        }
        return false;
    }
}
