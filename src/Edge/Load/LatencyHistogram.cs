namespace Edge.Load;

/// <summary>
/// Latencies in buckets 2% apart from 1 µs to about 30 minutes, so that percentiles are within 2% however many
/// samples a run takes, in a fixed few kilobytes. The sessions of edge source and of edge sink share one per stage.
/// </summary>
internal sealed class LatencyHistogram
{
    private const double Growth = 1.02;
    private static readonly double LogGrowth = Math.Log(Growth);
    private const int Buckets = 1100;

    private readonly long[] _counts = new long[Buckets];

    private long _maxTicks;

    /// <summary>The samples so far, counted where they are (a running total would be one more atomic write a sample).</summary>
    public long Count
    {
        get
        {
            long count = 0;
            for (int i = 0; i < Buckets; i++)
            {
                count += Volatile.Read(ref _counts[i]);
            }
            return count;
        }
    }

    public TimeSpan Max => TimeSpan.FromTicks(Volatile.Read(ref _maxTicks));

    /// <summary>Adds a sample; safe from many threads at once (the sink's sessions share one histogram per stage).</summary>
    public void Record(TimeSpan latency)
    {
        double micros = Math.Max(1, latency.Ticks / 10.0);
        int bucket = Math.Min(Buckets - 1, (int)(Math.Log(micros) / LogGrowth));
        Interlocked.Increment(ref _counts[bucket]);
        long ticks = latency.Ticks;
        long max;
        while (ticks > (max = Volatile.Read(ref _maxTicks)) && Interlocked.CompareExchange(ref _maxTicks, ticks, max) != max)
        {
        }
    }

    /// <summary>The latency <paramref name="fraction"/> of the samples are within (the upper edge of its bucket, at most the largest seen).</summary>
    public TimeSpan Percentile(double fraction)
    {
        long count = Count;
        if (count == 0)
        {
            return TimeSpan.Zero;
        }
        long rank = Math.Max(1, (long)Math.Ceiling(fraction * count));
        long seen = 0;
        for (int i = 0; i < Buckets; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
            {
                TimeSpan upper = TimeSpan.FromTicks((long)(Math.Pow(Growth, i + 1) * 10));
                return upper < Max ? upper : Max;
            }
        }
        return Max;
    }
}
