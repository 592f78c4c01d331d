namespace Edge.Cli;

/// <summary>The flags every subcommand shares: "-c DIR" names the configuration directory.</summary>
internal sealed class CommandLine
{
    public string? ConfigDirectory { get; private set; }
    public List<string> Flags { get; } = [];
    public List<string> Arguments { get; } = [];
    public Dictionary<string, string> Values { get; } = [];

    /// <summary>Splits args; <paramref name="valued"/> lists the flags that take a value (besides -c).</summary>
    public static CommandLine Parse(IEnumerable<string> args, params string[] valued)
    {
        var line = new CommandLine();
        using IEnumerator<string> e = args.GetEnumerator();
        while (e.MoveNext())
        {
            string arg = e.Current;
            if (arg == "-c" || valued.Contains(arg))
            {
                if (!e.MoveNext())
                {
                    throw new UsageException($"option {arg} requires an argument");
                }
                if (arg == "-c")
                {
                    line.ConfigDirectory = e.Current;
                }
                else
                {
                    line.Values[arg] = e.Current;
                }
            }
            else if (arg.StartsWith('-') && arg.Length > 1)
            {
                line.Flags.Add(arg);
            }
            else
            {
                line.Arguments.Add(arg);
            }
        }
        return line;
    }
}

internal sealed class UsageException(string message) : Exception(message);
