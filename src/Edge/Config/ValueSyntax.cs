using System.Globalization;

namespace Edge.Config;

/// <summary>The syntax of typed parameter values, as Postfix reads them.</summary>
static class ValueSyntax
{
    public static bool IsTimeUnit(char c) => c is 's' or 'm' or 'h' or 'd' or 'w';

    /// <summary>Postfix accepts yes and no in any letter case, and nothing else.</summary>
    public static bool TryParseBool(string text, out bool value)
    {
        value = text.Equals("yes", StringComparison.OrdinalIgnoreCase);
        return value || text.Equals("no", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Digits only: every Postfix count and size is non-negative.</summary>
    public static bool TryParseLong(string text, out long value) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);

    /// <summary>A number and at most one unit letter ("300s", "5d", "300" in the default unit), as Postfix's conv_time.</summary>
    public static bool TryParseTime(string text, char defaultUnit, out TimeSpan value)
    {
        value = default;
        var unit = text.Length > 0 && IsTimeUnit(text[^1]) ? text[^1] : defaultUnit;
        var digits = text.Length > 0 && IsTimeUnit(text[^1]) ? text[..^1] : text;
        if (!TryParseLong(digits, out var count))
            return false;
        long secondsPerUnit = unit switch { 's' => 1, 'm' => 60, 'h' => 3600, 'd' => 86400, _ => 604800 };
        if (count > TimeSpan.MaxValue.TotalSeconds / secondsPerUnit)
            return false;
        value = TimeSpan.FromSeconds(count * secondsPerUnit);
        return true;
    }

    /// <summary>
    /// Splits a Postfix list on commas and white space, keeping a <c>{ ... }</c> group (such as
    /// <c>inline:{ a=b, c=d }</c>) inside one element. Returns null and an error for unbalanced braces.
    /// </summary>
    public static List<string>? SplitList(string text, out string? error)
    {
        var elements = new List<string>();
        var depth = 0;
        var start = -1;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (depth == 0 && (c is ',' || char.IsWhiteSpace(c)))
            {
                if (start >= 0)
                    elements.Add(text[start..i]);
                start = -1;
                continue;
            }
            if (start < 0)
                start = i;
            if (c == '{')
                depth++;
            else if (c == '}' && --depth < 0)
            {
                error = $"unexpected '}}' in \"{text}\"";
                return null;
            }
        }
        if (depth > 0)
        {
            error = $"missing '}}' in \"{text}\"";
            return null;
        }
        if (start >= 0)
            elements.Add(text[start..]);
        error = null;
        return elements;
    }

    public static string BadChoice(string value, IReadOnlyList<string> choices) =>
        $"bad value \"{value}\" (expected one of: {string.Join(", ", choices.Select(c => c.Length == 0 ? "(empty)" : c))})";
}
