using System.Collections.Concurrent;

namespace Edge.Smtp.Session;

/// <summary>
/// One timer for every session's deadlines (smtpd_timeout, edge_session_time_limit), ticking four times a
/// second, as Kestrel's heartbeat does for HTTP: a session only writes down when its wait must end, so a read
/// or a flush costs no timer operation at all.
/// </summary>
internal sealed class SessionClock
{
    public static SessionClock Shared { get; } = new(TimeSpan.FromMilliseconds(250));

    private readonly ConcurrentDictionary<SmtpSession, byte> _sessions = new();
    private readonly Timer _timer;

    private SessionClock(TimeSpan period)
    {
        _timer = new Timer(static state => ((SessionClock)state!).Tick(), this, period, period);
    }

    public static long Now => Environment.TickCount64;

    public void Add(SmtpSession session) => _sessions.TryAdd(session, 0);

    public void Remove(SmtpSession session) => _sessions.TryRemove(session, out _);

    private void Tick()
    {
        long now = Now;
        foreach (SmtpSession session in _sessions.Keys)
        {
            session.CheckDeadlines(now);
        }
    }
}
