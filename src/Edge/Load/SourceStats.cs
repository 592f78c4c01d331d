namespace Edge.Load;

/// <summary>What one session of <c>edge source</c> saw (and, added together, the whole run): counts, replies by code, latencies by stage.</summary>
internal sealed class SourceStats
{
    /// <summary>The stages whose latency is measured: from the connection, or from sending a command, to its reply.</summary>
    public static readonly string[] Stages = ["connect", "greeting", "ehlo", "starttls", "mail", "rcpt", "data", "content", "bdat"];

    public const int Connect = 0, Greeting = 1, Ehlo = 2, StartTls = 3, Mail = 4, Rcpt = 5, Data = 6, Content = 7, Bdat = 8;

    /// <summary>A reply whose wait is not timed (QUIT's, RSET's).</summary>
    public const int Untimed = -1;

    public LatencyHistogram[] Latency { get; } = [.. Stages.Select(_ => new LatencyHistogram())];

    public SortedDictionary<int, long> Replies { get; } = [];

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

    public void Reply(int code) => Replies[code] = Replies.GetValueOrDefault(code) + 1;

    public void Add(SourceStats other)
    {
        for (int i = 0; i < Stages.Length; i++)
        {
            Latency[i].Add(other.Latency[i]);
        }
        foreach ((int code, long count) in other.Replies)
        {
            Replies[code] = Replies.GetValueOrDefault(code) + count;
        }
        Sessions += other.Sessions;
        SessionErrors += other.SessionErrors;
        Messages += other.Messages;
        Accepted += other.Accepted;
        Refused += other.Refused;
        Bytes += other.Bytes;
    }
}
