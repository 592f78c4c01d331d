namespace Edge.Tables;

/// <summary>
/// A table that cannot answer now: its server is down, slow or says something that is no answer (Postfix's
/// DICT_ERR_RETRY), or it answers that it is misconfigured (<see cref="Configuration"/>, Postfix's DICT_ERR_CONFIG).
/// Whoever asked defers the mail, as Postfix does; it is never taken for "not found". The table has logged why.
/// </summary>
internal sealed class TableLookupException(string reference, string reason, bool configuration = false)
    : Exception($"table {reference} lookup error: {reason}")
{
    public string Reference { get; } = reference;

    public string Reason { get; } = reason;

    /// <summary>The failure is the table's configuration, not a passing one: smtpd says 4.3.5 "Server configuration error".</summary>
    public bool Configuration { get; } = configuration;
}
