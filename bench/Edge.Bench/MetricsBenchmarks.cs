using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using Edge.Metrics;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace Edge.Bench;

/// <summary>
/// What counting costs the code that counts, with OpenTelemetry's SDK listening as it does behind edge_metrics_listen:
/// a counter with two tags (a session's commands), one with four (a reject), and a histogram (a group commit).
/// </summary>
[MemoryDiagnoser]
public class MetricsBenchmarks
{
    private MeterProvider? _provider;

    [GlobalSetup]
    public void Setup()
    {
        _provider = Sdk.CreateMeterProviderBuilder().AddMeter(EdgeMetrics.MeterName).AddPrometheusExporter().Build();
        // Each series exists before measuring: its first measurement is the one that allocates.
        CounterWithTwoTags();
        CounterWithFourTags();
        Histogram();
    }

    [GlobalCleanup]
    public void Cleanup() => _provider?.Dispose();

    [Benchmark]
    public void CounterWithTwoTags() =>
        EdgeMetrics.Commands.Add(1, EdgeMetrics.Tag("command", "rcpt"), EdgeMetrics.Tag("result", "ok"));

    [Benchmark]
    public void CounterWithFourTags() =>
        EdgeMetrics.Rejects.Add(1, new TagList
        {
            { "stage", "RCPT" }, { "class", "5xx" }, { "restriction", "reject_unauth_destination" }, { "table", "" },
        });

    [Benchmark]
    public void Histogram() => EdgeMetrics.CommitDuration.Record(0.0021);
}
