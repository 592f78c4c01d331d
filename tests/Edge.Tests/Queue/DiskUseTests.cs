using Edge.Tests.Support;

namespace Edge.Tests.Queue;

/// <summary>The log's files follow the queue: once messages are delivered, the segments that held them go.</summary>
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
            used = Directory.GetFiles(logDirectory, "queue.log.*").Sum(f => new FileInfo(f).Length);
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
}
