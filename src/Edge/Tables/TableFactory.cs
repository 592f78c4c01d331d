namespace Edge.Tables;

/// <summary>Opens a "type:name" table reference from main.cf.</summary>
internal static class TableFactory
{
    /// <summary>The table, or null with <paramref name="error"/> saying why it cannot be opened.</summary>
    public static ILookupTable? Open(string reference, out string? error)
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
        try
        {
            return type switch
            {
                "inline" => InlineTable.Parse(name, out error),
                "texthash" => TextHashTable.Load(name),
                "cidr" => CidrTable.Load(name),
                "regexp" => RegexpTable.Load(name),
                "static" => new StaticTable(name.Trim('{', '}').Trim()),
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
        error = $"table type \"{type}\" is not supported yet (inline, static, texthash, cidr and regexp are)";
        return null;
    }
}
