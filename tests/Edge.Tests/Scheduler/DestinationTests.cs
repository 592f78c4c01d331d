using System.Text.RegularExpressions;
using Edge.Tests.Delivery;
using Edge.Tests.Support;

namespace Edge.Tests.Scheduler;

/// <summary>qmgr's per-destination rules: recipients per delivery, and a destination that is down.</summary>
public class DestinationTests
{
    private static TempDirectory Relay(int port, string extra)
    {
        var directory = new TempDirectory();
        directory.Write("main.cf", EdgeInstance.BaseMainCf(directory) + $"\nrelayhost = [127.0.0.1]:{port}\n{extra}\n");
        directory.Write("master.cf", "127.0.0.1:0 inet n - n - - smtpd\nqmgr unix n - n 300 1 qmgr\nsmtp unix - - n - - smtp\n");
        return directory;
    }

    private static async Task<string> SendAsync(int port, string recipient)
    {
        await using var c = await SmtpConnection.OpenAsync(port);
        await c.EnvelopeAsync("a@example.org", recipient);
        await c.CommandAsync("DATA");
        return (await c.CommandAsync("Subject: x\r\n\r\nx\r\n.")).Split(' ')[^1];
    }

    [Fact]
    public async Task Recipients_are_delivered_in_groups_of_the_destination_recipient_limit()
    {
        await using var sink = await SmtpSink.StartAsync();
        using var config = Relay(sink.Port, "smtp_destination_recipient_limit = 2");
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        await using (var c = await SmtpConnection.OpenAsync(edge.Port))
        {
            await c.EnvelopeAsync("a@example.org", "r0@remote.example");
            for (int i = 1; i < 5; i++)
            {
                await c.CommandAsync($"RCPT TO:<r{i}@remote.example>");
            }
            await c.CommandAsync("DATA");
            string id = (await c.CommandAsync("Subject: five\r\n\r\nx\r\n.")).Split(' ')[^1];
            await edge.WaitForLogAsync($"{id}: removed");
        }
        IReadOnlyList<string> dumps = await sink.DumpsAsync(3);
        await Task.Delay(300);
        Assert.Equal(3, sink.DumpCount);
        // smtp-sink writes each delivery's recipients into its dump.
        Assert.Equal([2, 2, 1], dumps.Select(d => Regex.Matches(d, @"\br\d@remote\.example").Select(m => m.Value).Distinct().Count())
            .OrderDescending());
    }

    [Fact]
    public async Task A_destination_that_keeps_failing_is_suspended()
    {
        int port = ListeningPort.Free();
        using var config = Relay(port, "initial_destination_concurrency = 1\nminimal_backoff_time = 1h");
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string first = await SendAsync(edge.Port, "one@remote.example");
        await edge.WaitForLogAsync($@"{first}: to=<one@remote\.example>, .*status=deferred \(connect to 127\.0\.0\.1\[127\.0\.0\.1\]:{port}: Connection refused\)");
        string second = await SendAsync(edge.Port, "two@remote.example");
        await edge.WaitForLogAsync($@"{second}: to=<two@remote\.example>, relay=none, .*status=deferred \(delivery temporarily suspended: connect to 127\.0\.0\.1\[127\.0\.0\.1\]:{port}: Connection refused\)");
    }

    /// <summary>
    /// A next hop marked down comes back: postqueue -f, or -s for a site, clears the mark as Postfix's flush does,
    /// and the waiting mail goes at once instead of after the hour of backoff.
    /// </summary>
    [Theory]
    [InlineData("-f")]
    [InlineData("-s")]
    public async Task A_flush_retries_a_destination_marked_down(string flush)
    {
        int port = ListeningPort.Free();
        using var config = Relay(port, "initial_destination_concurrency = 1\nminimal_backoff_time = 1h\nfast_flush_domains = remote.example");
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string first = await SendAsync(edge.Port, "one@remote.example");
        await edge.WaitForLogAsync($@"{first}: to=<one@remote\.example>, .*status=deferred \(connect to");
        string second = await SendAsync(edge.Port, "two@remote.example");
        await edge.WaitForLogAsync($@"{second}: to=<two@remote\.example>, .*status=deferred \(delivery temporarily suspended: connect to");

        await using var nexthop = await EdgeInstance.StartAsync("mydestination = remote.example", port: port);
        string[] args = flush == "-f" ? ["postqueue", "-c", config.Path, "-f"] : ["postqueue", "-c", config.Path, "-s", "remote.example"];
        var flushed = await EdgeProcess.RunAsync(config.Path, args);
        Assert.True(flushed.Exit == 0, flushed.Error);
        await edge.WaitForLogAsync($@"{first}: to=<one@remote\.example>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:{port}, .*status=sent");
        await edge.WaitForLogAsync($@"{second}: to=<two@remote\.example>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:{port}, .*status=sent");
        Assert.Equal(2, (await nexthop.QueuedAsync()).Count);
    }
}
