using System.Globalization;
using System.Text;

namespace Edge.Load;

/// <summary>What <c>edge sink</c> reports, every --report seconds and at exit: counts, replies by code and latency by stage, as text or JSON.</summary>
internal static class SinkReport
{
    public static string Text(string listening, SinkStats stats, TimeSpan elapsed)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"edge sink: {listening}, {elapsed.TotalSeconds:0.00} s, sessions: {stats.Sessions} ({stats.Open} open, {stats.Lost} lost, {stats.Dropped} dropped)\n");
        text.Append(CultureInfo.InvariantCulture, $"messages: {stats.Messages} accepted ({LatencyReport.PerSecond(stats.Messages, elapsed):0.0}/s, {stats.Recipients} recipients, {stats.Bytes} bytes), {stats.Refused} refused\n");
        LatencyReport.Replies(text, stats.Replies());
        LatencyReport.Text(text, SinkStats.Stages, stats.Latency);
        return text.ToString();
    }

    public static string Json(string listening, SinkStats stats, TimeSpan elapsed) => LatencyReport.Json(json =>
    {
        json.WriteStartObject();
        json.WriteString("listening", listening);
        json.WriteNumber("elapsed_seconds", Math.Round(elapsed.TotalSeconds, 3));
        json.WriteNumber("sessions", stats.Sessions);
        json.WriteNumber("open", stats.Open);
        json.WriteNumber("lost", stats.Lost);
        json.WriteNumber("dropped", stats.Dropped);
        json.WriteNumber("messages", stats.Messages);
        json.WriteNumber("refused", stats.Refused);
        json.WriteNumber("recipients", stats.Recipients);
        json.WriteNumber("bytes", stats.Bytes);
        json.WriteNumber("messages_per_second", Math.Round(LatencyReport.PerSecond(stats.Messages, elapsed), 1));
        LatencyReport.Replies(json, stats.Replies());
        LatencyReport.Json(json, SinkStats.Stages, stats.Latency);
        json.WriteEndObject();
    });
}
