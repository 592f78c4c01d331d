using System.Diagnostics.Metrics;
using Edge.Admin;
using Edge.Metrics;

namespace Edge.Hosting;

/// <summary>
/// The last minute's messages queued and recipients sent, deferred and bounced, for the queue page: a listener of the
/// same instruments the metrics read, counting into one slot per second of a minute-long ring.
/// </summary>
internal sealed class RecentRateWindow : IDisposable
{
    private const int Seconds = 60;

    // Per second: queued, sent, deferred, bounced; and the second each slot holds.
    private readonly long[,] _counts = new long[Seconds, 4];
    private readonly long[] _second = new long[Seconds];
    private readonly MeterListener _listener = new();

    public RecentRateWindow()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == EdgeMetrics.MeterName && instrument.Name is "edge.messages.queued" or "edge.delivery.recipients")
            {
                listener.EnableMeasurementEvents(instrument, this);
            }
        };
        _listener.SetMeasurementEventCallback<long>(static (instrument, value, tags, state) =>
            ((RecentRateWindow)state!).Count(instrument.Name == "edge.messages.queued" ? 0 : Column(tags), value));
        _listener.Start();
    }

    private static int Column(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        foreach (KeyValuePair<string, object?> tag in tags)
        {
            if (tag.Key == "status")
            {
                return (tag.Value as string) switch { "sent" => 1, "deferred" or "SOFTBOUNCE" => 2, "bounced" or "expired" => 3, _ => -1 };
            }
        }
        return -1;
    }

    private void Count(int column, long value)
    {
        if (column < 0)
        {
            return;
        }
        long now = Environment.TickCount64 / 1000;
        int slot = (int)(now % Seconds);
        lock (_second)
        {
            if (_second[slot] != now)
            {
                _second[slot] = now;
                for (int c = 0; c < 4; c++)
                {
                    _counts[slot, c] = 0;
                }
            }
            _counts[slot, column] += value;
        }
    }

    public RecentRates Snapshot()
    {
        long now = Environment.TickCount64 / 1000;
        var sums = new long[4];
        lock (_second)
        {
            for (int slot = 0; slot < Seconds; slot++)
            {
                if (now - _second[slot] < Seconds)
                {
                    for (int c = 0; c < 4; c++)
                    {
                        sums[c] += _counts[slot, c];
                    }
                }
            }
        }
        return new RecentRates(sums[0], sums[1], sums[2], sums[3]);
    }

    public void Dispose() => _listener.Dispose();
}
