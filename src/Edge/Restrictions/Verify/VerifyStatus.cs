namespace Edge.Restrictions.Verify;

/// <summary>What the address verification cache knows of an address (Postfix's DEL_RCPT_STAT_*, with its numbers).</summary>
internal enum VerifyStatus : byte
{
    /// <summary>A probe's next hop accepted it.</summary>
    Ok = 0,
    /// <summary>A probe met a temporary failure.</summary>
    Defer = 1,
    /// <summary>A probe's next hop refused it for good.</summary>
    Bounce = 2,
    /// <summary>Nothing known yet: a probe is on its way.</summary>
    Todo = 3,
}

/// <summary>What a probe found: the status and the text that says why (the next hop's reply, or the agent's reason).</summary>
internal sealed record ProbeOutcome(VerifyStatus Status, string Text);
