namespace Edge.Config;

/// <summary>How a main.cf parameter value is read; <see cref="MainConfig.Validate"/> checks explicit values by kind.</summary>
public enum ParameterKind
{
    /// <summary>Text, <c>$name</c>-expanded.</summary>
    String,

    /// <summary>Text used as written: its <c>$name</c> macros belong to the program that uses it (e.g. <c>$rbl_code</c>), not to main.cf.</summary>
    Raw,

    /// <summary>Elements separated by commas or white space; <c>{ ... }</c> groups stay one element.</summary>
    List,

    /// <summary><c>yes</c> or <c>no</c>.</summary>
    Bool,

    /// <summary>A non-negative 32-bit number.</summary>
    Int,

    /// <summary>An integer that may be negative (postscreen's DNSBL scores).</summary>
    SignedInt,

    /// <summary>A non-negative 64-bit number.</summary>
    Long,

    /// <summary>A number with an optional unit s, m, h, d or w; a bare number has the parameter's default unit.</summary>
    Time,

    /// <summary>One of a fixed set of words.</summary>
    Choice,
}
