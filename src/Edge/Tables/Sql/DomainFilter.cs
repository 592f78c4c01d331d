namespace Edge.Tables.Sql;

/// <summary>
/// A table's "domain" setting: when it lists domains (names, /files of names, type:table lookups, "!" to exclude),
/// only full addresses with a local part and one of those domains are looked up, which spares the server every other
/// key, as Postfix's db_common_check_domain().
/// </summary>
internal sealed class DomainFilter
{
    private readonly List<(bool Negated, string? Name, ILookupTable? Table)> _items;

    private DomainFilter(List<(bool, string?, ILookupTable?)> items) => _items = items;

    /// <exception cref="TableException">A file or table of the list cannot be read.</exception>
    public static DomainFilter? Parse(TableConfigFile file, TableSettings settings)
    {
        if (file.Get("domain") is not { } list)
        {
            return null;
        }
        var items = new List<(bool, string?, ILookupTable?)>();
        foreach (string word in list.Split([' ', '\t', ',', '\r', '\n'], StringSplitOptions.RemoveEmptyEntries))
        {
            bool negated = word.StartsWith('!');
            string item = negated ? word[1..] : word;
            if (item.StartsWith('/'))
            {
                try
                {
                    items.AddRange(File.ReadLines(item).Select(line => line.Split('#')[0].Trim()).Where(name => name.Length > 0)
                        .Select(name => (negated, (string?)name, (ILookupTable?)null)));
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw file.Error("domain", $"cannot read {item}: {e.Message}");
                }
            }
            else if (item.Contains(':'))
            {
                items.Add((negated, null, TableFactory.Open(item, settings, out string? error) ?? throw file.Error("domain", $"{item}: {error}")));
            }
            else
            {
                items.Add((negated, item, null));
            }
        }
        return items.Count == 0 ? null : new DomainFilter(items);
    }

    /// <summary>Whether <paramref name="key"/> is to be looked up: a user@domain whose domain the list matches first without "!".</summary>
    public bool Allows(string key)
    {
        int at = key.LastIndexOf('@');
        if (at <= 0)
        {
            return false;
        }
        string domain = key[(at + 1)..];
        foreach ((bool negated, string? name, ILookupTable? table) in _items)
        {
            if (name is not null ? name.Equals(domain, StringComparison.OrdinalIgnoreCase) : table!.Current.Lookup(domain) is not null)
            {
                return !negated;
            }
        }
        return false;
    }
}
