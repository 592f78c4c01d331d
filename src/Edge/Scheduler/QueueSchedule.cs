namespace Edge.Scheduler;

/// <summary>
/// qmgr(8)'s clock and pace: how long a deferred message waits, how long it may stay queued, and how many
/// messages are in delivery at once (qmgr_message_active_limit).
/// </summary>
internal sealed record QueueSchedule(TimeSpan MinimalBackoff, TimeSpan MaximalBackoff, TimeSpan QueueRunDelay,
    TimeSpan MaximalQueueLifetime, TimeSpan BounceQueueLifetime, TimeSpan DelayWarning, int ActiveLimit)
{
    /// <summary>address_verify_pending_request_limit: how many address verification probes may be out at once.</summary>
    public int ProbeLimit { get; init; } = ActiveLimit / 4;

    /// <summary>The wait after the n-th failed attempt: doubling from minimal_backoff_time up to maximal_backoff_time.</summary>
    public TimeSpan Backoff(int attempts)
    {
        double factor = Math.Pow(2, Math.Clamp(attempts - 1, 0, 30));
        TimeSpan wait = TimeSpan.FromTicks((long)Math.Min(MinimalBackoff.Ticks * factor, MaximalBackoff.Ticks));
        return wait < MinimalBackoff ? MinimalBackoff : wait;
    }
}
