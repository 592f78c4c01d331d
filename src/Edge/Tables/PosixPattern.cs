using System.Text;

namespace Edge.Tables;

/// <summary>
/// POSIX extended regular expressions (re_format(7), as regexp tables are written) in .NET's syntax: the
/// character classes of bracket expressions ("[[:digit:]]") and the word boundaries "\&lt;" and "\&gt;" of
/// GNU regex. The rest of ERE means the same in .NET.
/// </summary>
internal static class PosixPattern
{
    private static readonly Dictionary<string, string> s_classes = new()
    {
        ["alpha"] = "a-zA-Z",
        ["digit"] = "0-9",
        ["alnum"] = "a-zA-Z0-9",
        ["upper"] = "A-Z",
        ["lower"] = "a-z",
        ["space"] = @" \t\n\r\f\v",
        ["blank"] = @" \t",
        ["punct"] = @"!-/:-@\[-`{-~",
        ["xdigit"] = "0-9A-Fa-f",
        ["cntrl"] = @"\x00-\x1f\x7f",
        ["print"] = @"\x20-\x7e",
        ["graph"] = @"\x21-\x7e",
    };

    public static string ToDotNet(string pattern)
    {
        var text = new StringBuilder(pattern.Length + 16);
        bool inBracket = false;
        for (int i = 0; i < pattern.Length; i++)
        {
            char c = pattern[i];
            if (inBracket)
            {
                if (c == '[' && i + 1 < pattern.Length && pattern[i + 1] == ':')
                {
                    int end = pattern.IndexOf(":]", i + 2, StringComparison.Ordinal);
                    string name = end < 0 ? "" : pattern[(i + 2)..end];
                    if (!s_classes.TryGetValue(name, out string? range))
                    {
                        throw new ArgumentException($"unknown character class \"[:{name}:]\"");
                    }
                    text.Append(range);
                    i = end + 1;
                    continue;
                }
                if (c == ']' && !AtBracketStart(pattern, i))
                {
                    inBracket = false;
                }
                text.Append(c);
            }
            else if (c == '\\' && i + 1 < pattern.Length)
            {
                char next = pattern[++i];
                text.Append(next is '<' or '>' ? @"\b" : "\\" + next);
            }
            else
            {
                inBracket = c == '[';
                text.Append(c);
            }
        }
        return text.ToString();
    }

    /// <summary>A ']' right after "[" or "[^" is a literal member of the bracket expression, not its end.</summary>
    private static bool AtBracketStart(string pattern, int i) =>
        pattern[i - 1] == '[' || (pattern[i - 1] == '^' && i >= 2 && pattern[i - 2] == '[');
}
