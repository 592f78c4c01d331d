namespace Edge.Config;

/// <summary>A main.cf parameter Edge knows: its type and its default.</summary>
public sealed class ParameterDefinition
{
    readonly Func<MainConfig, string>? dependentDefault;

    internal ParameterDefinition(string name, ParameterKind kind, string defaultText,
        IReadOnlyList<string>? choices = null, char timeUnit = '\0', Func<MainConfig, string>? dependentDefault = null)
    {
        Name = name;
        Kind = kind;
        Default = defaultText;
        Choices = choices ?? [];
        // Postfix writes a time default in the parameter's default unit ("300s", "5d"), so the unit
        // of a bare number is the default's last letter unless the caller says otherwise.
        TimeUnit = kind != ParameterKind.Time ? '\0'
            : timeUnit != '\0' ? timeUnit
            : defaultText.Length > 0 && ValueSyntax.IsTimeUnit(defaultText[^1]) ? defaultText[^1]
            : 's';
        this.dependentDefault = dependentDefault;
    }

    public string Name { get; }

    public ParameterKind Kind { get; }

    /// <summary>The default as <c>edge postconf -d</c> prints it (for a computed default, the value it has with no main.cf).</summary>
    public string Default { get; }

    /// <summary>The allowed words of a <see cref="ParameterKind.Choice"/> parameter ("" when empty is allowed).</summary>
    public IReadOnlyList<string> Choices { get; }

    /// <summary>The unit of a bare number for a <see cref="ParameterKind.Time"/> parameter.</summary>
    public char TimeUnit { get; }

    /// <summary>Whether Edge implements the parameter (set once, where the registry defines it).</summary>
    public ParameterSupport Support { get; private set; }

    internal ParameterDefinition Marked(ParameterSupport support)
    {
        Support = support;
        return this;
    }

    /// <summary>
    /// The default in a given configuration: a few defaults follow other settings, as in Postfix
    /// (mydomain follows myhostname, mynetworks follows mynetworks_style).
    /// </summary>
    internal string DefaultIn(MainConfig config) => dependentDefault?.Invoke(config) ?? Default;
}
