using System.Diagnostics.Metrics;
using Edge.Metrics;
using Edge.Queue;

namespace Edge.Hosting;

/// <summary>
/// edge.queue.messages: the messages in one server's queue by Postfix's queue names, as postqueue -p shows them,
/// counted when the metrics are read. Its own meter, so that it ends with the server.
/// </summary>
internal sealed class QueueMetrics : IDisposable
{
    private static readonly string[] Queues = ["incoming", "active", "deferred", "hold"];

    private readonly Meter _meter = new(EdgeMetrics.MeterName);

    public QueueMetrics(QueueStore queue) =>
        _meter.CreateObservableGauge("edge.queue.messages", () => Measure(queue), "{message}",
            "Messages in the queue, by queue (incoming, active, deferred, hold)");

    private static IEnumerable<Measurement<long>> Measure(QueueStore queue)
    {
        var counts = new long[Queues.Length];
        foreach (QueueEntry entry in queue.Entries)
        {
            counts[Array.IndexOf(Queues, entry.QueueName)]++;
        }
        for (int i = 0; i < Queues.Length; i++)
        {
            yield return new Measurement<long>(counts[i], EdgeMetrics.Tag("queue", Queues[i]));
        }
    }

    public void Dispose() => _meter.Dispose();
}
