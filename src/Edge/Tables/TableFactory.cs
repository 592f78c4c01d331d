namespace Edge.Tables;

/// <summary>Opens a "type:name" table reference from main.cf.</summary>
internal static class TableFactory
{
    /// <summary>The types Open takes, as postconf -m lists them (unix takes passwd.byname only).</summary>
    public static readonly string[] Types =
        ["btree", "cdb", "cidr", "dbm", "hash", "inline", "lmdb", "nis", "pcre", "proxy", "regexp", "sdbm", "static", "texthash", "unix"];

    /// <summary>
    /// The table, or null with <paramref name="error"/> saying why it cannot be opened. Indexed types (hash,
    /// btree, lmdb, cdb, dbm) are read from the source file Postfix's postmap(1), or newaliases(1) for
    /// <paramref name="aliases"/>, would index: "hash:/etc/postfix/access" reads /etc/postfix/access.
    /// </summary>
    public static ILookupTable? Open(string reference, out string? error, bool aliases = false)
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
            return Open(name, out error, aliases);
        }
        try
        {
            return type switch
            {
                "inline" => InlineTable.Parse(name, out error),
                "texthash" => TextHashTable.Load(name),
                "hash" or "btree" or "lmdb" or "cdb" or "dbm" or "sdbm" => aliases ? AliasFile.Load(name) : TextHashTable.Load(name),
                "cidr" => CidrTable.Load(name),
                "regexp" => PatternTable.Load(name, RegexpSyntax.Instance),
                "pcre" => PatternTable.Load(name, PcreSyntax.Instance),
                "static" => new StaticTable(name.Trim('{', '}').Trim()),
                "unix" when name == "passwd.byname" => UnixPasswdTable.Instance,
                "nis" => NisTable.Open(name, out error),
                _ => Unsupported(type, out error),
            };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or TableException or Config.ConfigException)
        {
            error = e.Message;
            return null;
        }
    }

    private static ILookupTable? Unsupported(string type, out string error)
    {
        error = $"table type \"{type}\" is not supported yet ({string.Join(", ", Types)} are, unix only as unix:passwd.byname)";
        return null;
    }
}
