using Edge.Config;
using Edge.Tables;

namespace Edge.Cleanup;

/// <summary>
/// authorized_submit_users: the local users who may submit mail with sendmail, as a Postfix match list of login
/// names, "/file" of names and "type:table" (a key the table has matches; static:anyone matches everyone), each
/// possibly negated with "!"; the first match decides, and no match (or an empty list) refuses.
/// </summary>
internal sealed class AuthorizedUsers
{
    private readonly List<(bool Negated, Func<string, bool> Matches)> _items = [];

    private AuthorizedUsers()
    {
    }

    public static AuthorizedUsers From(MainConfig config)
    {
        const string Parameter = "authorized_submit_users";
        var users = new AuthorizedUsers();
        foreach (string entry in config.GetList(Parameter))
        {
            bool negated = entry.StartsWith('!');
            string item = negated ? entry[1..] : entry;
            if (item.StartsWith('/'))
            {
                HashSet<string> names = File.Exists(item)
                    ? [.. File.ReadLines(item).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#'))]
                    : throw config.Error(Parameter, $"cannot read {item}");
                users._items.Add((negated, names.Contains));
            }
            else if (item.Contains(':'))
            {
                ILookupTable table = TableFactory.Open(item, TableSettings.From(config), out string? error) ?? throw config.Error(Parameter, error ?? $"cannot open {item}");
                users._items.Add((negated, name => table.Current.Lookup(name) is not null));
            }
            else
            {
                users._items.Add((negated, name => name == item));
            }
        }
        return users;
    }

    public bool Allows(string user)
    {
        foreach ((bool negated, Func<string, bool> matches) in _items)
        {
            if (matches(user))
            {
                return !negated;
            }
        }
        return false;
    }
}
