using System.Globalization;
using System.Text;

namespace Edge.Load;

/// <summary>What a run of <c>edge source</c> reports: throughput, replies by code and latency percentiles by stage, as text or JSON.</summary>
internal static class SourceReport
{
    public static string Text(SourceOptions options, SourceStats stats, TimeSpan elapsed)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"edge source: {options.Host}:{options.Port}, {options.Sessions} session(s) at once, {stats.Sessions} in all, {elapsed.TotalSeconds:0.00} s\n");
        text.Append(CultureInfo.InvariantCulture, $"messages: {stats.Messages} sent, {stats.Accepted} accepted ({LatencyReport.PerSecond(stats.Accepted, elapsed):0.0}/s, {stats.Bytes} bytes), {stats.Refused} refused; session errors: {stats.SessionErrors}\n");
        LatencyReport.Replies(text, stats.Replies());
        LatencyReport.Text(text, SourceStats.Stages, stats.Latency);
        return text.ToString();
    }

    public static string Json(SourceOptions options, SourceStats stats, TimeSpan elapsed) => LatencyReport.Json(json =>
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
        json.WriteNumber("accepted_per_second", Math.Round(LatencyReport.PerSecond(stats.Accepted, elapsed), 1));
        LatencyReport.Replies(json, stats.Replies());
        LatencyReport.Json(json, SourceStats.Stages, stats.Latency);
        json.WriteEndObject();
    });
}
