using Edge.Config;

namespace Edge.Unix;

/// <summary>
/// The environment import_environment gives Edge, as Postfix gives it: master(8) keeps only the variables the list
/// names (and its name=value settings), and every daemon inherits that; postmap and the other commands keep their own,
/// with the name=value settings applied (update_env()). Edge does not change its own process's environment (tests run
/// servers inside their own process): what environ: tables and export_environment read comes from here.
/// </summary>
/// <param name="Setting">import_environment's value.</param>
/// <param name="Server">The server's (cleaned) environment; a command's otherwise.</param>
internal sealed record ImportedEnvironment(string Setting, bool Server)
{
    /// <exception cref="ConfigException">An element with no name before its '='.</exception>
    public static ImportedEnvironment From(MainConfig config, bool server = true)
    {
        foreach (string element in config.GetList("import_environment"))
        {
            if (Settings([element]).Single().Name.Length == 0)
            {
                throw config.Error("import_environment", $"missing attribute name in \"{element}\"");
            }
        }
        return new ImportedEnvironment(config.Get("import_environment"), server);
    }

    /// <summary>The variables and their values.</summary>
    public Dictionary<string, string> Variables()
    {
        List<string> list = ValueSyntax.SplitList(Setting, out _) ?? [];
        if (Server)
        {
            return Keep(list);
        }
        Dictionary<string, string> variables = ProcessVariables();
        foreach ((string name, string? value) in Settings(list))
        {
            if (value is not null)
            {
                variables[name] = value;
            }
        }
        return variables;
    }

    /// <summary>
    /// What a command local(8) or pipe(8) runs gets: export_environment's variables from the server's environment, and
    /// its name=value settings, as Postfix's pipe_command() cleans the environment.
    /// </summary>
    public static Dictionary<string, string> Exported(MainConfig config) =>
        Keep(config.GetList("export_environment"), From(config).Variables());

    /// <summary>
    /// clean_env(): the variables <paramref name="names"/> lists, taken from <paramref name="from"/> (the process's own
    /// when null), and the name=value settings among them.
    /// </summary>
    private static Dictionary<string, string> Keep(IEnumerable<string> names, IReadOnlyDictionary<string, string>? from = null)
    {
        var kept = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach ((string name, string? value) in Settings(names))
        {
            if (name.Length == 0)
            {
                continue;
            }
            if (value is not null)
            {
                kept[name] = value;
            }
            else if ((from is null ? Environment.GetEnvironmentVariable(name) : from.GetValueOrDefault(name)) is { } inherited)
            {
                kept[name] = inherited;
            }
        }
        return kept;
    }

    /// <summary>Each element as a name and, for "name=value" (or "{ name = value }"), its value; a bare name has none.</summary>
    private static IEnumerable<(string Name, string? Value)> Settings(IEnumerable<string> elements)
    {
        foreach (string element in elements)
        {
            string text = element.StartsWith('{') && element.EndsWith('}') ? element[1..^1].Trim() : element;
            int equals = text.IndexOf('=');
            yield return equals < 0 ? (text, null) : (text[..equals].Trim(), text[(equals + 1)..].Trim());
        }
    }

    private static Dictionary<string, string> ProcessVariables()
    {
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry entry in Environment.GetEnvironmentVariables())
        {
            variables[(string)entry.Key] = (string?)entry.Value ?? "";
        }
        return variables;
    }
}
