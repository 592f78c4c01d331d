using Edge.Config;

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
        foreach (LogicalLine line in LogicalLineReader.Read(File.ReadAllText(path), path))
        {
            int space = line.Text.IndexOfAny([' ', '\t']);
            if (space <= 0)
            {
                throw new TableException(path, line.Line, $"expected \"key whitespace value\", found \"{line.Text}\"");
            }
            entries[line.Text[..space]] = line.Text[space..].Trim();
        }
        return new TextHashTable(entries);
    }
}

/// <summary>A table file that cannot be used: which file, which line, why.</summary>
internal sealed class TableException(string path, int line, string reason)
    : Exception(line > 0 ? $"{path}, line {line}: {reason}" : $"{path}: {reason}");
