using System.Diagnostics.Metrics;
using Edge.Metrics;
using Edge.Resolve;

namespace Edge.Scheduler;

/// <summary>
/// The scheduler's state as gauges, read when the metrics are: per transport, the deliveries in progress, the sum of
/// the destinations' concurrency windows, and the destinations known, alive or dead. Per transport, not per
/// destination: there may be as many destinations as domains mail goes to.
/// </summary>
internal sealed partial class QueueManager
{
    private readonly Meter _meter;

    private Meter Meter()
    {
        var meter = new Meter(EdgeMetrics.MeterName);
        meter.CreateObservableGauge("edge.delivery.concurrency", () => Measure(d => d.Busy), "{delivery}",
            "Deliveries in progress, by transport");
        meter.CreateObservableGauge("edge.delivery.window", () => Measure(d => d.Window), "{delivery}",
            "The destinations' concurrency windows added up, by transport: how many deliveries qmgr would run at once now");
        meter.CreateObservableGauge("edge.delivery.destinations", MeasureDestinations, "{destination}",
            "Destinations the scheduler knows, by transport and state (alive, or dead until their backoff ends)");
        return meter;
    }

    /// <summary>Each destination the scheduler knows now: its route, window, deliveries in progress and death, for the queue page.</summary>
    public IReadOnlyList<(Route Route, int Window, int Busy, (DateTimeOffset Until, string Reason)? Dead)> Destinations() =>
        [.. _destinations.Select(pair => (pair.Key, pair.Value.Window, pair.Value.Busy, pair.Value.Dead))];

    private IEnumerable<Measurement<long>> Measure(Func<Destination, int> figure) =>
        _destinations.GroupBy(pair => pair.Key.Transport)
            .Select(transport => new Measurement<long>(transport.Sum(pair => figure(pair.Value)), EdgeMetrics.Tag("transport", transport.Key)));

    private IEnumerable<Measurement<long>> MeasureDestinations()
    {
        foreach (IGrouping<string, KeyValuePair<Route, Destination>> transport in _destinations.GroupBy(pair => pair.Key.Transport))
        {
            int dead = transport.Count(pair => pair.Value.Dead is { } until && until.Until > DateTimeOffset.UtcNow);
            var name = EdgeMetrics.Tag("transport", transport.Key);
            yield return new Measurement<long>(transport.Count() - dead, name, EdgeMetrics.Tag("state", "alive"));
            yield return new Measurement<long>(dead, name, EdgeMetrics.Tag("state", "dead"));
        }
    }
}
