namespace Edge.Delivery.Smtp;

/// <summary>
/// Idle connections kept after a transaction for the next delivery to the same server (Postfix's scache),
/// each for smtp_connection_cache_time_limit; a sweep closes the expired ones with QUIT.
/// </summary>
internal sealed class ConnectionCache : IAsyncDisposable
{
    private static readonly TimeSpan SweepInterval = TimeSpan.FromMilliseconds(250);

    private sealed record Idle(SmtpClientSession Session, long ExpiresAt, TimeSpan QuitTimeout);

    private readonly Dictionary<string, List<Idle>> _idle = [];
    private readonly List<Task> _closing = [];
    private readonly CancellationTokenSource _stop = new();
    private Task? _sweeper;
    private bool _disposed;

    /// <summary>
    /// Connections are shared only between deliveries that would have opened the same one: same server, same
    /// protocol, TLS level and HELO name.
    /// </summary>
    public static string KeyOf(NextHopServer server, SmtpClientOptions options) =>
        $"{(options.Lmtp ? "lmtp" : "smtp")} {options.TlsLevel} {options.HeloName} {server.Endpoint}";

    /// <summary>The most recently used idle connection under <paramref name="key"/>, if any; it is no longer cached.</summary>
    public SmtpClientSession? Take(string key)
    {
        lock (_idle)
        {
            if (!_idle.TryGetValue(key, out List<Idle>? list) || list.Count == 0 || list[^1].ExpiresAt <= Environment.TickCount64)
            {
                return null;
            }
            SmtpClientSession session = list[^1].Session;
            list.RemoveAt(list.Count - 1);
            return session;
        }
    }

    /// <summary>Keeps a connection for <paramref name="timeLimit"/>; false when the cache is closed (the caller keeps it).</summary>
    public bool Put(string key, SmtpClientSession session, TimeSpan timeLimit, TimeSpan quitTimeout)
    {
        lock (_idle)
        {
            if (_disposed)
            {
                return false;
            }
            if (!_idle.TryGetValue(key, out List<Idle>? list))
            {
                _idle[key] = list = [];
            }
            list.Add(new Idle(session, Environment.TickCount64 + (long)timeLimit.TotalMilliseconds, quitTimeout));
            _sweeper ??= SweepAsync();
        }
        return true;
    }

    /// <summary>Runs while anything is cached. Lists are in order of caching, so expired entries lead each list.</summary>
    private async Task SweepAsync()
    {
        using var timer = new PeriodicTimer(SweepInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                lock (_idle)
                {
                    long now = Environment.TickCount64;
                    _closing.RemoveAll(task => task.IsCompleted);
                    foreach (List<Idle> list in _idle.Values)
                    {
                        int expired = 0;
                        while (expired < list.Count && list[expired].ExpiresAt <= now)
                        {
                            _closing.Add(list[expired].Session.QuitAsync(list[expired].QuitTimeout));
                            expired++;
                        }
                        list.RemoveRange(0, expired);
                    }
                    if (_idle.Values.All(list => list.Count == 0))
                    {
                        _idle.Clear();
                        _sweeper = null;
                        return;
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The cache is closing; DisposeAsync closes what is left.
        }
    }

    public async ValueTask DisposeAsync()
    {
        Task? sweeper;
        lock (_idle)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            sweeper = _sweeper;
        }
        await _stop.CancelAsync();
        if (sweeper is not null)
        {
            await sweeper;
        }
        lock (_idle)
        {
            foreach (Idle idle in _idle.Values.SelectMany(list => list))
            {
                _closing.Add(idle.Session.QuitAsync(idle.QuitTimeout));
            }
            _idle.Clear();
        }
        await Task.WhenAll(_closing);
        _stop.Dispose();
    }
}
