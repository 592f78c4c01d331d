using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Edge.Load;

/// <summary>The latency part of edge source's and edge sink's reports: count, p50, p90, p99 and max of each stage that has samples.</summary>
internal static class LatencyReport
{
    private static readonly (string Name, double Fraction)[] Percentiles = [("p50", 0.50), ("p90", 0.90), ("p99", 0.99)];

    public static void Text(StringBuilder text, string[] stages, LatencyHistogram[] latency)
    {
        text.Append("latency (ms)       count      p50      p90      p99      max\n");
        for (int i = 0; i < stages.Length; i++)
        {
            LatencyHistogram histogram = latency[i];
            if (histogram.Count == 0)
            {
                continue;
            }
            text.Append(CultureInfo.InvariantCulture, $"{stages[i],-12} {histogram.Count,11}");
            foreach ((_, double fraction) in Percentiles)
            {
                text.Append(CultureInfo.InvariantCulture, $" {histogram.Percentile(fraction).TotalMilliseconds,8:0.000}");
            }
            text.Append(CultureInfo.InvariantCulture, $" {histogram.Max.TotalMilliseconds,8:0.000}\n");
        }
    }

    /// <summary>"latency_ms": { stage: { count, p50, p90, p99, max } }.</summary>
    public static void Json(Utf8JsonWriter json, string[] stages, LatencyHistogram[] latency)
    {
        json.WriteStartObject("latency_ms");
        for (int i = 0; i < stages.Length; i++)
        {
            LatencyHistogram histogram = latency[i];
            if (histogram.Count == 0)
            {
                continue;
            }
            json.WriteStartObject(stages[i]);
            json.WriteNumber("count", histogram.Count);
            foreach ((string name, double fraction) in Percentiles)
            {
                json.WriteNumber(name, Math.Round(histogram.Percentile(fraction).TotalMilliseconds, 3));
            }
            json.WriteNumber("max", Math.Round(histogram.Max.TotalMilliseconds, 3));
            json.WriteEndObject();
        }
        json.WriteEndObject();
    }

    /// <summary>"replies": { code: count }.</summary>
    public static void Replies(Utf8JsonWriter json, IEnumerable<(int Code, long Count)> replies)
    {
        json.WriteStartObject("replies");
        foreach ((int code, long count) in replies)
        {
            json.WriteNumber(code.ToString(CultureInfo.InvariantCulture), count);
        }
        json.WriteEndObject();
    }

    /// <summary>"replies: 220 4, 250 12".</summary>
    public static void Replies(StringBuilder text, IEnumerable<(int Code, long Count)> replies)
    {
        text.Append("replies:");
        int length = text.Length;
        foreach ((int code, long count) in replies)
        {
            text.Append(CultureInfo.InvariantCulture, $" {code} {count},");
        }
        if (text.Length == length)
        {
            text.Append(" none,");
        }
        text.Length--;
        text.Append('\n');
    }

    /// <summary>The JSON a writer makes, as text that ends in a newline.</summary>
    public static string Json(Action<Utf8JsonWriter> write)
    {
        using var output = new MemoryStream();
        using (var json = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true }))
        {
            write(json);
        }
        return Encoding.UTF8.GetString(output.ToArray()) + "\n";
    }

    public static double PerSecond(long count, TimeSpan elapsed) => elapsed > TimeSpan.Zero ? count / elapsed.TotalSeconds : 0;
}
