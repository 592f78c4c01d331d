using System.Buffers;
using System.Text;
using Edge.Config;

namespace Edge.Tables;

/// <summary>
/// The text a pattern is matched against, in both forms the pattern kinds need (PCRE matches UTF-8, .NET's regular
/// expressions characters), made once for all the patterns of a lookup.
/// </summary>
internal readonly ref struct PatternSubject(ReadOnlySpan<byte> utf8, ReadOnlySpan<char> text)
{
    public ReadOnlySpan<byte> Utf8 { get; } = utf8;
    public ReadOnlySpan<char> Text { get; } = text;
}

/// <summary>A compiled pattern of a regexp: or pcre: table.</summary>
internal interface IPattern
{
    /// <summary>Whether the pattern matches; without allocating.</summary>
    bool IsMatch(scoped in PatternSubject subject);

    /// <summary>The text of each group of the first match (group 0 the whole match), for a result that uses them.</summary>
    string[] Groups(scoped in PatternSubject subject);

    /// <summary>How many groups the pattern has, not counting group 0.</summary>
    int GroupCount { get; }
}

/// <summary>Compiles the patterns of one table type, with the flags written after them.</summary>
internal interface IPatternSyntax
{
    /// <summary>The pattern; an <see cref="ArgumentException"/> says what is wrong with it or its flags.</summary>
    IPattern Compile(string source, string flags);
}

/// <summary>
/// regexp:/path (regexp_table(5)) and pcre:/path (pcre_table(5)): "/pattern/flags result" lines tried in file
/// order; the first pattern that matches gives its result, with $1…$9 (or ${n}) replaced by what its groups
/// matched and "$$" by "$". "!/pattern/ result" matches when the pattern does not; "if /pattern/" … "endif"
/// (or "if !/pattern/") lets the lines between be tried only when the key matches.
/// </summary>
internal sealed class PatternTable(PatternTable.Rule[] rules) : ILookupTable
{
    /// <summary>A pattern line: with a <see cref="Result"/>, or an "if" with the lines up to its "endif".</summary>
    internal sealed record Rule(IPattern Pattern, bool Negated, string? Result, Rule[]? Block);

    public bool IsPattern => true;

    public string? Lookup(string key)
    {
        byte[] utf8 = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(key.Length));
        try
        {
            int length = Encoding.UTF8.GetBytes(key, utf8);
            return Lookup(new PatternSubject(utf8.AsSpan(0, length), key));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(utf8);
        }
    }

    /// <summary>The first result for a subject already in both forms: no allocation unless a pattern matches.</summary>
    public string? Lookup(scoped in PatternSubject subject) => Lookup(rules, subject);

    private static string? Lookup(Rule[] rules, scoped in PatternSubject subject)
    {
        foreach (Rule rule in rules)
        {
            bool matched = rule.Pattern.IsMatch(subject);
            if (matched == rule.Negated)
            {
                continue;
            }
            string? result = rule.Block is { } block ? Lookup(block, subject)
                : Expand(rule.Result!, matched && rule.Result!.Contains('$') ? rule.Pattern.Groups(subject) : null);
            if (result is not null)
            {
                return result;
            }
        }
        return null;
    }

    private static string Expand(string result, string[]? groups)
    {
        if (!result.Contains('$'))
        {
            return result;
        }
        var text = new StringBuilder(result.Length + 32);
        for (int i = 0; i < result.Length; i++)
        {
            if (result[i] != '$' || i + 1 == result.Length)
            {
                text.Append(result[i]);
            }
            else if (result[i + 1] == '$')
            {
                text.Append('$');
                i++;
            }
            else
            {
                i = ReadGroup(result, i, out int group);
                text.Append(groups![group]);
            }
        }
        return text.ToString();
    }

    /// <summary>Reads "$n" or "${n}" at <paramref name="dollar"/>; returns the index of its last character, or -1 if it is not one.</summary>
    private static int ReadGroup(string result, int dollar, out int group)
    {
        group = -1;
        bool braced = result[dollar + 1] == '{';
        int start = dollar + (braced ? 2 : 1);
        int end = start;
        while (end < result.Length && char.IsAsciiDigit(result[end]))
        {
            end++;
        }
        if (end == start || (braced && (end == result.Length || result[end] != '}')))
        {
            return -1;
        }
        // A number too large for any pattern names a group no pattern has, which the caller refuses.
        group = int.TryParse(result.AsSpan(start, end - start), out int number) ? number : int.MaxValue;
        return braced ? end : end - 1;
    }

    public static PatternTable Load(string path, IPatternSyntax syntax)
    {
        var stack = new Stack<(List<Rule> Rules, IPattern? If, bool Negated, int Line)>();
        var rules = new List<Rule>();
        foreach (LogicalLine line in LogicalLineReader.Read(File.ReadAllText(path), path))
        {
            string text = line.Text;
            if (text.Equals("endif", StringComparison.OrdinalIgnoreCase))
            {
                if (stack.Count == 0)
                {
                    throw new TableException(path, line.Line, "\"endif\" without a matching \"if\"");
                }
                var (outer, condition, unless, _) = stack.Pop();
                outer.Add(new Rule(condition!, unless, null, rules.ToArray()));
                rules = outer;
                continue;
            }
            bool isIf = text.StartsWith("if", StringComparison.OrdinalIgnoreCase) && text.Length > 2 && char.IsWhiteSpace(text[2]);
            if (isIf)
            {
                text = text[2..].TrimStart();
            }
            (IPattern pattern, bool negated, string rest) = ParsePattern(text, syntax, path, line.Line);
            if (isIf)
            {
                if (rest.Length > 0)
                {
                    throw new TableException(path, line.Line, $"\"if\" takes a pattern only, found \"{rest}\" after it");
                }
                stack.Push((rules, pattern, negated, line.Line));
                rules = [];
                continue;
            }
            if (rest.Length == 0)
            {
                throw new TableException(path, line.Line, "a pattern needs a result after it");
            }
            CheckGroups(rest, pattern, negated, path, line.Line);
            rules.Add(new Rule(pattern, negated, rest, null));
        }
        if (stack.Count > 0)
        {
            throw new TableException(path, stack.Peek().Line, "\"if\" without a matching \"endif\"");
        }
        return new PatternTable(rules.ToArray());
    }

    private static (IPattern Pattern, bool Negated, string After) ParsePattern(string text, IPatternSyntax syntax, string path, int line)
    {
        bool negated = text.StartsWith('!');
        if (negated)
        {
            text = text[1..].TrimStart();
        }
        if (text.Length < 2 || char.IsLetterOrDigit(text[0]) || char.IsWhiteSpace(text[0]) || text[0] == '\\')
        {
            throw new TableException(path, line, $"expected \"/pattern/flags result\", found \"{text}\"");
        }
        char delimiter = text[0];
        int close = 1;
        while (close < text.Length && text[close] != delimiter)
        {
            close += text[close] == '\\' ? 2 : 1;
        }
        if (close >= text.Length)
        {
            throw new TableException(path, line, $"no closing '{delimiter}' in \"{text}\"");
        }
        string source = text[1..close];
        int flagsEnd = close + 1;
        while (flagsEnd < text.Length && !char.IsWhiteSpace(text[flagsEnd]))
        {
            flagsEnd++;
        }
        try
        {
            return (syntax.Compile(source, text[(close + 1)..flagsEnd]), negated, text[flagsEnd..].Trim());
        }
        catch (ArgumentException e)
        {
            throw new TableException(path, line, e.Message);
        }
    }

    private static void CheckGroups(string result, IPattern pattern, bool negated, string path, int line)
    {
        for (int i = result.IndexOf('$'); i >= 0 && i + 1 < result.Length; i = result.IndexOf('$', i + 1))
        {
            if (result[i + 1] == '$')
            {
                i++;
                continue;
            }
            int end = ReadGroup(result, i, out int group);
            if (end < 0)
            {
                throw new TableException(path, line, $"\"$\" in the result must be followed by a group number or \"$\": \"{result}\"");
            }
            if (negated || group > pattern.GroupCount)
            {
                throw new TableException(path, line, $"{result[i..(end + 1)]} in the result refers to no group of the pattern");
            }
            i = end;
        }
    }
}
