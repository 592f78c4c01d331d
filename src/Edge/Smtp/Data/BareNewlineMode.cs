namespace Edge.Smtp.Data;

/// <summary>smtpd_forbid_bare_newline (Postfix 3.9): what a line ending in a bare LF means.</summary>
internal enum BareNewlineMode : byte
{
    /// <summary>"no": a bare LF is a line ending like CRLF, also in the end-of-data marker (smugglable).</summary>
    Allow,
    /// <summary>"normalize": a bare LF ends a content line, but never takes part in the end-of-data marker.</summary>
    Normalize,
    /// <summary>"reject" (or "yes"): as normalize, and the message or command is refused.</summary>
    Reject,
}
