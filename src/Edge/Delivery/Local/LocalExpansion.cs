using System.Text;

namespace Edge.Delivery.Local;

/// <summary>
/// local(8)'s $name expansion of a recipient's attributes: $name, ${name}, ${name?text} (text when the attribute is
/// not empty), ${name:text} (text when it is), ${name?{text1}:{text2}}. An attribute's characters outside a filter
/// (forward_expansion_filter …) become "_", so that an address cannot put shell or path syntax into a file name.
/// </summary>
internal static class LocalExpansion
{
    public static string Expand(string text, IReadOnlyDictionary<string, string> attributes, string? filter = null) =>
        Expand(text, attributes, filter, out _);

    /// <summary>
    /// <paramref name="undefined"/>: an empty attribute was named outside a condition, which makes a forward_path entry
    /// one to skip ("$home/.forward${recipient_delimiter}${extension}" for an address without an extension).
    /// </summary>
    public static string Expand(string text, IReadOnlyDictionary<string, string> attributes, string? filter, out bool undefined)
    {
        undefined = false;
        var result = new StringBuilder();
        int i = 0;
        while (i < text.Length)
        {
            char c = text[i];
            if (c != '$' || i + 1 >= text.Length)
            {
                result.Append(c);
                i++;
                continue;
            }
            if (text[i + 1] == '{' && Close(text, i + 1) is > 0 and var close)
            {
                string inner = text[(i + 2)..close];
                int op = inner.IndexOfAny(['?', ':']);
                string name = op < 0 ? inner : inner[..op];
                string value = Value(attributes, name, filter);
                undefined |= op < 0 && value.Length == 0;
                result.Append(op < 0 ? value : Conditional(inner[op], inner[(op + 1)..], value.Length > 0, attributes, filter));
                i = close + 1;
                continue;
            }
            int end = i + 1;
            while (end < text.Length && (char.IsAsciiLetterOrDigit(text[end]) || text[end] == '_'))
            {
                end++;
            }
            string plain = Value(attributes, text[(i + 1)..end], filter);
            undefined |= plain.Length == 0;
            result.Append(plain);
            i = end;
        }
        return result.ToString();
    }

    /// <summary>"?" gives its text when the attribute is set, ":" when it is not; "?{a}:{b}" gives a or b.</summary>
    private static string Conditional(char op, string text, bool set, IReadOnlyDictionary<string, string> attributes, string? filter)
    {
        if (op == '?' && text.StartsWith('{') && Close(text, 0) is > 0 and var first)
        {
            string rest = text[(first + 1)..];
            string otherwise = rest.StartsWith(":{") && rest.EndsWith('}') ? rest[2..^1] : "";
            return Expand(set ? text[1..first] : otherwise, attributes, filter);
        }
        string value = text.StartsWith('{') && text.EndsWith('}') ? text[1..^1] : text;
        return (op == '?') == set ? Expand(value, attributes, filter) : "";
    }

    /// <summary>Where the brace that opens at <paramref name="open"/> closes, counting nested braces; -1 when it does not.</summary>
    private static int Close(string text, int open)
    {
        int depth = 0;
        for (int i = open; i < text.Length; i++)
        {
            depth += text[i] == '{' ? 1 : text[i] == '}' ? -1 : 0;
            if (depth == 0)
            {
                return i;
            }
        }
        return -1;
    }

    private static string Value(IReadOnlyDictionary<string, string> attributes, string name, string? filter)
    {
        string value = attributes.GetValueOrDefault(name, "");
        return filter is null ? value : string.Concat(value.Select(c => filter.Contains(c) ? c : '_'));
    }
}
