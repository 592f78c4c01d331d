namespace Edge.Load;

/// <summary>
/// What <c>edge sink</c> has seen since it started, shared by every session: counts, replies by code and how long each
/// stage took from the command (or the connection, or the end of the content) to the reply, delays included.
/// Read at any moment for the periodic reports and the metrics.
/// </summary>
internal sealed class SinkStats
{
    public static readonly string[] Stages = ["greeting", "helo", "starttls", "mail", "rcpt", "data", "content", "bdat"];

    public const int Greeting = 0, Helo = 1, StartTls = 2, Mail = 3, Rcpt = 4, Data = 5, Content = 6, Bdat = 7;

    public LatencyHistogram[] Latency { get; } = [.. Stages.Select(_ => new LatencyHistogram())];

    private readonly long[] _replies = new long[600];
    private long _sessions;
    private long _open;
    private long _messages;
    private long _refused;
    private long _recipients;
    private long _bytes;
    private long _dropped;
    private long _lost;

    /// <summary>Connections taken since the start.</summary>
    public long Sessions => Volatile.Read(ref _sessions);

    public long Open => Volatile.Read(ref _open);

    /// <summary>Messages accepted (a 2xx at the end of their content).</summary>
    public long Messages => Volatile.Read(ref _messages);

    /// <summary>Messages refused at the end of their content.</summary>
    public long Refused => Volatile.Read(ref _refused);

    /// <summary>Recipients of the accepted messages.</summary>
    public long Recipients => Volatile.Read(ref _recipients);

    /// <summary>Content bytes of the accepted messages, as they arrived (before dot-unstuffing: what the wire carried).</summary>
    public long Bytes => Volatile.Read(ref _bytes);

    /// <summary>Connections the sink dropped in the middle of the content (--disconnect).</summary>
    public long Dropped => Volatile.Read(ref _dropped);

    /// <summary>Connections the client broke or let time out before its QUIT.</summary>
    public long Lost => Volatile.Read(ref _lost);

    public void Record(int stage, TimeSpan latency) => Latency[stage].Record(latency);

    public void Reply(int code) => Interlocked.Increment(ref _replies[code]);

    public void Connected()
    {
        Interlocked.Increment(ref _sessions);
        Interlocked.Increment(ref _open);
    }

    public void Disconnected() => Interlocked.Decrement(ref _open);

    public void Accepted(int recipients, long bytes)
    {
        Interlocked.Increment(ref _messages);
        Interlocked.Add(ref _recipients, recipients);
        Interlocked.Add(ref _bytes, bytes);
    }

    public void RefusedMessage() => Interlocked.Increment(ref _refused);

    public void DroppedConnection() => Interlocked.Increment(ref _dropped);

    public void LostConnection() => Interlocked.Increment(ref _lost);

    /// <summary>The replies sent so far, by code, the codes never sent left out.</summary>
    public IEnumerable<(int Code, long Count)> Replies()
    {
        for (int code = 0; code < _replies.Length; code++)
        {
            long count = Volatile.Read(ref _replies[code]);
            if (count > 0)
            {
                yield return (code, count);
            }
        }
    }
}
