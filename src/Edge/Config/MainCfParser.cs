namespace Edge.Config;

/// <summary>One <c>name = value</c> setting of main.cf, with the physical line it starts on.</summary>
public sealed record MainCfEntry(string Name, string Value, int Line);

/// <summary>Reads main.cf syntax as postconf(5) defines it.</summary>
public static class MainCfParser
{
    /// <summary>
    /// Returns the settings in file order (a later one for the same name overrides an earlier one when
    /// loaded). White space around '=' is optional; the value is trimmed; "#" is a comment only at the
    /// start of a line. A line that is not <c>name = value</c> is a <see cref="ConfigException"/>.
    /// </summary>
    public static IReadOnlyList<MainCfEntry> Parse(string text, string file)
    {
        var entries = new List<MainCfEntry>();
        foreach (var line in LogicalLineReader.Read(text, file))
        {
            var equals = line.Text.IndexOf('=');
            if (equals < 0)
                throw new ConfigException(file, line.Line, null, $"missing '=' after attribute name: \"{line.Text}\"");
            var name = line.Text[..equals].TrimEnd();
            if (name.Length == 0)
                throw new ConfigException(file, line.Line, null, $"missing attribute name: \"{line.Text}\"");
            if (name.Any(char.IsWhiteSpace))
                throw new ConfigException(file, line.Line, null, $"missing '=' after attribute name: \"{line.Text}\"");
            entries.Add(new MainCfEntry(name, line.Text[(equals + 1)..].Trim(), line.Line));
        }
        return entries;
    }
}
