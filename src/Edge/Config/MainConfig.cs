using System.Collections.Frozen;
using Edge.Net;

namespace Edge.Config;

/// <summary>
/// The effective main.cf configuration: Postfix defaults, then main.cf, then (for one master.cf
/// service) its <c>-o name=value</c> overrides. Immutable; values are expanded when read.
/// </summary>
public sealed class MainConfig
{
    /// <summary>Where a set value came from, for error messages.</summary>
    readonly record struct Setting(string Value, string File, int Line);

    readonly FrozenDictionary<string, Setting> settings;
    readonly FrozenDictionary<string, ParameterDefinition> definitions;
    readonly Lazy<HashSet<string>> referencedNames;

    MainConfig(FrozenDictionary<string, Setting> settings, FrozenDictionary<string, ParameterDefinition> definitions, string file)
    {
        this.settings = settings;
        this.definitions = definitions;
        File = file;
        referencedNames = new(() => settings.Values.Select(s => s.Value)
            .Concat(definitions.Values.Select(d => d.Default))
            .SelectMany(ParameterExpander.References)
            // As postconf's register_user_restrictions(): each class of smtpd_restriction_classes is a parameter of its own.
            .Concat(settings.TryGetValue("smtpd_restriction_classes", out var classes)
                ? classes.Value.Split([' ', '\t', ',', '\r', '\n'], StringSplitOptions.RemoveEmptyEntries) : [])
            .ToHashSet(StringComparer.Ordinal));
    }

    /// <summary>The main.cf file this configuration was read from, or the name of the built-in one.</summary>
    public string File { get; }

    /// <summary>
    /// Loads <paramref name="configDir"/>/main.cf over the Postfix defaults. With no directory, Edge's
    /// built-in main.cf applies instead (nothing is read from disk). Names Edge does not know, and that
    /// no value refers to as $name, are reported through <paramref name="warn"/> like Postfix's
    /// "unused parameter" warning; they are never an error.
    /// </summary>
    public static MainConfig Load(string? configDir, Action<string>? warn = null)
    {
        var file = configDir is null ? EmbeddedDefaults.MainCfName : Path.Combine(configDir, "main.cf");
        var text = configDir is null ? EmbeddedDefaults.Read("main.cf") : ConfigFile.Read(file);
        var settings = new Dictionary<string, Setting>(StringComparer.Ordinal);
        // Like postconf -c, a configuration directory is an explicit setting of config_directory.
        if (configDir is not null)
            settings["config_directory"] = new Setting(configDir, file, 0);
        foreach (var entry in MainCfParser.Parse(text, file))
            settings[entry.Name] = new Setting(entry.Value, file, entry.Line);

        var definitions = new Dictionary<string, ParameterDefinition>(ParameterRegistry.All, StringComparer.Ordinal);
        foreach (var service in MasterConfig.ServicesForParameterNames(configDir))
        {
            foreach (var definition in ParameterRegistry.ServiceParameters(service.Name, service.Command))
                definitions.TryAdd(definition.Name, definition);
        }

        var config = new MainConfig(settings.ToFrozenDictionary(StringComparer.Ordinal), definitions.ToFrozenDictionary(StringComparer.Ordinal), file);
        if (warn is not null)
        {
            foreach (var (name, setting) in settings.OrderBy(s => s.Value.Line))
            {
                if (!config.IsUsed(name))
                    warn($"{setting.File}, line {setting.Line}: unused parameter: {name}={setting.Value}" +
                         (ParameterRegistry.Closest(name) is { } known ? $" (did you mean {known}?)" : ""));
            }
        }
        return config;
    }

    /// <summary>
    /// This configuration as one master.cf service sees it: its <c>-o name=value</c> overrides win over
    /// main.cf, and errors in them name the master.cf file and line.
    /// </summary>
    public MainConfig WithOverrides(IReadOnlyList<KeyValuePair<string, string>> overrides, string file, int line)
    {
        var merged = new Dictionary<string, Setting>(settings, StringComparer.Ordinal);
        foreach (var (name, value) in overrides)
            merged[name] = new Setting(value, file, line);
        return new MainConfig(merged.ToFrozenDictionary(StringComparer.Ordinal), definitions, File);
    }

    /// <summary>The same parameters with nothing set: what <c>postconf -d</c> shows.</summary>
    public MainConfig DefaultsOnly() => new(FrozenDictionary<string, Setting>.Empty, definitions, File);

    /// <summary>The definition of a known parameter (built in, or a per-service one from master.cf).</summary>
    public ParameterDefinition? DefinitionOf(string name) => definitions.GetValueOrDefault(name);

    /// <summary>Whether main.cf or an override sets the parameter.</summary>
    public bool IsSet(string name) => settings.ContainsKey(name);

    /// <summary>The value as written (or the default), without $name expansion; "" for an undefined name.</summary>
    public string GetRaw(string name) => RawValueOrNull(name) ?? "";

    /// <summary>The value with $name expansion. An undefined name is "", as $name of it would be.</summary>
    public string Get(string name) => new ParameterExpander(this).Expand(name);

    public bool GetBool(string name)
    {
        var value = Get(name);
        return ValueSyntax.TryParseBool(value, out var result)
            ? result
            : throw Error(name, $"bad boolean value \"{value}\" (expected yes or no)");
    }

    public int GetInt(string name)
    {
        var value = Get(name);
        return ValueSyntax.TryParseLong(value, out var result) && result <= int.MaxValue
            ? (int)result
            : throw Error(name, $"bad integer value \"{value}\"");
    }

    /// <summary>A list of networks (mynetworks and the like): addresses and address/prefix entries.</summary>
    internal NetworkList GetNetworks(string name)
    {
        NetworkList list = NetworkList.Parse(GetList(name), out string? bad);
        return bad is null ? list : throw Error(name, $"bad network address \"{bad}\" (host names and tables are not supported yet)");
    }

    public int GetSignedInt(string name)
    {
        var value = Get(name);
        return int.TryParse(value, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var result)
            ? result
            : throw Error(name, $"bad integer value \"{value}\"");
    }

    public long GetLong(string name)
    {
        var value = Get(name);
        return ValueSyntax.TryParseLong(value, out var result)
            ? result
            : throw Error(name, $"bad integer value \"{value}\"");
    }

    /// <summary>
    /// A time: a number with an optional unit s, m, h, d or w; a bare number is in the parameter's default unit. Edge's
    /// own parameters (edge_*) also take milliseconds ("200ms"), which Postfix's do not.
    /// </summary>
    public TimeSpan GetTime(string name)
    {
        var value = Get(name);
        if (name.StartsWith("edge_", StringComparison.Ordinal) && value.EndsWith("ms", StringComparison.Ordinal)
            && ValueSyntax.TryParseLong(value[..^2], out long milliseconds) && milliseconds <= int.MaxValue)
        {
            return TimeSpan.FromMilliseconds(milliseconds);
        }
        var unit = DefinitionOf(name)?.TimeUnit is char c and not '\0' ? c : 's';
        return ValueSyntax.TryParseTime(value, unit, out var result)
            ? result
            : throw Error(name, $"bad time value \"{value}\"");
    }

    /// <summary>The elements of a list separated by commas or white space; a <c>{ ... }</c> group is one element.</summary>
    public IReadOnlyList<string> GetList(string name) =>
        ValueSyntax.SplitList(Get(name), out var error) ?? throw Error(name, error!);

    /// <summary>
    /// Type-checks every known parameter that is set, so that a bad value stops Edge at start-up with
    /// file, line and parameter instead of failing when it is first used.
    /// </summary>
    public void Validate()
    {
        foreach (var name in settings.Keys.Order(StringComparer.Ordinal))
        {
            var definition = DefinitionOf(name);
            switch (definition?.Kind)
            {
                case null:
                case ParameterKind.Raw:
                    break;
                case ParameterKind.Bool:
                    GetBool(name);
                    break;
                case ParameterKind.Int:
                    GetInt(name);
                    break;
                case ParameterKind.SignedInt:
                    GetSignedInt(name);
                    break;
                case ParameterKind.Long:
                    GetLong(name);
                    break;
                case ParameterKind.Time:
                    GetTime(name);
                    break;
                case ParameterKind.List:
                    GetList(name);
                    break;
                case ParameterKind.Choice:
                    var value = Get(name);
                    if (!definition.Choices.Contains(value, StringComparer.OrdinalIgnoreCase))
                        throw Error(name, ValueSyntax.BadChoice(value, definition.Choices));
                    break;
                default:
                    Get(name);
                    break;
            }
        }
        // Read by the listeners and by the mynetworks default, whatever sets them.
        InetProtocols.Families(this);
        GetList("mynetworks");
    }

    /// <summary>
    /// The parameters set here (all of them, or those in <paramref name="only"/>: a master.cf service's -o names) that
    /// Edge does not implement and whose value is not their default, with where each is set.
    /// </summary>
    public IEnumerable<(string Name, string File, int Line, ParameterSupport Support)> Unimplemented(IEnumerable<string>? only = null)
    {
        foreach (var name in (only ?? settings.Keys).Distinct().Order(StringComparer.Ordinal))
        {
            if (DefinitionOf(name) is { Support: ParameterSupport.Refused or ParameterSupport.Warned } definition
                && settings.TryGetValue(name, out var setting) && DiffersFromDefault(name, definition))
                yield return (name, setting.File, setting.Line, definition.Support);
        }
    }

    // By meaning, not spelling: "no" and "No", "a, b" and "a b", "$header_checks" and its value are the same.
    bool DiffersFromDefault(string name, ParameterDefinition definition)
    {
        var unset = new MainConfig(settings.Where(s => s.Key != name).ToFrozenDictionary(StringComparer.Ordinal), definitions, File);
        return definition.Kind switch
        {
            ParameterKind.Bool => GetBool(name) != unset.GetBool(name),
            ParameterKind.Int or ParameterKind.Long => GetLong(name) != unset.GetLong(name),
            ParameterKind.SignedInt => GetSignedInt(name) != unset.GetSignedInt(name),
            ParameterKind.Time => GetTime(name) != unset.GetTime(name),
            ParameterKind.List => !GetList(name).SequenceEqual(unset.GetList(name), StringComparer.Ordinal),
            ParameterKind.Raw => GetRaw(name) != unset.GetRaw(name),
            _ => !string.Equals(Get(name), unset.Get(name), StringComparison.OrdinalIgnoreCase),
        };
    }

    /// <summary>What main.cf (and overrides) set, for <c>postconf -n</c>: known parameters and user-defined ones that a value uses.</summary>
    public IEnumerable<(string Name, string RawValue)> NonDefault() =>
        settings.Keys.Where(IsUsed).Order(StringComparer.Ordinal).Select(name => (name, settings[name].Value));

    /// <summary>Every known parameter with its default, for <c>postconf -d</c>.</summary>
    public IEnumerable<(string Name, string RawValue)> Defaults()
    {
        var defaults = DefaultsOnly();
        return definitions.Keys.Order(StringComparer.Ordinal).Select(name => (name, defaults.GetRaw(name)));
    }

    /// <summary>Every known or used parameter with its effective value, for <c>postconf</c>.</summary>
    public IEnumerable<(string Name, string RawValue)> All() =>
        definitions.Keys.Union(settings.Keys.Where(IsUsed)).Order(StringComparer.Ordinal).Select(name => (name, GetRaw(name)));

    internal string? RawValueOrNull(string name) =>
        settings.TryGetValue(name, out var setting) ? setting.Value : DefinitionOf(name)?.DefaultIn(this);

    /// <summary>An error about a parameter's value, located where it is set (or at main.cf, line 0, for a default).</summary>
    public ConfigException Error(string name, string reason) =>
        settings.TryGetValue(name, out var setting)
            ? new ConfigException(setting.File, setting.Line, name, reason)
            : new ConfigException(File, 0, name, reason);

    // Known, or referred to as $name by some value: Postfix's test for "unused parameter".
    bool IsUsed(string name) => definitions.ContainsKey(name) || referencedNames.Value.Contains(name);
}
