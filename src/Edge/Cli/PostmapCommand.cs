using Edge.Config;
using Edge.Tables;

namespace Edge.Cli;

/// <summary>
/// <c>edge postmap</c>, <c>edge postalias</c> and <c>edge newaliases</c>, as Postfix's: <c>-q KEY map ...</c> prints the
/// first map's value for the key (exit 1 when none has it); <c>-q - map ...</c> reads keys from standard input and
/// prints "key TAB value" for each found (exit 1 when none was). Without -q, each map is read as Edge reads it and any
/// error is reported with its file and line: Edge reads the source files themselves, so there is no .db to build, and
/// a checked file needs no command at all to take effect beyond what Postfix's would (a reload). A map without a type
/// is default_database_type's. newaliases checks alias_database's tables.
/// </summary>
internal static class PostmapCommand
{
    public static int Run(string program, string[] args, TextReader stdin, TextWriter stdout, TextWriter stderr)
    {
        CommandLine line;
        try
        {
            line = CommandLine.Parse(args, "-q");
        }
        catch (UsageException e)
        {
            return Fatal(stderr, program, e.Message);
        }
        if (line.Flags.Count > 0)
        {
            return Fatal(stderr, program, $"option {line.Flags[0]} is not supported by Edge (-c and -q are; Edge reads the source files, so there is no database to build, update or dump)");
        }
        MainConfig config;
        try
        {
            config = MainConfig.Load(line.ConfigDirectory);
        }
        catch (ConfigException e)
        {
            return Fatal(stderr, program, e.Message);
        }
        bool aliases = program != "postmap";
        List<string> maps = program == "newaliases" ? [.. config.GetList("alias_database")] : line.Arguments;
        if (maps.Count == 0)
        {
            return Fatal(stderr, program, $"usage: {program} [-c config_dir] [-q key] [type:]file ...");
        }
        string type = config.Get("default_database_type");
        var tables = new List<ILookupTable>();
        foreach (string map in maps)
        {
            string reference = map.Contains(':') ? map : $"{type}:{map}";
            if (TableFactory.Open(reference, TableSettings.From(config, server: false), out string? error, aliases) is not { } table)
            {
                return Fatal(stderr, program, $"{reference}: {error}");
            }
            tables.Add(table);
        }
        if (!line.Values.TryGetValue("-q", out string? key))
        {
            return 0;
        }
        try
        {
            if (key != "-")
            {
                string? value = Find(tables, key);
                if (value is not null)
                {
                    stdout.WriteLine(value);
                }
                return value is null ? 1 : 0;
            }
            bool found = false;
            while (stdin.ReadLine() is { } query)
            {
                if (Find(tables, query) is { } value)
                {
                    stdout.WriteLine($"{query}\t{value}");
                    found = true;
                }
            }
            return found ? 0 : 1;
        }
        catch (TableLookupException e)
        {
            return Fatal(stderr, program, $"table {e.Reference}: query error: {e.Reason}");
        }
    }

    /// <summary>The first table's value for <paramref name="key"/>, as postmap -q asks each map in turn.</summary>
    private static string? Find(List<ILookupTable> tables, string key)
    {
        foreach (ILookupTable table in tables)
        {
            if (table.Lookup(key) is { } value)
            {
                return value;
            }
        }
        return null;
    }

    private static int Fatal(TextWriter stderr, string program, string message)
    {
        stderr.WriteLine($"{program}: fatal: {message}");
        return 1;
    }
}
