using Edge.Tests.Delivery;
using Edge.Tests.Support;

namespace Edge.Tests.Queue;

/// <summary>
/// The log's files follow the queue: once messages are delivered, the segments that held them go, and a
/// message that waits does not keep the segments written after it.
/// </summary>
[Collection(MachineWideCollection.Name)]
public class DiskUseTests
{
    [Fact]
    public async Task Delivered_messages_give_their_disk_space_back()
    {
        using var config = new TempDirectory();
        config.Write("main.cf", EdgeInstance.BaseMainCf(config) + "\ntransport_maps = static:discard:\n");
        config.Write("master.cf", "127.0.0.1:0 inet n - n - - smtpd\nqmgr unix n - n 300 1 qmgr\ndiscard unix - - n - - discard\n");
        var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string body = string.Concat(Enumerable.Repeat(new string('d', 998) + "\r\n", 1000));
        await using (var c = await SmtpConnection.OpenAsync(edge.Port))
        {
            await c.CommandAsync("EHLO client.example");
            for (int i = 0; i < 60; i++)
            {
                await c.CommandAsync("MAIL FROM:<a@example.org>");
                await c.CommandAsync($"RCPT TO:<u{i}@remote.example>");
                await c.CommandAsync("DATA");
                Assert.StartsWith("250 2.0.0 Ok: queued", await c.CommandAsync($"Subject: {i}\r\n\r\n{body}."));
            }
        }
        string logDirectory = Path.Combine(config.Path, "var", "log");
        long written = 60L * body.Length;
        long used = long.MaxValue;
        for (int i = 0; i < 100 && used > written / 2; i++)
        {
            await Task.Delay(100);
            used = LogBytes(logDirectory);
        }
        Assert.True(used <= written / 2, $"{used} bytes of log files remain after {written} bytes of mail were delivered");
        Assert.Equal(0, await edge.TerminateAsync());
        await edge.DisposeAsync();

        // The log starts past what was cut: a restart recovers from there and goes on.
        await using var restarted = await EdgeProcess.StartAsync(config.Path, config.Path);
        Assert.Contains("with 0 messages", restarted.Log.First(l => l.Contains("daemon started")));
        await using var again = await SmtpConnection.OpenAsync(restarted.Port);
        await again.EnvelopeAsync("a@example.org", "later@remote.example");
        await again.CommandAsync("DATA");
        string id = (await again.CommandAsync("Subject: later\r\n\r\nx\r\n.")).Split(' ')[^1];
        await restarted.WaitForLogAsync($"{id}: removed");
    }

    /// <summary>bulk.example is discarded at once; held.example waits in defer_transports until a flush.</summary>
    private static TempDirectory FlowConfig(int sinkPort, int headroom)
    {
        var config = new TempDirectory();
        config.Write("main.cf", EdgeInstance.BaseMainCf(config) + $$"""

            relay_domains = bulk.example, held.example
            transport_maps = inline:{ bulk.example=discard:, held.example=dialup:[127.0.0.1]:{{sinkPort}} }
            defer_transports = dialup
            minimal_backoff_time = 1h
            edge_queue_log_headroom = {{headroom}}
            """ + "\n");
        config.Write("master.cf", """
            127.0.0.1:0 inet n - n - - smtpd
            qmgr      unix  n       -       n       300     1       qmgr
            discard   unix  -       -       n       -       -       discard
            dialup    unix  -       -       n       -       -       smtp
            """);
        return config;
    }

    private static Task<(int Exit, string Output)> FlowAsync(int port, int messages) =>
        Peer.SmtpSourceAsync("-s", "20", "-m", messages.ToString(), "-l", "1024",
            "-f", "flow@example.org", "-t", "user@bulk.example", $"127.0.0.1:{port}");

    private static async Task<string> WaitForOneMessageAsync(string configDirectory)
    {
        string queue = "";
        for (int i = 0; i < 600 && !queue.Contains("in 1 Request."); i++)
        {
            await Task.Delay(100);
            queue = (await EdgeProcess.RunAsync(configDirectory, "postqueue", "-c", configDirectory, "-p")).Out;
        }
        return queue;
    }

    [Fact]
    public async Task A_deferred_message_does_not_pin_the_log_under_a_flow_of_100000_messages()
    {
        await using var sink = await SmtpSink.StartAsync();
        using TempDirectory config = FlowConfig(sink.Port, headroom: 4 << 20);
        // The waiting message comes first, so that without copying forward it would hold the whole log.
        string body = string.Concat(Enumerable.Range(0, 2000).Select(i => $"line {i} of the message that waits\r\n"));
        string held;
        await using (var edge = await EdgeProcess.StartAsync(config.Path, config.Path))
        {
            await using (var c = await SmtpConnection.OpenAsync(edge.Port))
            {
                await c.EnvelopeAsync("sender@example.org", "user@held.example");
                await c.CommandAsync("DATA");
                held = (await c.CommandAsync($"Subject: waits\r\n\r\n{body}.")).Split(' ')[^1];
            }
            await edge.WaitForLogAsync($@"{held}: to=<user@held\.example>, relay=none, .*status=deferred \(deferred transport\)");

            string logDirectory = Path.Combine(config.Path, "var", "log");
            long most = 0;
            Task<(int Exit, string Output)> flow = FlowAsync(edge.Port, 100_000);
            while (!flow.IsCompleted)
            {
                most = Math.Max(most, LogBytes(logDirectory));
                await Task.Delay(100);
            }
            Assert.Equal(0, (await flow).Exit);
            string queue = await WaitForOneMessageAsync(config.Path);
            most = Math.Max(most, LogBytes(logDirectory));
            Assert.Contains("in 1 Request.", queue);
            Assert.Contains(held, queue);

            // More than 100 MB went through the log; it never held more than three of its 16 MiB segments.
            Assert.True(most <= 3 * (16 << 20), $"the queue log reached {most} bytes");
            Assert.Contains(edge.Log, l => l.Contains("queue log: copied 1 message"));

            Assert.Equal(0, await edge.TerminateAsync());
        }

        // The copy is the message: it survives a restart and is delivered as it was received.
        await using var restarted = await EdgeProcess.StartAsync(config.Path, config.Path);
        Assert.Contains("with 1 messages", restarted.Log.First(l => l.Contains("daemon started")));
        Assert.Equal(0, (await EdgeProcess.RunAsync(config.Path, "postqueue", "-c", config.Path, "-f")).Exit);
        await restarted.WaitForLogAsync($@"{held}: to=<user@held\.example>, relay=127\.0\.0\.1.*status=sent");
        Assert.Contains(body.Replace("\r\n", "\n"), (await sink.DumpsAsync(1))[0]);
    }

    [Fact]
    public async Task A_copied_message_keeps_its_delivered_recipient_its_hold_and_its_reason()
    {
        await using var sink = await SmtpSink.StartAsync();
        using TempDirectory config = FlowConfig(sink.Port, headroom: 4 << 20);
        string id;
        await using (var edge = await EdgeProcess.StartAsync(config.Path, config.Path))
        {
            await using (var c = await SmtpConnection.OpenAsync(edge.Port))
            {
                await c.EnvelopeAsync("sender@example.org", "user@held.example");
                Assert.StartsWith("250", await c.CommandAsync("RCPT TO:<user@bulk.example>"));
                await c.CommandAsync("DATA");
                id = (await c.CommandAsync("Subject: two recipients\r\n\r\nbody\r\n.")).Split(' ')[^1];
            }
            await edge.WaitForLogAsync($@"{id}: to=<user@bulk\.example>, .*status=sent");
            await edge.WaitForLogAsync($@"{id}: to=<user@held\.example>, .*status=deferred \(deferred transport\)");
            Assert.Equal(0, (await EdgeProcess.RunAsync(config.Path, "postsuper", "-c", config.Path, "-h", id)).Exit);

            // Two copies: the round that made the second one first cut the log past the original records.
            for (int flows = 0; flows < 10 && edge.Log.Count(l => l.Contains("queue log: copied ")) < 2; flows++)
            {
                Assert.Equal(0, (await FlowAsync(edge.Port, 5000)).Exit);
                Assert.Contains("in 1 Request.", await WaitForOneMessageAsync(config.Path));
            }
            Assert.True(edge.Log.Count(l => l.Contains("queue log: copied ")) >= 2, "the message was not copied forward twice");
            Assert.Equal(0, await edge.TerminateAsync());
        }

        await using var restarted = await EdgeProcess.StartAsync(config.Path, config.Path);
        string shown = (await EdgeProcess.RunAsync(config.Path, "postqueue", "-c", config.Path, "-p")).Out;
        Assert.Contains($"{id}!", shown);
        Assert.Contains("(deferred transport)", shown);
        Assert.Contains("user@held.example", shown);
        Assert.DoesNotContain("user@bulk.example", shown);

        Assert.Equal(0, (await EdgeProcess.RunAsync(config.Path, "postsuper", "-c", config.Path, "-H", id)).Exit);
        Assert.Equal(0, (await EdgeProcess.RunAsync(config.Path, "postqueue", "-c", config.Path, "-f")).Exit);
        await restarted.WaitForLogAsync($@"{id}: removed");
        Assert.Single(restarted.Log, l => l.Contains($"{id}: to=<"));
        Assert.Contains("Subject: two recipients", (await sink.DumpsAsync(1))[0]);
    }

    /// <summary>The bytes of the queue log's segments; one the log drops between the listing and its size counts as nothing.</summary>
    private static long LogBytes(string logDirectory) =>
        Directory.GetFiles(logDirectory, "queue.log.*").Sum(f => new FileInfo(f) is { Exists: true } file ? file.Length : 0);
}
