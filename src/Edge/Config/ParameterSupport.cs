namespace Edge.Config;

/// <summary>What Edge does with a parameter: the honesty rule, one mark per parameter.</summary>
public enum ParameterSupport : byte
{
    /// <summary>Edge does what Postfix documents.</summary>
    Implemented,

    /// <summary>
    /// Not implemented yet, and a value other than the default would change what is accepted, filtered,
    /// authenticated, encrypted or rewritten: start-up and reload refuse it (unless edge_unimplemented_parameters = warn).
    /// </summary>
    Refused,

    /// <summary>Not implemented yet, and only limits, logs or schedules differently: a value other than the default is warned about.</summary>
    Warned,

    /// <summary>No meaning in Edge's one-process design (install directories, process limits, syslog): accepted and noted by postconf.</summary>
    Meaningless,
}
