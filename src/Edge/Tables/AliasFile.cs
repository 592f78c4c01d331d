using Edge.Config;

namespace Edge.Tables;

/// <summary>
/// An aliases(5) source file ("name: address, address"), as alias_maps = hash:/etc/aliases names it. Postfix
/// reads the indexed file newaliases(1) built from it; Edge reads the source itself, so there is nothing to
/// rebuild after an edit.
/// </summary>
internal static class AliasFile
{
    public static TextHashTable Load(string path)
    {
        var entries = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (LogicalLine line in LogicalLineReader.Read(File.ReadAllText(path), path))
        {
            int colon = line.Text.IndexOf(':');
            string name = colon < 0 ? "" : line.Text[..colon].Trim().Trim('"');
            if (name.Length == 0)
            {
                throw new TableException(path, line.Line, $"expected \"name: value\", found \"{line.Text}\"");
            }
            entries[name] = line.Text[(colon + 1)..].Trim();
        }
        return new TextHashTable(entries);
    }
}
