using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Edge.Metrics;

namespace Edge.Tests.Support;

/// <summary>
/// What edge.table.lookups counts for one table (by its reference, which names the test's own server) while the meter
/// lives, by source: cache, server, or server_blocking (a thread waited for the answer).
/// </summary>
public sealed class TableLookupMeter : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, long> _bySource = new();

    public TableLookupMeter(string table)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == EdgeMetrics.MeterName && instrument.Name == "edge.table.lookups")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            string? source = null;
            bool ours = false;
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                ours |= tag.Key == "table" && (string?)tag.Value == table;
                source = tag.Key == "source" ? (string?)tag.Value : source;
            }
            if (ours && source is not null)
            {
                _bySource.AddOrUpdate(source, value, (_, sum) => sum + value);
            }
        });
        _listener.Start();
    }

    public long this[string source] => _bySource.GetValueOrDefault(source);

    public override string ToString() => string.Join(", ", _bySource.Select(s => $"{s.Key}={s.Value}"));

    public void Dispose() => _listener.Dispose();

    /// <summary>
    /// The edge_table_lookups_total series of a server in a process of its own, as its metrics page
    /// (edge_metrics_listen on <paramref name="port"/>) shows them: a meter in this process cannot see them.
    /// </summary>
    public static async Task<string[]> ScrapeAsync(int port)
    {
        using var http = new HttpClient();
        return [.. (await http.GetStringAsync($"http://127.0.0.1:{port}/metrics")).Split('\n')
            .Where(line => line.StartsWith("edge_table_lookups_total{", StringComparison.Ordinal))];
    }
}
