using System.Globalization;
using System.Text;

namespace Edge.Config;

/// <summary>
/// Expands <c>$name</c>, <c>${name}</c> and <c>$(name)</c> in parameter values as postconf(5) describes,
/// recursively, with the conditional forms <c>${name?value}</c>, <c>${name:value}</c>,
/// <c>${name?{value}:{value}}</c> and <c>${{text} op {text} ? {value} : {value}}</c>. An undefined
/// name expands to nothing, as in Postfix. One instance serves one lookup: it tracks the names being
/// expanded to report a loop instead of recursing forever.
/// </summary>
sealed class ParameterExpander(MainConfig config)
{
    readonly List<string> expanding = [];

    public string Expand(string name)
    {
        var at = expanding.IndexOf(name);
        if (at >= 0)
            throw config.Error(name, "expansion loop: " + string.Join(" -> ", expanding.Skip(at).Append(name).Select(n => "$" + n)));
        var raw = config.RawValueOrNull(name);
        if (raw is null || config.DefinitionOf(name)?.Kind == ParameterKind.Raw)
            return raw ?? "";
        expanding.Add(name);
        try
        {
            var value = ExpandText(raw, name);
            return name == "myorigin" && value.StartsWith('/') ? FirstLineOf(name, value) : value;
        }
        finally
        {
            expanding.RemoveAt(expanding.Count - 1);
        }
    }

    // Debian's Postfix reads myorigin from a file when it is a path (/etc/mailname, in Debian's
    // main.cf); Edge does the same so that such a main.cf keeps its meaning.
    string FirstLineOf(string name, string path)
    {
        try
        {
            return File.ReadLines(path).FirstOrDefault()?.Trim() ?? "";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw config.Error(name, $"cannot read {path}: {ConfigFile.Describe(e)}");
        }
    }

    /// <summary>The names a value refers to, so that a user-defined parameter that is used is not reported as unused.</summary>
    public static IEnumerable<string> References(string text)
    {
        for (var i = text.IndexOf('$'); i >= 0 && i + 1 < text.Length; i = text.IndexOf('$', i + 1))
        {
            var p = i + 1;
            if (text[p] == '$')
            {
                i = p;
                continue;
            }
            if (text[p] is '{' or '(')
                p = SkipSpace(text, p + 1);
            var start = p;
            while (p < text.Length && IsNameChar(text[p]))
                p++;
            if (p > start)
                yield return text[start..p];
        }
    }

    string ExpandText(string text, string owner)
    {
        var result = new StringBuilder();
        var i = 0;
        while (i < text.Length)
        {
            var dollar = text.IndexOf('$', i);
            if (dollar < 0)
            {
                result.Append(text, i, text.Length - i);
                break;
            }
            result.Append(text, i, dollar - i);
            i = dollar + 1;
            if (i == text.Length)
                throw SyntaxError(owner, "empty macro name", text);
            var c = text[i];
            if (c == '$')
            {
                result.Append('$');
                i++;
            }
            else if (c is '{' or '(')
            {
                var end = MatchingClose(text, i);
                if (end < 0)
                    throw SyntaxError(owner, "truncated macro reference", text);
                result.Append(ExpandBracketed(text[(i + 1)..end], owner, text));
                i = end + 1;
            }
            else if (IsNameChar(c))
            {
                var start = i;
                while (i < text.Length && IsNameChar(text[i]))
                    i++;
                result.Append(Expand(text[start..i]));
            }
            else
            {
                throw SyntaxError(owner, "empty macro name", text);
            }
        }
        return result.ToString();
    }

    // The inside of ${...} or $(...): a name, optionally followed by ?value, :value or the {value} forms;
    // or, when it starts with '{', a comparison.
    string ExpandBracketed(string inner, string owner, string text)
    {
        var p = SkipSpace(inner, 0);
        if (p < inner.Length && inner[p] == '{')
            return ExpandComparison(inner, p, owner, text);
        var start = p;
        while (p < inner.Length && IsNameChar(inner[p]))
            p++;
        var name = inner[start..p];
        if (name.Length == 0)
            throw SyntaxError(owner, "empty macro name", text);
        p = SkipSpace(inner, p);
        if (p == inner.Length)
            return Expand(name);
        var op = inner[p];
        if (op is not ('?' or ':'))
            throw SyntaxError(owner, "attribute name syntax error", text);
        var isSet = Expand(name).Length > 0;
        var q = SkipSpace(inner, p + 1);
        if (q < inner.Length && inner[q] == '{')
        {
            var first = ReadGroup(inner, ref q, owner, text);
            string? second = null;
            q = SkipSpace(inner, q);
            if (op == '?' && q < inner.Length && inner[q] == ':')
            {
                q = SkipSpace(inner, q + 1);
                second = ReadGroup(inner, ref q, owner, text);
                q = SkipSpace(inner, q);
            }
            if (q < inner.Length)
                throw SyntaxError(owner, "\":\" expected", text);
            var chosen = op == '?' ? (isSet ? first : second ?? "") : (isSet ? "" : first);
            return ExpandText(chosen, owner);
        }
        // ${name?value} and ${name:value}: the value is the rest, as written.
        return (op == '?') == isSet ? ExpandText(inner[(p + 1)..], owner) : "";
    }

    // ${{text} op {text} ? {value} : {value}}: == and != compare text, <, <=, >, >= compare numbers,
    // and the same operators with a "level" suffix compare compatibility levels such as 3.6.
    string ExpandComparison(string inner, int p, string owner, string text)
    {
        var left = ExpandText(ReadGroup(inner, ref p, owner, text), owner);
        p = SkipSpace(inner, p);
        var op = new[] { "==", "!=", "<=", ">=", "<", ">" }.FirstOrDefault(o => string.CompareOrdinal(inner, p, o, 0, o.Length) == 0)
            ?? throw SyntaxError(owner, "\"==\" or \"!=\" or \"<\" or \"<=\" or \">=\" or \">\" expected", text);
        p += op.Length;
        var byLevel = string.CompareOrdinal(inner, p, "level", 0, 5) == 0;
        if (byLevel)
            p += 5;
        p = SkipSpace(inner, p);
        var right = ExpandText(ReadGroup(inner, ref p, owner, text), owner);
        p = SkipSpace(inner, p);
        if (p >= inner.Length || inner[p] != '?')
            throw SyntaxError(owner, "\"?\" expected", text);
        p = SkipSpace(inner, p + 1);
        var whenTrue = ReadGroup(inner, ref p, owner, text);
        var whenFalse = "";
        p = SkipSpace(inner, p);
        if (p < inner.Length && inner[p] == ':')
        {
            p = SkipSpace(inner, p + 1);
            whenFalse = ReadGroup(inner, ref p, owner, text);
            p = SkipSpace(inner, p);
        }
        if (p < inner.Length)
            throw SyntaxError(owner, "\":\" expected", text);

        bool outcome;
        if (!byLevel && op is "==" or "!=")
        {
            outcome = (left == right) == (op == "==");
        }
        else
        {
            var order = byLevel
                ? CompareLevels(ParseLevel(left, owner, text), ParseLevel(right, owner, text))
                : ParseNumber(left, owner, text).CompareTo(ParseNumber(right, owner, text));
            outcome = op switch
            {
                "==" => order == 0,
                "!=" => order != 0,
                "<" => order < 0,
                "<=" => order <= 0,
                ">" => order > 0,
                _ => order >= 0,
            };
        }
        return ExpandText(outcome ? whenTrue : whenFalse, owner);
    }

    // Reads "{ text }" at p (nested braces allowed) and returns the text without braces or surrounding space.
    string ReadGroup(string inner, ref int p, string owner, string text)
    {
        if (p >= inner.Length || inner[p] != '{')
            throw SyntaxError(owner, "\"{\" expected", text);
        var end = MatchingClose(inner, p);
        if (end < 0)
            throw SyntaxError(owner, "missing '}'", text);
        var content = inner[(p + 1)..end].Trim();
        p = end + 1;
        return content;
    }

    long ParseNumber(string value, string owner, string text) =>
        long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number)
            ? number
            : throw SyntaxError(owner, $"bad numerical operand \"{value}\"", text);

    long[] ParseLevel(string value, string owner, string text)
    {
        var parts = value.Split('.');
        var level = new long[3];
        if (parts.Length > 3)
            throw SyntaxError(owner, $"bad compatibility level \"{value}\"", text);
        for (var i = 0; i < parts.Length; i++)
        {
            if (!ValueSyntax.TryParseLong(parts[i], out level[i]))
                throw SyntaxError(owner, $"bad compatibility level \"{value}\"", text);
        }
        return level;
    }

    static int CompareLevels(long[] left, long[] right)
    {
        for (var i = 0; i < left.Length; i++)
        {
            if (left[i] != right[i])
                return left[i].CompareTo(right[i]);
        }
        return 0;
    }

    ConfigException SyntaxError(string owner, string reason, string text) => config.Error(owner, $"{reason} in \"{text}\"");

    // The index of the bracket that closes the one at start, counting nested pairs of the same kind; -1 if none.
    static int MatchingClose(string text, int start)
    {
        var open = text[start];
        var close = open == '{' ? '}' : ')';
        var depth = 0;
        for (var i = start; i < text.Length; i++)
        {
            if (text[i] == open)
                depth++;
            else if (text[i] == close && --depth == 0)
                return i;
        }
        return -1;
    }

    static int SkipSpace(string text, int p)
    {
        while (p < text.Length && char.IsWhiteSpace(text[p]))
            p++;
        return p;
    }

    static bool IsNameChar(char c) => char.IsAsciiLetterOrDigit(c) || c == '_';
}
