using Edge.Config;

namespace Edge.Tables.Sql;

/// <summary>
/// The configuration file of a database or directory table (pgsql:/etc/postfix/users.cf): main.cf's syntax, "name =
/// value" with continuation lines and comments, as Postfix's cfg_parser reads it. A name Edge does not implement for
/// the table's type stops start-up, naming the file and line: a setting must not be read and ignored.
/// </summary>
internal sealed class TableConfigFile
{
    private readonly Dictionary<string, MainCfEntry> _entries;

    private TableConfigFile(string path, Dictionary<string, MainCfEntry> entries)
    {
        Path = path;
        _entries = entries;
    }

    public string Path { get; }

    /// <summary>The file <paramref name="name"/> names, with only the settings in <paramref name="known"/>.</summary>
    /// <exception cref="TableException">The file cannot be read, or sets what Edge does not implement.</exception>
    public static TableConfigFile Read(string name, IReadOnlyCollection<string> known)
    {
        if (!name.StartsWith('/'))
        {
            throw new TableException(name, 0, "expected the absolute path of a configuration file (Edge does not read table settings from main.cf)");
        }
        string text;
        try
        {
            text = File.ReadAllText(name);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TableException(name, 0, $"cannot read: {e.Message}");
        }
        var entries = new Dictionary<string, MainCfEntry>(StringComparer.Ordinal);
        foreach (MainCfEntry entry in MainCfParser.Parse(text, name))
        {
            if (!known.Contains(entry.Name))
            {
                throw new TableException(name, entry.Line, $"{entry.Name}: not a setting Edge implements for this table ({string.Join(", ", known)} are)");
            }
            entries[entry.Name] = entry;
        }
        return new TableConfigFile(name, entries);
    }

    public string? Get(string name) => _entries.TryGetValue(name, out MainCfEntry? entry) ? entry.Value : null;

    public string Get(string name, string fallback) => Get(name) ?? fallback;

    public int GetInt(string name, int fallback, int min = 0)
    {
        if (!_entries.TryGetValue(name, out MainCfEntry? entry))
        {
            return fallback;
        }
        return int.TryParse(entry.Value, out int value) && value >= min ? value
            : throw new TableException(Path, entry.Line, $"{name}: expected a number of at least {min}, not \"{entry.Value}\"");
    }

    /// <summary>Start-up's error about <paramref name="name"/>'s setting, by file and line.</summary>
    public TableException Error(string name, string reason) =>
        new(Path, _entries.TryGetValue(name, out MainCfEntry? entry) ? entry.Line : 0, $"{name}: {reason}");
}
