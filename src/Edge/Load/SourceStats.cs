namespace Edge.Load;

/// <summary>
/// What one session slot of <c>edge source</c> saw (and, added together, the whole run): counts and replies by code,
/// its own; latencies by stage, in histograms every session of the run shares (one set, small enough to stay in the
/// processor's cache, where one per session was not: recording is atomic).
/// </summary>
internal sealed class SourceStats(LatencyHistogram[] latency)
{
    /// <summary>The stages whose latency is measured: from the connection, or from sending a command, to its reply.</summary>
    public static readonly string[] Stages = ["connect", "greeting", "ehlo", "starttls", "mail", "rcpt", "data", "content", "bdat"];

    public const int Connect = 0, Greeting = 1, Ehlo = 2, StartTls = 3, Mail = 4, Rcpt = 5, Data = 6, Content = 7, Bdat = 8;

    /// <summary>A reply whose wait is not timed (QUIT's, RSET's).</summary>
    public const int Untimed = -1;

    /// <summary>A histogram for each of the <see cref="Stages"/>, for the run's sessions to share.</summary>
    public static LatencyHistogram[] NewLatency() => [.. Stages.Select(_ => new LatencyHistogram())];

    public LatencyHistogram[] Latency => latency;

    /// <summary>Replies by code (three digits: any a server may send).</summary>
    private readonly long[] _replies = new long[1000];

    public long Sessions { get; set; }

    /// <summary>Connections that could not be made, or that broke (or timed out) before their QUIT.</summary>
    public long SessionErrors { get; set; }

    /// <summary>Messages begun (MAIL FROM sent).</summary>
    public long Messages { get; set; }

    /// <summary>Messages the server took (2xx at the end of the content).</summary>
    public long Accepted { get; set; }

    /// <summary>Messages the server refused (at MAIL, every RCPT, DATA or the end of the content).</summary>
    public long Refused { get; set; }

    /// <summary>Content bytes of the messages the server took.</summary>
    public long Bytes { get; set; }

    public void Record(int stage, TimeSpan latency) => Latency[stage].Record(latency);

    public void Reply(int code) => _replies[code]++;

    /// <summary>The replies seen, by code, the codes never seen left out.</summary>
    public IEnumerable<(int Code, long Count)> Replies() =>
        _replies.Select((count, code) => (code, count)).Where(reply => reply.count > 0);

    /// <summary>Adds another session's counts (the latencies are shared already).</summary>
    public void Add(SourceStats other)
    {
        for (int code = 0; code < _replies.Length; code++)
        {
            _replies[code] += other._replies[code];
        }
        Sessions += other.Sessions;
        SessionErrors += other.SessionErrors;
        Messages += other.Messages;
        Accepted += other.Accepted;
        Refused += other.Refused;
        Bytes += other.Bytes;
    }
}
