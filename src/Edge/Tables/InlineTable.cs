namespace Edge.Tables;

/// <summary>inline:{ key1=value1, { key2 = value with spaces } } from main.cf itself (Postfix 3.0).</summary>
internal sealed class InlineTable(IReadOnlyDictionary<string, string> entries) : ILookupTable
{
    public string? Lookup(string key) => entries.GetValueOrDefault(key);

    /// <summary>Parses the part after "inline:"; returns null with <paramref name="error"/> when it is malformed.</summary>
    public static InlineTable? Parse(string text, out string? error)
    {
        error = null;
        text = text.Trim();
        if (text.Length < 2 || text[0] != '{' || text[^1] != '}')
        {
            error = "expected inline:{ key=value, ... }";
            return null;
        }
        var entries = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (string item in SplitItems(text[1..^1]))
        {
            string entry = item.Trim();
            if (entry.StartsWith('{') && entry.EndsWith('}'))
            {
                entry = entry[1..^1].Trim();
            }
            int eq = entry.IndexOf('=');
            if (eq <= 0)
            {
                error = $"expected key=value, found \"{entry}\"";
                return null;
            }
            entries[entry[..eq].Trim()] = entry[(eq + 1)..].Trim();
        }
        return new InlineTable(entries);
    }

    /// <summary>Splits on commas and white space outside { } groups.</summary>
    internal static IEnumerable<string> SplitItems(string text)
    {
        int depth = 0, start = 0;
        for (int i = 0; i <= text.Length; i++)
        {
            char c = i < text.Length ? text[i] : ',';
            if (c == '{') depth++;
            else if (c == '}') depth--;
            else if (depth == 0 && (c == ',' || char.IsWhiteSpace(c)))
            {
                if (i > start && text[start..i].Trim().Length > 0)
                {
                    yield return text[start..i];
                }
                start = i + 1;
            }
        }
    }
}
