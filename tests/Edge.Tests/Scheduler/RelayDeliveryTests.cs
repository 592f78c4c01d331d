using Edge.Queue;
using Edge.Tests.Delivery;
using Edge.Tests.Support;

namespace Edge.Tests.Scheduler;

/// <summary>
/// Accept and deliver: Edge relays to a real next hop (Postfix's smtp-sink, or another Edge), exactly once,
/// defers while the next hop is down, and delivers after postqueue -f once it is back.
/// </summary>
public class RelayDeliveryTests
{
    private static TempDirectory Relay(int nexthopPort)
    {
        var directory = new TempDirectory();
        directory.Write("main.cf", EdgeInstance.BaseMainCf(directory) + $"""

            relayhost = [127.0.0.1]:{nexthopPort}
            minimal_backoff_time = 1h
            """ + "\n");
        directory.Write("master.cf", """
            127.0.0.1:0 inet n - n - - smtpd
            qmgr      unix  n       -       n       300     1       qmgr
            smtp      unix  -       -       n       -       -       smtp
            """);
        return directory;
    }

    private static async Task<string> SendAsync(int port, string recipient, string subject)
    {
        await using var c = await SmtpConnection.OpenAsync(port);
        await c.EnvelopeAsync("sender@example.org", recipient);
        await c.CommandAsync("DATA");
        return (await c.CommandAsync($"Subject: {subject}\r\n\r\n..a dotted line\r\nbody of {subject}\r\n.")).Split(' ')[^1];
    }

    [Fact]
    public async Task Every_message_reaches_smtp_sink_exactly_once()
    {
        await using var sink = await SmtpSink.StartAsync();
        using var config = Relay(sink.Port);
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        var ids = new List<string>();
        for (int i = 0; i < 5; i++)
        {
            ids.Add(await SendAsync(edge.Port, $"user{i}@remote.example", $"message {i}"));
        }
        foreach (string id in ids)
        {
            await edge.WaitForLogAsync($@"edge/smtp\[\d+\]: {id}: to=<user\d@remote\.example>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:{sink.Port}, .*dsn=2\.0\.0, status=sent \(250 ");
            await edge.WaitForLogAsync($@"edge/qmgr\[\d+\]: {id}: removed");
        }
        IReadOnlyList<string> dumps = await sink.DumpsAsync(5);
        await Task.Delay(500);
        Assert.Equal(5, sink.DumpCount);
        for (int i = 0; i < 5; i++)
        {
            Assert.Single(dumps, d => d.Contains($"body of message {i}\n") && d.Contains("\n.a dotted line\n"));
        }
        Assert.Equal("Mail queue is empty\n", (await EdgeProcess.RunAsync(config.Path, "postqueue", "-c", config.Path, "-p")).Out);
    }

    [Fact]
    public async Task A_down_next_hop_defers_and_postqueue_f_delivers_once_it_is_back()
    {
        int port = ListeningPort.Free();
        using var config = Relay(port);
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string id = await SendAsync(edge.Port, "someone@remote.example", "waiting");
        string refused = $"connect to 127.0.0.1[127.0.0.1]:{port}: Connection refused";
        await edge.WaitForLogAsync($@"{id}: to=<someone@remote\.example>, relay=none, .*status=deferred \({System.Text.RegularExpressions.Regex.Escape(refused)}\)");
        string mailq = (await EdgeProcess.RunAsync(config.Path, "postqueue", "-c", config.Path, "-p")).Out;
        Assert.Contains($"({refused})\n", mailq);
        Assert.Contains("someone@remote.example", mailq);

        await using var nexthop = await EdgeInstance.StartAsync("mydestination = remote.example", port: port);
        Assert.Equal(0, (await EdgeProcess.RunAsync(config.Path, "postqueue", "-c", config.Path, "-f")).Exit);
        await edge.WaitForLogAsync($@"{id}: to=<someone@remote\.example>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:{port}, .*status=sent");
        await edge.WaitForLogAsync($@"{id}: removed");
        var delivered = Assert.Single(await nexthop.QueuedAsync());
        Assert.Equal("sender@example.org", delivered.Sender);
        Assert.Contains("body of waiting", await nexthop.SingleMessageContentAsync());
    }

    [Fact]
    public async Task Routed_relay_recipients_from_mynetworks_are_forwarded_with_their_routing_as_Postfix_does()
    {
        int port = ListeningPort.Free();
        await using var nexthop = await EdgeInstance.StartAsync("mydestination = relayed.example", port: port);
        using var config = Relay(port);
        File.AppendAllText(config.File("main.cf"), "relay_domains = relayed.example\n");
        File.AppendAllText(config.File("master.cf"), "\nrelay     unix  -       -       n       -       -       smtp\n");
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string id;
        await using (var c = await SmtpConnection.OpenAsync(edge.Port))
        {
            await c.EnvelopeAsync("sender@example.org", "victim%other.test@relayed.example");
            Assert.Equal("250 2.1.5 Ok", await c.CommandAsync("RCPT TO:<other.test!victim@relayed.example>"));
            Assert.Equal("250 2.1.5 Ok", await c.CommandAsync("RCPT TO:<\"victim@other.test\"@relayed.example>"));
            await c.CommandAsync("DATA");
            id = (await c.CommandAsync("Subject: routed\r\n\r\nbody\r\n.")).Split(' ')[^1];
        }
        await edge.WaitForLogAsync($@"{id}: removed");
        QueuedMessage delivered = Assert.Single(await nexthop.QueuedAsync());
        Assert.Equal(["\"victim@other.test\"@relayed.example", "other.test!victim@relayed.example", "victim%other.test@relayed.example"],
            delivered.Recipients.Select(r => r.Address).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Kill_9_during_deliveries_loses_nothing_and_repeats_at_most_those_in_flight()
    {
        const int Messages = 60;
        const int MaxProc = 10;
        // A next hop that takes a second per message, so that deliveries are still under way at the kill.
        await using var sink = await SmtpSink.StartAsync("-w", "1");
        using var config = Relay(sink.Port);
        config.Write("master.cf", $"""
            127.0.0.1:0 inet n - n - - smtpd
            qmgr      unix  n       -       n       300     1       qmgr
            smtp      unix  -       -       n       -       {MaxProc}       smtp
            """);
        var acknowledged = new List<int>();
        var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        await using (edge)
        {
            Task sending = Task.Run(async () =>
            {
                try
                {
                    await using var c = await SmtpConnection.OpenAsync(edge.Port);
                    await c.CommandAsync("EHLO client.example");
                    for (int i = 0; i < Messages; i++)
                    {
                        await c.CommandAsync("MAIL FROM:<sender@example.org>");
                        await c.CommandAsync($"RCPT TO:<user{i}@remote.example>");
                        await c.CommandAsync("DATA");
                        if ((await c.CommandAsync($"Subject: number {i}\r\n\r\nmarker-{i}-end\r\n.")).StartsWith("250 2.0.0 Ok: queued as"))
                        {
                            lock (acknowledged)
                            {
                                acknowledged.Add(i);
                            }
                        }
                    }
                }
                catch (IOException)
                {
                    // The server was killed under us.
                }
            });
            for (int i = 0; i < 400 && edge.Log.Count(line => line.Contains("status=sent")) < 5; i++)
            {
                await Task.Delay(10);
            }
            await edge.KillAsync();
            await sending;
        }
        Assert.True(acknowledged.Count >= 20, $"only {acknowledged.Count} messages were acknowledged");
        string left = (await EdgeProcess.RunAsync(config.Path, "postqueue", "-c", config.Path, "-p")).Out;
        Assert.NotEqual("Mail queue is empty\n", left);
        int beforeRestart = sink.DumpCount;

        await using var restarted = await EdgeProcess.StartAsync(config.Path, config.Path);
        string mailq = "";
        for (int i = 0; i < 300 && mailq != "Mail queue is empty\n"; i++)
        {
            await Task.Delay(100);
            mailq = (await EdgeProcess.RunAsync(config.Path, "postqueue", "-c", config.Path, "-p")).Out;
        }
        Assert.Equal("Mail queue is empty\n", mailq);
        IReadOnlyList<string> dumps = await sink.DumpsAsync(acknowledged.Count);
        await Task.Delay(500);
        dumps = await sink.DumpsAsync(sink.DumpCount);
        foreach (int i in acknowledged)
        {
            Assert.Contains(dumps, d => d.Contains($"marker-{i}-end"));
        }
        int distinct = dumps.Select(d => System.Text.RegularExpressions.Regex.Match(d, "marker-(\\d+)-end").Value).Distinct().Count();
        int duplicates = dumps.Count - distinct;
        Assert.True(duplicates <= MaxProc,
            $"{duplicates} messages were delivered twice ({beforeRestart} before the kill); at most {MaxProc} deliveries were in flight");
    }
}
