using System.Collections.Concurrent;
using Edge.Tables.Ldap;
using Edge.Tables.Remote;
using Edge.Tables.Sql;

namespace Edge.Tables;

/// <summary>Opens a "type:name" table reference from main.cf.</summary>
internal static class TableFactory
{
    /// <summary>The types Open takes, as postconf -m lists them (unix takes passwd.byname only).</summary>
    public static readonly string[] Types =
        ["btree", "cdb", "cidr", "dbm", "environ", "fail", "hash", "inline", "internal", "ldap", "lmdb", "memcache", "mysql", "nis", "pcre", "pgsql", "pipemap", "proxy", "randmap",
         "regexp", "sdbm", "socketmap", "sqlite", "static", "tcp", "texthash", "unionmap", "unix"];

    /// <summary>
    /// Tables a server answers, one per reference and settings however many parameters and listeners name it: one
    /// connection pool and cache each, as proxymap(8) shares one table among Postfix's daemons.
    /// </summary>
    private static readonly ConcurrentDictionary<(string Identity, TableSettings Settings), RemoteTable> s_remote = new();

    /// <summary>
    /// The table, or null with <paramref name="error"/> saying why it cannot be opened. Indexed types (hash,
    /// btree, lmdb, cdb, dbm) are read from the source file Postfix's postmap(1), or newaliases(1) for
    /// <paramref name="aliases"/>, would index: "hash:/etc/postfix/access" reads /etc/postfix/access. Tables a server
    /// answers use <paramref name="remote"/>.
    /// </summary>
    public static ILookupTable? Open(string reference, TableSettings remote, out string? error, bool aliases = false)
    {
        error = null;
        int colon = reference.IndexOf(':');
        if (colon <= 0)
        {
            error = $"\"{reference}\" is not a type:name table";
            return null;
        }
        string type = reference[..colon].ToLowerInvariant();
        string name = reference[(colon + 1)..];
        if (type == "proxy")
        {
            // proxymap(8) only forwards lookups from chrooted Postfix daemons; Edge opens the table itself.
            return Open(name, remote, out error, aliases);
        }
        try
        {
            return type switch
            {
                "inline" => InlineTable.Parse(name, out error),
                "texthash" => FromFile(reference, name, () => TextHashTable.Load(name)),
                "hash" or "btree" or "lmdb" or "cdb" or "dbm" or "sdbm" =>
                    FromFile(reference, name, aliases ? () => AliasFile.Load(name) : () => TextHashTable.Load(name)),
                "cidr" => FromFile(reference, name, () => CidrTable.Load(name)),
                "regexp" => FromFile(reference, name, () => PatternTable.Load(name, RegexpSyntax.Instance)),
                "pcre" => FromFile(reference, name, () => PatternTable.Load(name, PcreSyntax.Instance)),
                "static" => new StaticTable(name.Trim('{', '}').Trim()),
                "unix" when name == "passwd.byname" => UnixPasswdTable.Instance,
                "nis" => NisTable.Open(name, out error),
                "internal" => EmptyTable.Instance,
                "environ" => new EnvironTable(remote.Environment.Variables()),
                "unionmap" => Members(name, remote, out error, aliases) is { } union ? new UnionTable(union) : null,
                "pipemap" => Members(name, remote, out error, aliases) is { } pipe ? new PipeTable(pipe) : null,
                "fail" => new FailTable(reference, "table lookup failed (fail: table)"),
                "socketmap" or "tcp" or "sqlite" or "pgsql" or "mysql" or "memcache" or "ldap" => Remote(type, reference, name, remote, out error),
                "randmap" => Items(name, out error) is { } results ? new RandomTable(results) : null,
                _ => Unsupported(type, out error),
            };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or TableException or Config.ConfigException)
        {
            error = e.Message;
            return null;
        }
    }

    /// <summary>The items of "{ a, b … }" (commas or white space between them, braces grouping); null with an error otherwise.</summary>
    private static List<string>? Items(string text, out string? error)
    {
        error = null;
        text = text.Trim();
        if (text.Length < 2 || text[0] != '{' || text[^1] != '}')
        {
            error = "expected {item, ...}";
            return null;
        }
        List<string> items = [.. InlineTable.SplitItems(text[1..^1]).Select(item => item.Trim()).Select(item =>
            item.StartsWith('{') && item.EndsWith('}') ? item[1..^1].Trim() : item)];
        if (items.Count == 0)
        {
            error = "expected at least one item in {item, ...}";
            return null;
        }
        return items;
    }

    /// <summary>The tables of unionmap:{…} and pipemap:{…}, each opened as a table of its own.</summary>
    private static List<ILookupTable>? Members(string text, TableSettings remote, out string? error, bool aliases)
    {
        if (Items(text, out error) is not { } references)
        {
            return null;
        }
        var tables = new List<ILookupTable>(references.Count);
        foreach (string reference in references)
        {
            if (Open(reference, remote, out string? why, aliases) is not { } table)
            {
                error = $"{reference}: {why}";
                return null;
            }
            tables.Add(table);
        }
        return tables;
    }

    /// <summary>The shared table of a server (<see cref="s_remote"/>), opened on first use.</summary>
    private static RemoteTable? Remote(string type, string reference, string name, TableSettings settings, out string? error)
    {
        error = null;
        // A table configured by a file is the same table while the file says the same.
        string identity = type is "sqlite" or "pgsql" or "mysql" or "memcache" or "ldap" && File.Exists(name) ? $"{reference}\n{File.ReadAllText(name)}" : reference;
        if (s_remote.TryGetValue((identity, settings), out RemoteTable? shared))
        {
            return shared;
        }
        RemoteTable? table = type switch
        {
            "socketmap" => SocketmapTable.Open(reference, name, settings, out error),
            "tcp" => TcpTable.Open(reference, name, settings, out error),
            "sqlite" => SqliteTable.Open(reference, name, settings),
            "memcache" => MemcacheTable.Open(reference, name, settings),
            "mysql" => MysqlTable.Open(reference, name, settings),
            "ldap" => LdapTable.Open(reference, name, settings),
            _ => PgsqlTable.Open(reference, name, settings),
        };
        return table is null ? null : s_remote.GetOrAdd((identity, settings), table);
    }

    /// <summary>A table read from <paramref name="path"/> now, and again whenever the file changes.</summary>
    private static ReloadingTable FromFile(string reference, string path, Func<ILookupTable> load) => new(reference, path, load, load());

    private static ILookupTable? Unsupported(string type, out string error)
    {
        error = $"table type \"{type}\" is not supported yet ({string.Join(", ", Types)} are, unix only as unix:passwd.byname)";
        return null;
    }
}
