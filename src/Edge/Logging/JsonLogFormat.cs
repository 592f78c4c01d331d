using System.Buffers;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Edge.Logging;

/// <summary>
/// edge_log_format = json: each mail log line as one JSON object, for log pipelines that want fields rather than
/// pflogsumm's text. The line's time, host, program, pid, severity and its Postfix text ("message") are always there;
/// what the text says in Postfix's name=value form becomes typed fields: queue_id, client, from, to, orig_to, relay,
/// delay (seconds), delays (its four parts), dsn, status and status_detail (the parenthesised reply), size, nrcpt,
/// proto, helo and message_id. Built on the log's writer task, never on a session's thread.
/// </summary>
internal static partial class JsonLogFormat
{
    private static readonly ArrayBufferWriter<byte> s_buffer = new(1024);
    // Only what JSON requires is escaped: a log line is read by people and by pipelines, not put into a web page.
    private static readonly Utf8JsonWriter s_json = new(s_buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });

    private static readonly HashSet<string> Numbers = new(StringComparer.Ordinal) { "delay", "size", "nrcpt" };
    private static readonly HashSet<string> Texts = new(StringComparer.Ordinal)
    {
        "client", "from", "to", "orig_to", "relay", "dsn", "proto", "helo", "message-id",
    };

    /// <summary>The line as JSON and a newline, in UTF-8.</summary>
    public static ReadOnlySpan<byte> Format(DateTime time, string host, string service, string pid, bool warning, ReadOnlySpan<char> text)
    {
        s_buffer.ResetWrittenCount();
        s_json.Reset(s_buffer);
        s_json.WriteStartObject();
        s_json.WriteString("time", new DateTimeOffset(time).ToString("yyyy-MM-dd'T'HH:mm:ss.fffzzz", CultureInfo.InvariantCulture));
        s_json.WriteString("host", host);
        s_json.WriteString("program", "edge/" + service);
        s_json.WriteNumber("pid", int.Parse(pid, CultureInfo.InvariantCulture));
        s_json.WriteString("severity", warning ? "warning" : "info");
        s_json.WriteString("message", text);
        string message = text.ToString();
        if (QueueId().Match(message) is { Success: true } id)
        {
            s_json.WriteString("queue_id", id.Groups[1].Value);
        }
        if (ConnectFrom().Match(message) is { Success: true } connect)
        {
            s_json.WriteString("client", connect.Groups[1].Value);
        }
        foreach (Match pair in Pair().Matches(message))
        {
            string name = pair.Groups[1].Value;
            string value = pair.Groups[2].Value.Trim('<', '>');
            if (Numbers.Contains(name) && double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double number))
            {
                s_json.WriteNumber(name, number);
            }
            else if (name == "delays")
            {
                s_json.WriteStartArray("delays");
                foreach (string part in value.Split('/'))
                {
                    s_json.WriteNumberValue(double.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) ? d : 0);
                }
                s_json.WriteEndArray();
            }
            else if (name == "status")
            {
                s_json.WriteString("status", value);
                if (StatusDetail().Match(message) is { Success: true } detail)
                {
                    s_json.WriteString("status_detail", detail.Groups[1].Value);
                }
            }
            else if (Texts.Contains(name))
            {
                s_json.WriteString(name == "message-id" ? "message_id" : name, value);
            }
        }
        s_json.WriteEndObject();
        s_json.Flush();
        s_buffer.Write("\n"u8);
        return s_buffer.WrittenSpan;
    }

    [GeneratedRegex(@"^([0-9A-Za-z]{10,15}|NOQUEUE): ")]
    private static partial Regex QueueId();

    [GeneratedRegex(@"^(?:dis)?connect from (\S+)")]
    private static partial Regex ConnectFrom();

    // name=value after the start, a space or a comma: <addresses> whole, other values up to a comma or space.
    [GeneratedRegex(@"(?:^|[ ,])([a-z_-]+)=(<[^>]*>|[^,\s]+)")]
    private static partial Regex Pair();

    [GeneratedRegex(@"status=\S+ \((.*)\)$")]
    private static partial Regex StatusDetail();
}
