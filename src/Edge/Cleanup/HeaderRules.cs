using System.Collections.Frozen;

namespace Edge.Cleanup;

/// <summary>
/// What is done to the headers of the message besides the checks: header_size_limit always; for mail being received
/// (<see cref="Receiving"/>) also message_drop_headers, hopcount_limit and the Message-ID log line, which Postfix's
/// cleanup does and its SMTP client, applying smtp_header_checks on the way out, does not.
/// </summary>
internal sealed record HeaderRules(FrozenSet<string> DropHeaders, int HeaderSizeLimit, int HopcountLimit, bool Receiving)
{
    /// <summary>The rules of Postfix's SMTP client: only header_size_limit.</summary>
    public static HeaderRules Sending(int headerSizeLimit) => new(FrozenSet<string>.Empty, headerSizeLimit, int.MaxValue, Receiving: false);
}
