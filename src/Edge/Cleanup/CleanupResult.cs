namespace Edge.Cleanup;

/// <summary>What became of a message at the end of its content (Postfix's CLEANUP_STAT_* as smtpd reports them).</summary>
internal enum CleanupOutcome : byte
{
    /// <summary>Appended to the queue; durable once the commit covers <see cref="CleanupResult.Address"/>.</summary>
    Queued,
    /// <summary>Accepted and thrown away (a DISCARD action): the client is told it was queued.</summary>
    Discarded,
    /// <summary>Refused by a content check or a mail filter; <see cref="CleanupResult.Reply"/> says why.</summary>
    Rejected,
    /// <summary>More Received: headers than hopcount_limit: a mail loop.</summary>
    TooManyHops,
    /// <summary>Larger than message_size_limit.</summary>
    TooBig,
    /// <summary>The queue could not store it.</summary>
    WriteError,
    /// <summary>A mail filter shut the session down: the client gets <see cref="CleanupResult.Reply"/> (421) and is disconnected.</summary>
    Shutdown,
    /// <summary>Virtual alias expansion failed (a table that did not answer, an expansion past its limits).</summary>
    AliasError,
}

internal readonly record struct CleanupResult(CleanupOutcome Outcome, long Address = -1, string? Reply = null);
