using System.Text;
using Edge.Queue;
using Edge.Tests.Support;

namespace Edge.Tests.Queue;

/// <summary>What the queue holds after a restart, and what happens to a damaged record.</summary>
public class RecoveryTests
{
    private static async Task<string> SendAsync(EdgeInstance edge, string sender, string body = "hello")
    {
        await using var c = await edge.ConnectAsync();
        await c.CommandAsync("EHLO client.example");
        await c.CommandAsync($"MAIL FROM:<{sender}>");
        await c.CommandAsync("RCPT TO:<postmaster@localhost>");
        await c.CommandAsync("DATA");
        string reply = await c.CommandAsync($"Subject: {sender}\r\n\r\n{body}\r\n.");
        Assert.StartsWith("250 2.0.0 Ok: queued as ", reply);
        return reply.Split(' ')[^1];
    }

    [Fact]
    public async Task The_attempt_count_survives_a_restart_whatever_the_number_of_recipients()
    {
        using var directory = new TempDirectory();
        string queue = directory.File("queue");
        QueueId id;
        await using (QueueStore store = await QueueStore.OpenAsync(queue))
        {
            id = await new LocalSubmission(store).SubmitAsync("a@example.org", ["b@example.org", "c@example.org", "d@example.org"],
                (output, token) => output.WriteAsync("Subject: x\r\n\r\nx\r\n"u8.ToArray(), token).AsTask(), CancellationToken.None);
            QueueEntry entry = store.Entry(id)!;
            for (int r = 0; r < 3; r++)
            {
                store.AppendStatus(id, r, DeliveryStatus.Deferred, DateTimeOffset.UtcNow.AddMinutes(5), "try again");
            }
            await store.CommitAsync(store.SetAttempts(entry, 1));
        }
        await using QueueStore reopened = await QueueStore.OpenAsync(queue);
        // One attempt that deferred three recipients is one attempt.
        Assert.Equal(1, reopened.Entry(id)!.Attempts);
        Assert.Equal("try again", reopened.Entry(id)!.Reasons[2]);
    }

    [Fact]
    public async Task Queued_messages_survive_a_restart_with_their_content()
    {
        var edge = await EdgeInstance.StartAsync();
        string big = string.Concat(Enumerable.Repeat("0123456789abcdef0123456789abcdef0123456789abcdef\r\n", 4000));
        string first = await SendAsync(edge, "one@example.org");
        string second = await SendAsync(edge, "two@example.org", big);
        edge = await edge.RestartAsync();
        await using (edge)
        {
            var queued = await edge.QueuedAsync();
            Assert.Equal([first, second], queued.Select(m => m.Id.ToString()));
            using var content = new MemoryStream();
            await edge.Queue.CopyContentAsync(queued[1], content);
            Assert.EndsWith("\r\n\r\n" + big + "\r\n", Encoding.ASCII.GetString(content.ToArray()));
            // New IDs sort after the recovered ones.
            string third = await SendAsync(edge, "three@example.org");
            Assert.True(string.CompareOrdinal(third, second) > 0);
        }
    }

    [Fact]
    public async Task A_corrupt_record_is_moved_aside_and_the_rest_survives()
    {
        await using var edge = await EdgeInstance.StartAsync();
        string good = await SendAsync(edge, "good@example.org");
        await SendAsync(edge, "damaged@example.org");
        string after = await SendAsync(edge, "after@example.org");
        string queueDirectory = edge.QueueDirectory;
        await edge.StopAsync();

        // Flip a byte of the damaged message's envelope (where its sender is written) in the log file.
        byte[] needle = Encoding.ASCII.GetBytes("damaged@example.org");
        // The one segment written (the next one's space is set aside, but it has nothing in it yet).
        string segment = Directory.GetFiles(Path.Combine(queueDirectory, "log"), "queue.log.*").Single(f => new FileInfo(f).Length > 0);
        byte[] log = await File.ReadAllBytesAsync(segment);
        int at = LastIndexOf(log, needle);
        Assert.True(at > 0);
        log[at] ^= 0x20;
        await File.WriteAllBytesAsync(segment, log);

        await using var recovered = await EdgeInstance.StartAsync(reuse: edge.Directory);
        var ids = (await recovered.QueuedAsync()).Select(m => m.Id.ToString()).ToList();
        Assert.Equal([good, after], ids);
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(queueDirectory, "corrupt")));
        // The server still takes mail.
        await SendAsync(recovered, "new@example.org");
    }

    private static int LastIndexOf(byte[] haystack, byte[] needle)
    {
        for (int i = haystack.Length - needle.Length; i >= 0; i--)
        {
            if (haystack.AsSpan(i, needle.Length).SequenceEqual(needle))
            {
                return i;
            }
        }
        return -1;
    }
}
