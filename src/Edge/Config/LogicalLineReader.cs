using System.Text;

namespace Edge.Config;

/// <summary>One logical line of main.cf or master.cf and the physical line it starts on.</summary>
readonly record struct LogicalLine(string Text, int Line);

/// <summary>
/// Joins physical lines into logical lines as Postfix does for main.cf and master.cf: a line that
/// starts with white space continues the previous one; blank lines and lines whose first non-blank
/// character is '#' are skipped, even between a line and its continuation. '#' elsewhere is text.
/// </summary>
static class LogicalLineReader
{
    public static IEnumerable<LogicalLine> Read(string text, string file)
    {
        var current = new StringBuilder();
        var start = 0;
        var number = 0;
        foreach (var physical in text.Split('\n'))
        {
            number++;
            var trimmed = physical.Trim();
            if (trimmed.Length == 0 || trimmed[0] == '#')
                continue;
            if (char.IsWhiteSpace(physical[0]))
            {
                // Postfix only warns and drops such a line; Edge stops, since a dropped setting or
                // service would silently change what the server does.
                if (current.Length == 0)
                    throw new ConfigException(file, number, null, $"logical line must not start with white space: \"{physical.TrimEnd()}\"");
                current.Append(' ').Append(trimmed);
                continue;
            }
            if (current.Length > 0)
                yield return new LogicalLine(current.ToString(), start);
            current.Clear().Append(trimmed);
            start = number;
        }
        if (current.Length > 0)
            yield return new LogicalLine(current.ToString(), start);
    }
}
