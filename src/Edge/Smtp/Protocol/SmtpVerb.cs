namespace Edge.Smtp.Protocol;

/// <summary>The commands the session understands, in the order Postfix reports them on disconnect.</summary>
internal enum SmtpVerb : byte
{
    Helo,
    Ehlo,
    XClient,
    StartTls,
    Mail,
    Rcpt,
    Data,
    Bdat,
    Rset,
    Noop,
    Vrfy,
    Quit,
    Help,
    Expn,
    Etrn,
    Auth,
    /// <summary>Anything we do not recognise.</summary>
    Unknown,
    /// <summary>HTTP methods and header-looking lines: a web client or a confused proxy, not SMTP.</summary>
    Forbidden,
}
