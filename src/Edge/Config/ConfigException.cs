namespace Edge.Config;

/// <summary>
/// A configuration error, located by file, line and parameter so that an administrator can fix it
/// without a stack trace: callers print <see cref="Exception.Message"/> alone.
/// </summary>
public sealed class ConfigException : Exception
{
    public ConfigException(string file, int line, string? parameter, string reason)
        : base(Format(file, line, parameter, reason))
    {
        File = file;
        Line = line;
        Parameter = parameter;
    }

    /// <summary>The configuration file (main.cf, master.cf, or a built-in one).</summary>
    public string File { get; }

    /// <summary>The first physical line of the offending entry; 0 when no line applies (a default value, a missing file).</summary>
    public int Line { get; }

    public string? Parameter { get; }

    static string Format(string file, int line, string? parameter, string reason)
    {
        var location = line > 0 ? $"{file}, line {line}" : file;
        return parameter is null ? $"{location}: {reason}" : $"{location}: parameter {parameter}: {reason}";
    }
}
