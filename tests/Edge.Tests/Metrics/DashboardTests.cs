using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.RegularExpressions;
using Edge.Tests.Support;

namespace Edge.Tests.Metrics;

/// <summary>The sample Grafana dashboard (deploy/grafana/edge.json) asks only for metrics Edge has.</summary>
public class DashboardTests
{
    /// <summary>The Prometheus name OpenTelemetry's exporter gives an instrument: dots to underscores, the unit, _total for counters.</summary>
    private static string PrometheusName(Instrument instrument)
    {
        string unit = instrument.Unit switch { "s" => "_seconds", "By" => "_bytes", _ => "" };
        string total = instrument.GetType().GetGenericTypeDefinition() == typeof(Counter<>) ? "_total" : "";
        return instrument.Name.Replace('.', '_') + unit + total;
    }

    [Fact]
    public async Task Every_metric_the_dashboard_asks_for_is_one_edge_exports()
    {
        // A server with a queue manager brings the per-server gauges (queue, scheduler) into being.
        using var directory = new TempDirectory();
        directory.Write("main.cf", EdgeInstance.BaseMainCf(directory) + "\n");
        directory.Write("master.cf", "127.0.0.1:0 inet n - n - - smtpd\nqmgr unix n - n 300 1 qmgr\n");
        await using Hosting.EdgeServer server = await Hosting.EdgeServer.StartAsync(directory.Path);
        RuntimeHelpers.RunClassConstructor(typeof(Edge.Metrics.EdgeMetrics).TypeHandle);
        var names = new HashSet<string>();
        using (var listener = new MeterListener())
        {
            listener.InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Name == "Edge")
                {
                    names.Add(PrometheusName(instrument));
                }
            };
            listener.Start();
        }
        Assert.Contains("edge_delivery_window", names);

        string path = Path.Combine(AppContext.BaseDirectory, "deploy", "grafana", "edge.json");
        using JsonDocument dashboard = JsonDocument.Parse(File.ReadAllText(path));
        string[] asked = [.. dashboard.RootElement.GetProperty("panels").EnumerateArray()
            .SelectMany(panel => panel.GetProperty("targets").EnumerateArray())
            .SelectMany(target => Regex.Matches(target.GetProperty("expr").GetString()!, @"\bedge_[a-z_]+").Select(m => m.Value))
            .Select(name => Regex.Replace(name, "_(bucket|sum|count)$", ""))
            .Distinct()];
        Assert.NotEmpty(asked);
        Assert.All(asked, name => Assert.Contains(name, names));
    }
}
