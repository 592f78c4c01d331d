namespace Edge.Tables;

/// <summary>
/// texthash:/path — postmap(1) input format read straight into memory: "key value" lines, "#" comments,
/// lines starting with white space continue the previous one.
/// </summary>
internal sealed class TextHashTable(IReadOnlyDictionary<string, string> entries) : ILookupTable
{
    public string? Lookup(string key) => entries.GetValueOrDefault(key);

    public static TextHashTable Load(string path)
    {
        var entries = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        string? pending = null;
        int number = 0, pendingLine = 0;
        foreach (string raw in File.ReadLines(path))
        {
            number++;
            string trimmed = raw.TrimStart();
            if (trimmed.Length == 0 || trimmed[0] == '#')
            {
                continue;
            }
            if (raw.Length > 0 && char.IsWhiteSpace(raw[0]) && pending is not null)
            {
                pending += " " + trimmed.TrimEnd();
                continue;
            }
            Add(entries, pending, path, pendingLine);
            pending = raw.TrimEnd();
            pendingLine = number;
        }
        Add(entries, pending, path, pendingLine);
        return new TextHashTable(entries);
    }

    private static void Add(Dictionary<string, string> entries, string? line, string path, int number)
    {
        if (line is null)
        {
            return;
        }
        int space = line.IndexOfAny([' ', '\t']);
        if (space <= 0)
        {
            throw new TableException(path, number, $"expected \"key whitespace value\", found \"{line}\"");
        }
        entries[line[..space]] = line[space..].Trim();
    }
}

/// <summary>A table file that cannot be used: which file, which line, why.</summary>
internal sealed class TableException(string path, int line, string reason)
    : Exception(line > 0 ? $"{path}, line {line}: {reason}" : $"{path}: {reason}");
