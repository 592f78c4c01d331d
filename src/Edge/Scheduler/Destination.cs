namespace Edge.Scheduler;

/// <summary>
/// One destination (transport and next hop) as qmgr(8) schedules it: a concurrency window that starts at
/// initial_destination_concurrency, grows with each delivery that reached the destination by the positive
/// feedback (one by default), up to the transport's limit, and shrinks with each that could not by the
/// negative feedback; the window moves in whole steps once the feedback adds up to one. A destination whose
/// window is down to one and failed destination_concurrency_failed_cohort_limit times in a row is declared
/// dead until its backoff ends, and its mail waits without being tried ("delivery temporarily suspended").
/// </summary>
internal sealed class Destination(DestinationPolicy policy)
{
    private readonly object _lock = new();
    private readonly Queue<TaskCompletionSource> _waiting = new();
    private int _window = Math.Max(1, Math.Min(policy.InitialConcurrency, policy.ConcurrencyLimit <= 0 ? int.MaxValue : policy.ConcurrencyLimit));
    private int _busy;
    private int _failedCohorts;
    private double _credit;

    // Feedback such as 1/concurrency adds up to one only up to rounding.
    private const double Whole = 1 - 1e-9;
    private DateTimeOffset _lastStart = DateTimeOffset.MinValue;

    public DestinationPolicy Policy { get; } = policy;

    /// <summary>Until when the destination is dead, and why (null when alive).</summary>
    public (DateTimeOffset Until, string Reason)? Dead { get; private set; }

    /// <summary>
    /// postqueue -f or -s: the destination is alive again and its mail is tried at once, as Postfix's flush purges
    /// what the queue manager knows of dead destinations.
    /// </summary>
    public void Revive()
    {
        lock (_lock)
        {
            Dead = null;
            _failedCohorts = 0;
        }
    }

    public int Window
    {
        get
        {
            lock (_lock)
            {
                return _window;
            }
        }
    }

    /// <summary>Deliveries to the destination in progress now.</summary>
    public int Busy
    {
        get
        {
            lock (_lock)
            {
                return _busy;
            }
        }
    }

    /// <summary>Waits for a place in the window, then for destination_rate_delay since the last delivery.</summary>
    public async Task EnterAsync(CancellationToken cancellationToken)
    {
        TaskCompletionSource? turn = null;
        lock (_lock)
        {
            if (_busy < _window)
            {
                _busy++;
            }
            else
            {
                turn = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _waiting.Enqueue(turn);
            }
        }
        if (turn is not null)
        {
            await turn.Task.WaitAsync(cancellationToken);
        }
        if (Policy.RateDelay > TimeSpan.Zero)
        {
            TimeSpan wait;
            lock (_lock)
            {
                DateTimeOffset start = _lastStart + Policy.RateDelay > DateTimeOffset.UtcNow ? _lastStart + Policy.RateDelay : DateTimeOffset.UtcNow;
                wait = start - DateTimeOffset.UtcNow;
                _lastStart = start;
            }
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, cancellationToken);
            }
        }
    }

    /// <summary>
    /// Leaves the window with the delivery's feedback: <paramref name="reached"/> is whether the destination
    /// took the session (whatever it said about the recipients).
    /// </summary>
    public void Leave(bool reached, string reason, TimeSpan backoff)
    {
        lock (_lock)
        {
            int limit = Policy.ConcurrencyLimit <= 0 ? int.MaxValue : Policy.ConcurrencyLimit;
            if (reached)
            {
                _failedCohorts = 0;
                Dead = null;
                _credit = Math.Max(0, _credit) + Policy.Positive.At(_window);
                for (; _credit >= Whole && _window < limit; _credit--)
                {
                    _window++;
                }
                _credit = _window < limit ? _credit : 0;
            }
            else if (_window > 1)
            {
                _credit = Math.Min(0, _credit) - Policy.Negative.At(_window);
                for (; _credit <= -Whole && _window > 1; _credit++)
                {
                    _window--;
                }
            }
            else if (++_failedCohorts >= Math.Max(1, Policy.FailedCohortLimit))
            {
                Dead = (DateTimeOffset.UtcNow + backoff, reason);
            }
            _busy--;
            while (_busy < _window && _waiting.TryDequeue(out TaskCompletionSource? next))
            {
                _busy++;
                next.SetResult();
            }
        }
    }
}
