using System.Text.Json;
using Edge.Tests.Delivery;
using Edge.Tests.Support;

namespace Edge.Tests.Logging;

/// <summary>edge_log_format = json: every line one JSON object, the events of the Postfix format with typed fields.</summary>
public class JsonLogTests
{
    [Fact]
    public async Task A_delivered_message_is_logged_as_json_with_its_fields()
    {
        await using var sink = await SmtpSink.StartAsync();
        using var config = new TempDirectory();
        config.Write("main.cf", EdgeInstance.BaseMainCf(config) + $$"""

            edge_log_format = json
            relay_domains = sink.example
            transport_maps = inline:{ sink.example=smtp:[127.0.0.1]:{{sink.Port}} }
            an_unknown_parameter = 1
            """ + "\n");
        config.Write("master.cf", """
            127.0.0.1:0 inet n - n - - smtpd
            qmgr      unix  n       -       n       300     1       qmgr
            smtp      unix  -       -       n       -       -       smtp
            """);
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string id = (await SmtpConnection.SendMessageAsync(edge.Port, "Subject: json\r\n\r\nbody\r\n", "user@sink.example")).Split(' ')[^1];
        string sent = await edge.WaitForLogAsync($@"{id}: to=<user@sink\.example>.*status=sent");

        // Every line is JSON, with the fields every line has.
        JsonElement[] lines = [.. edge.Log.Select(line => JsonDocument.Parse(line).RootElement)];
        Assert.All(lines, line =>
        {
            Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$", line.GetProperty("time").GetString());
            Assert.StartsWith("edge/", line.GetProperty("program").GetString());
            Assert.True(line.GetProperty("pid").GetInt32() > 0);
            Assert.Contains(line.GetProperty("severity").GetString(), new[] { "info", "warning" });
        });
        Assert.Contains(lines, line => line.GetProperty("severity").GetString() == "warning"
            && line.GetProperty("message").GetString()!.Contains("unused parameter: an_unknown_parameter=1"));

        JsonElement delivery = JsonDocument.Parse(sent).RootElement;
        Assert.Equal("edge/smtp", delivery.GetProperty("program").GetString());
        Assert.Equal(id, delivery.GetProperty("queue_id").GetString());
        Assert.Equal("user@sink.example", delivery.GetProperty("to").GetString());
        Assert.StartsWith("127.0.0.1[127.0.0.1]:", delivery.GetProperty("relay").GetString());
        Assert.Equal("2.0.0", delivery.GetProperty("dsn").GetString());
        Assert.Equal("sent", delivery.GetProperty("status").GetString());
        Assert.StartsWith("250 2.0.0 Ok", delivery.GetProperty("status_detail").GetString());
        Assert.Equal(JsonValueKind.Number, delivery.GetProperty("delay").ValueKind);
        Assert.Equal(4, delivery.GetProperty("delays").GetArrayLength());

        JsonElement connect = lines.First(line => line.GetProperty("message").GetString()!.StartsWith("connect from ", StringComparison.Ordinal));
        Assert.Equal("localhost[127.0.0.1]", connect.GetProperty("client").GetString());
        JsonElement queued = lines.First(line => line.GetProperty("message").GetString()!.Contains("(queue active)"));
        Assert.Equal(id, queued.GetProperty("queue_id").GetString());
        Assert.Equal("sender@example.org", queued.GetProperty("from").GetString());
        Assert.Equal(1, queued.GetProperty("nrcpt").GetInt32());
        Assert.True(queued.GetProperty("size").GetInt32() > 0);
    }
}
