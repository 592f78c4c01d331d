using System.Diagnostics;
using System.Net;

namespace Edge.Load;

/// <summary>
/// A run of <c>edge source</c>: --sessions connections at a time, each sending up to --per-session messages before
/// the next connection takes its place, until --messages are sent or --duration has passed, at --rate messages a
/// second in all when one is given. At the end of --duration no message is begun; those under way are finished.
/// </summary>
internal sealed class SourceRun(SourceOptions options)
{
    private readonly SourceMessages _messages = new(options);
    /// <summary>Messages the sessions have claimed so far.</summary>
    private long _claimed;
    private long _sessions;

    /// <summary>Messages handed to the sessions to send, in the order --rate lets them go.</summary>
    private long _sent;
    private long _started;

    /// <summary>Runs the load; what every session saw, added together, and how long the run took.</summary>
    public async Task<(SourceStats Stats, TimeSpan Elapsed)> RunAsync(CancellationToken cancellationToken)
    {
        _started = Stopwatch.GetTimestamp();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (options.Duration is { } duration)
        {
            stop.CancelAfter(duration);
        }
        IPEndPoint server = await LoadArguments.EndpointAsync(options.Host, options.Port, cancellationToken);
        LatencyHistogram[] latency = SourceStats.NewLatency();
        SourceStats[] perSlot = [.. Enumerable.Range(0, options.Sessions).Select(_ => new SourceStats(latency))];
        SourceSession[] sessions = [.. perSlot.Select(stats => new SourceSession(options, _messages, stats, server))];
        var watchdog = new PeriodicTimer(TimeSpan.FromSeconds(1));
        Task watching = WatchAsync(sessions, watchdog);
        try
        {
            await Task.WhenAll(sessions.Select(session => WorkerAsync(session, stop.Token, cancellationToken)));
        }
        finally
        {
            watchdog.Dispose();
            await watching;
        }
        var total = new SourceStats(latency);
        foreach (SourceStats stats in perSlot)
        {
            total.Add(stats);
        }
        return (total, Stopwatch.GetElapsedTime(_started));
    }

    /// <summary>
    /// One session slot: connections one after the other, each claiming its --per-session messages (fewer at the end)
    /// as it starts, while there are messages to send.
    /// </summary>
    /// <param name="stop">The end of the run: no message is begun after it.</param>
    /// <param name="cancellationToken">Stops everything at once (Ctrl-C).</param>
    private async Task WorkerAsync(SourceSession session, CancellationToken stop, CancellationToken cancellationToken)
    {
        while (!stop.IsCancellationRequested)
        {
            long first = Interlocked.Add(ref _claimed, options.PerSession) - options.PerSession;
            if (first >= options.MessageLimit)
            {
                break;
            }
            await session.RunAsync(Interlocked.Increment(ref _sessions) - 1, first + 1, Math.Min(options.PerSession, options.MessageLimit - first),
                () => DueAsync(stop), cancellationToken);
        }
    }

    /// <summary>
    /// At every tick, stops the connections that have waited longer than --timeout; ends when the timer is disposed
    /// (without an exception: a caught one costs a short run the loading of the stack trace machinery).
    /// </summary>
    private static async Task WatchAsync(SourceSession[] sessions, PeriodicTimer timer)
    {
        while (await timer.WaitForNextTickAsync())
        {
            long now = Stopwatch.GetTimestamp();
            foreach (SourceSession session in sessions)
            {
                session.Watch(now);
            }
        }
    }

    /// <summary>Waits until the run's next message is due at --rate, whichever session sends it; false once the run has ended.</summary>
    private async ValueTask<bool> DueAsync(CancellationToken stop)
    {
        if (options.Rate > 0)
        {
            long ticket = Interlocked.Increment(ref _sent) - 1;
            TimeSpan wait = TimeSpan.FromSeconds(ticket / options.Rate) - Stopwatch.GetElapsedTime(_started);
            if (wait > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(wait, stop);
                }
                catch (OperationCanceledException)
                {
                    return false;
                }
            }
        }
        return !stop.IsCancellationRequested;
    }
}
