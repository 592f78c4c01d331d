using System.Collections.Frozen;

namespace Edge.Cleanup;

/// <summary>Where header and body checks run, which decides what they may do.</summary>
internal enum CheckStage : byte
{
    /// <summary>cleanup, on mail being received: every header_checks(5) action, and the message's own header rules.</summary>
    Receiving,
    /// <summary>cleanup, on the headers mail filters add or change (milter_header_checks): every action but PREPEND.</summary>
    MilterHeaders,
    /// <summary>the SMTP client, on mail being sent (smtp_header_checks): only the actions that change a line or log.</summary>
    Sending,
}

/// <summary>
/// What is done to the headers of the message besides the checks: header_size_limit always; for mail being received
/// also message_drop_headers, hopcount_limit and the Message-ID log line, which Postfix's cleanup does and neither its
/// milter_header_checks nor its SMTP client's smtp_header_checks do.
/// </summary>
internal sealed record HeaderRules(FrozenSet<string> DropHeaders, int HeaderSizeLimit, int HopcountLimit, CheckStage Stage)
{
    /// <summary>The rules of the other stages: only header_size_limit.</summary>
    public static HeaderRules Only(CheckStage stage, int headerSizeLimit) => new(FrozenSet<string>.Empty, headerSizeLimit, int.MaxValue, stage);
}
