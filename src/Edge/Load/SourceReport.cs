using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Edge.Load;

/// <summary>What a run of <c>edge source</c> reports: throughput, replies by code and latency percentiles by stage, as text or JSON.</summary>
internal static class SourceReport
{
    private static readonly (string Name, double Fraction)[] Percentiles = [("p50", 0.50), ("p90", 0.90), ("p99", 0.99)];

    public static string Text(SourceOptions options, SourceStats stats, TimeSpan elapsed)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"edge source: {options.Host}:{options.Port}, {options.Sessions} session(s) at once, {stats.Sessions} in all, {elapsed.TotalSeconds:0.00} s\n");
        text.Append(CultureInfo.InvariantCulture, $"messages: {stats.Messages} sent, {stats.Accepted} accepted ({PerSecond(stats.Accepted, elapsed):0.0}/s, {stats.Bytes} bytes), {stats.Refused} refused; session errors: {stats.SessionErrors}\n");
        text.Append("replies:");
        foreach ((int code, long count) in stats.Replies)
        {
            text.Append(CultureInfo.InvariantCulture, $" {code} {count},");
        }
        text.Length--;
        text.Append("\nlatency (ms)       count      p50      p90      p99      max\n");
        for (int i = 0; i < SourceStats.Stages.Length; i++)
        {
            LatencyHistogram histogram = stats.Latency[i];
            if (histogram.Count == 0)
            {
                continue;
            }
            text.Append(CultureInfo.InvariantCulture, $"{SourceStats.Stages[i],-12} {histogram.Count,11}");
            foreach ((_, double fraction) in Percentiles)
            {
                text.Append(CultureInfo.InvariantCulture, $" {histogram.Percentile(fraction).TotalMilliseconds,8:0.000}");
            }
            text.Append(CultureInfo.InvariantCulture, $" {histogram.Max.TotalMilliseconds,8:0.000}\n");
        }
        return text.ToString();
    }

    public static string Json(SourceOptions options, SourceStats stats, TimeSpan elapsed)
    {
        using var output = new MemoryStream();
        using (var json = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("target", $"{options.Host}:{options.Port}");
            json.WriteNumber("elapsed_seconds", Math.Round(elapsed.TotalSeconds, 3));
            json.WriteNumber("sessions", stats.Sessions);
            json.WriteNumber("session_errors", stats.SessionErrors);
            json.WriteNumber("messages", stats.Messages);
            json.WriteNumber("accepted", stats.Accepted);
            json.WriteNumber("refused", stats.Refused);
            json.WriteNumber("bytes", stats.Bytes);
            json.WriteNumber("accepted_per_second", Math.Round(PerSecond(stats.Accepted, elapsed), 1));
            json.WriteStartObject("replies");
            foreach ((int code, long count) in stats.Replies)
            {
                json.WriteNumber(code.ToString(CultureInfo.InvariantCulture), count);
            }
            json.WriteEndObject();
            json.WriteStartObject("latency_ms");
            for (int i = 0; i < SourceStats.Stages.Length; i++)
            {
                LatencyHistogram histogram = stats.Latency[i];
                if (histogram.Count == 0)
                {
                    continue;
                }
                json.WriteStartObject(SourceStats.Stages[i]);
                json.WriteNumber("count", histogram.Count);
                foreach ((string name, double fraction) in Percentiles)
                {
                    json.WriteNumber(name, Math.Round(histogram.Percentile(fraction).TotalMilliseconds, 3));
                }
                json.WriteNumber("max", Math.Round(histogram.Max.TotalMilliseconds, 3));
                json.WriteEndObject();
            }
            json.WriteEndObject();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(output.ToArray()) + "\n";
    }

    private static double PerSecond(long count, TimeSpan elapsed) => elapsed > TimeSpan.Zero ? count / elapsed.TotalSeconds : 0;
}
