using System.Text.Json;
using Edge.Tests.Support;

namespace Edge.Tests.Scheduler;

/// <summary>postsuper and postqueue -j against a running server and a stopped one.</summary>
public class QueueAdministrationTests
{
    private static TempDirectory ConfigDirectory()
    {
        var directory = new TempDirectory();
        directory.Write("main.cf", EdgeInstance.BaseMainCf(directory) + "\ntransport_maps = inline:{ slow.example=nowhere: }\nminimal_backoff_time = 1h\n");
        directory.Write("master.cf", "127.0.0.1:0 inet n - n - - smtpd\nqmgr unix n - n 300 1 qmgr\n");
        return directory;
    }

    private static async Task<string> SendAsync(int port)
    {
        await using var c = await SmtpConnection.OpenAsync(port);
        await c.EnvelopeAsync("sender@example.org", "c@slow.example");
        await c.CommandAsync("DATA");
        return (await c.CommandAsync("Subject: admin\r\n\r\nx\r\n.")).Split(' ')[^1];
    }

    private static Task<(int Exit, string Out, string Error)> Edge(TempDirectory config, params string[] args) =>
        EdgeProcess.RunAsync(config.Path, [args[0], "-c", config.Path, .. args[1..]]);

    [Fact]
    public async Task Hold_release_json_and_delete_against_a_running_server()
    {
        using var config = ConfigDirectory();
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string id = await SendAsync(edge.Port);
        await edge.WaitForLogAsync($"{id}: to=<c@slow.example>, .*status=deferred");

        string json = (await Edge(config, "postqueue", "-j")).Out;
        using (JsonDocument message = JsonDocument.Parse(json.Trim()))
        {
            Assert.Equal("deferred", message.RootElement.GetProperty("queue_name").GetString());
            Assert.Equal(id, message.RootElement.GetProperty("queue_id").GetString());
            Assert.Equal("sender@example.org", message.RootElement.GetProperty("sender").GetString());
            JsonElement recipient = message.RootElement.GetProperty("recipients")[0];
            Assert.Equal("c@slow.example", recipient.GetProperty("address").GetString());
            Assert.Equal("mail transport unavailable", recipient.GetProperty("delay_reason").GetString());
        }

        Assert.Equal("postsuper: Placed on hold: 1 message\n", (await Edge(config, "postsuper", "-h", id)).Out);
        Assert.Contains($"\n{id}!", (await Edge(config, "postqueue", "-p")).Out);
        Assert.Equal("postsuper: Released from hold: 1 message\n", (await Edge(config, "postsuper", "-H", "ALL")).Out);
        Assert.Contains($"\n{id} ", (await Edge(config, "postqueue", "-p")).Out);

        Assert.Equal("postsuper: Deleted: 1 message\n", (await Edge(config, "postsuper", "-d", id)).Out);
        Assert.Equal("Mail queue is empty\n", (await Edge(config, "postqueue", "-p")).Out);
        await edge.WaitForLogAsync($@"edge/postsuper\[\d+\]: {id}: removed");

        var unknown = await Edge(config, "postsuper", "-d", "4jX0000000");
        Assert.Equal(1, unknown.Exit);
        Assert.Contains("4jX0000000: no such queue ID", unknown.Error);
    }

    [Fact]
    public async Task Postsuper_works_on_the_named_queues_and_requeues_against_a_running_server()
    {
        using var config = ConfigDirectory();
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string held = await SendAsync(edge.Port);
        string deferred = await SendAsync(edge.Port);
        await edge.WaitForLogAsync($"{held}: to=<c@slow.example>, .*status=deferred");
        await edge.WaitForLogAsync($"{deferred}: to=<c@slow.example>, .*status=deferred");
        await Edge(config, "postsuper", "-h", held);

        var invalid = await Edge(config, "postsuper", "-d", "ALL", "deferd");
        Assert.NotEqual(0, invalid.Exit);
        Assert.Contains("invalid directory name: deferd", invalid.Error);

        Assert.Equal("postsuper: Deleted: 1 message\n", (await Edge(config, "postsuper", "-d", "ALL", "deferred")).Out);
        string queue = (await Edge(config, "postqueue", "-p")).Out;
        Assert.Contains($"\n{held}!", queue);
        Assert.DoesNotContain(deferred, queue);

        // minimal_backoff_time is an hour: only the requeue brings the next attempt, out of hold too.
        Assert.Equal("postsuper: Requeued: 1 message\n", (await Edge(config, "postsuper", "-r", "ALL")).Out);
        for (int i = 0; i < 100 && edge.Log.Count(l => l.Contains($"{held}: to=<c@slow.example>")) < 2; i++)
        {
            await Task.Delay(100);
        }
        Assert.Equal(2, edge.Log.Count(l => l.Contains($"{held}: to=<c@slow.example>") && l.Contains("status=deferred")));
        Assert.Contains($"\n{held} ", (await Edge(config, "postqueue", "-p")).Out);
    }

    [Fact]
    public async Task Hold_survives_a_restart_and_delete_works_on_a_stopped_server()
    {
        using var config = ConfigDirectory();
        string id;
        await using (var edge = await EdgeProcess.StartAsync(config.Path, config.Path))
        {
            id = await SendAsync(edge.Port);
            await Edge(config, "postsuper", "-h", id);
            Assert.Equal(0, await edge.TerminateAsync());
        }
        Assert.Contains($"\n{id}!", (await Edge(config, "postqueue", "-p")).Out);
        Assert.Equal("postsuper: Deleted: 1 message\n", (await Edge(config, "postsuper", "-d", "ALL")).Out);
        Assert.Equal("Mail queue is empty\n", (await Edge(config, "postqueue", "-p")).Out);
        await using var again = await EdgeProcess.StartAsync(config.Path, config.Path);
        Assert.Contains("with 0 messages", again.Log.First(l => l.Contains("daemon started")));
    }

    [Fact]
    public async Task Qshape_counts_pending_recipients_by_domain_and_age()
    {
        using var config = ConfigDirectory();
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        await using (var c = await SmtpConnection.OpenAsync(edge.Port))
        {
            await c.EnvelopeAsync("sender@example.org", "a@slow.example");
            await c.CommandAsync("RCPT TO:<b@slow.example>");
            await c.CommandAsync("RCPT TO:<c@other.example>");
            await c.CommandAsync("DATA");
            await c.CommandAsync("Subject: shape\r\n\r\nx\r\n.");
        }
        string[] lines = (await Edge(config, "qshape")).Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["T", "5", "10", "20", "40", "80", "160", "320", "640", "1280", "1280+"], lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(["TOTAL", "3", "3", "0", "0", "0", "0", "0", "0", "0", "0", "0"], lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(["slow.example", "2", "2", "0", "0", "0", "0", "0", "0", "0", "0", "0"], lines[2].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("other.example 1 1", string.Join(' ', lines[3].Split(' ', StringSplitOptions.RemoveEmptyEntries)));
        string[] bySender = (await Edge(config, "qshape", "-s")).Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("example.org 1 1", string.Join(' ', bySender[2].Split(' ', StringSplitOptions.RemoveEmptyEntries)));
    }
}
