using System.Text.RegularExpressions;
using System.Text;
using Edge.Cleanup;
using Edge.Mail;
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

    /// <summary>
    /// A delivery or session that outlives the queue's closing (past the shutdown grace) is refused, and never writes
    /// into the log memory closing frees; what was there before reopens intact.
    /// </summary>
    [Fact]
    public async Task After_the_queue_closed_appends_and_reads_are_refused()
    {
        using var directory = new TempDirectory();
        string queue = directory.File("queue");
        QueueStore store = await QueueStore.OpenAsync(queue);
        QueueId id = await new LocalSubmission(store).SubmitAsync(TestCleanup.Internal, "a@example.org", ["b@example.org"],
            (output, token) => output.WriteAsync("Subject: x\r\n\r\nx\r\n"u8.ToArray(), token).AsTask(), CancellationToken.None);
        QueueEntry entry = store.Entry(id)!;
        await store.DisposeAsync();

        Assert.Throws<ObjectDisposedException>(() => store.AppendStatus(id, 0, DeliveryStatus.Deferred, DateTimeOffset.UtcNow, "late"));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => store.ReadEnvelopeAsync(entry));
        await using QueueStore reopened = await QueueStore.OpenAsync(queue);
        Assert.Null(reopened.Entry(id)!.Reasons[0]);
    }

    [Fact]
    public async Task The_attempt_count_survives_a_restart_whatever_the_number_of_recipients()
    {
        using var directory = new TempDirectory();
        string queue = directory.File("queue");
        QueueId id;
        await using (QueueStore store = await QueueStore.OpenAsync(queue))
        {
            id = await new LocalSubmission(store).SubmitAsync(TestCleanup.Internal, "a@example.org", ["b@example.org", "c@example.org", "d@example.org"],
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

    /// <summary>
    /// A segment cut short (a file system that lost its tail): the messages wholly before the cut are recovered, the
    /// one the cut went through and those after it are gone with it, and start-up goes on and takes mail.
    /// </summary>
    [Fact]
    public async Task A_truncated_segment_keeps_what_is_before_the_cut()
    {
        await using var edge = await EdgeInstance.StartAsync();
        string kept = await SendAsync(edge, "kept@example.org");
        await SendAsync(edge, "cut@example.org");
        await SendAsync(edge, "after@example.org");
        string queueDirectory = edge.QueueDirectory;
        await edge.StopAsync();

        string segment = Directory.GetFiles(Path.Combine(queueDirectory, "log"), "queue.log.*").Single(f => new FileInfo(f).Length > 0);
        byte[] log = await File.ReadAllBytesAsync(segment);
        int at = LastIndexOf(log, Encoding.ASCII.GetBytes("cut@example.org"));
        Assert.True(at > 0);
        await using (FileStream file = File.OpenWrite(segment))
        {
            file.SetLength(at);
        }

        await using var recovered = await EdgeInstance.StartAsync(reuse: edge.Directory);
        Assert.Equal([kept], (await recovered.QueuedAsync()).Select(m => m.Id.ToString()));
        await SendAsync(recovered, "new@example.org");
        Assert.Equal(2, (await recovered.QueuedAsync()).Count);
    }

    /// <summary>A new queue, and one that never held a record, is not a queue that lost records (every first start said so).</summary>
    [Fact]
    public async Task A_queue_without_records_starts_without_a_loss_warning()
    {
        using TempDirectory config = StoppedServerConfig();
        for (int start = 0; start < 2; start++)
        {
            await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
            Assert.Contains("with 0 messages", edge.Log.First(l => l.Contains("daemon started")));
            Assert.Equal(0, await edge.TerminateAsync());
            Assert.DoesNotContain(edge.Log, line => line.Contains("queue log segment"));
        }
    }

    /// <summary>A segment cut short is reported with the file and offset where the records end, and how much committed log is gone.</summary>
    [Fact]
    public async Task A_truncated_segment_is_reported_with_the_file_and_offset_where_the_records_end()
    {
        using TempDirectory config = StoppedServerConfig();
        await using (var edge = await EdgeProcess.StartAsync(config.Path, config.Path))
        {
            await SendBigAsync(edge.Port, "kept@example.org");
            await SendBigAsync(edge.Port, "cut@example.org");
            Assert.Equal(0, await edge.TerminateAsync());
        }
        string segment = Path.Combine(config.Path, "var", "log", "queue.log.0");
        int at = LastIndexOf(await File.ReadAllBytesAsync(segment), Encoding.ASCII.GetBytes("cut@example.org"));
        Assert.True(at > 0);
        await using (FileStream file = File.OpenWrite(segment))
        {
            file.SetLength(at);
        }
        await using var recovered = await EdgeProcess.StartAsync(config.Path, config.Path);
        Assert.Contains("with 1 messages", recovered.Log.First(l => l.Contains("daemon started")));
        string warning = await recovered.WaitForLogAsync(@"warning: queue log segment queue\.log\.0 ends at offset \d+, " +
            @"before the end of its committed records at offset \d+: \d+ bytes of committed records are lost, and with them any message or status they held");
        Assert.Equal(at, long.Parse(Regex.Match(warning, @"ends at offset (\d+)").Groups[1].Value));
    }

    /// <summary>The server's log directory's one written segment, with the first byte of <paramref name="marker"/> flipped.</summary>
    private static void Damage(string queueDirectory, string marker)
    {
        string segment = Directory.GetFiles(Path.Combine(queueDirectory, "log"), "queue.log.*").Single(f => new FileInfo(f).Length > 0);
        byte[] log = File.ReadAllBytes(segment);
        int at = LastIndexOf(log, Encoding.ASCII.GetBytes(marker));
        Assert.True(at > 0, $"{marker} is not in the log");
        log[at] ^= 0x20;
        File.WriteAllBytes(segment, log);
    }

    private static async Task<string> SendBigAsync(int port, string sender)
    {
        await using var c = await SmtpConnection.OpenAsync(port);
        await c.EnvelopeAsync(sender, "postmaster@localhost");
        await c.CommandAsync("DATA");
        // Two chunks of content: the first begins with FIRST-PART, the second holds SECOND-PART.
        string filler = string.Concat(Enumerable.Repeat(new string('x', 78) + "\r\n", 500));
        string reply = await c.CommandAsync($"Subject: big\r\n\r\nFIRST-PART\r\n{filler}SECOND-PART\r\n.");
        Assert.StartsWith("250 2.0.0 Ok: queued as ", reply);
        return reply.Split(' ')[^1];
    }

    private static TempDirectory StoppedServerConfig()
    {
        var config = new TempDirectory();
        config.Write("main.cf", EdgeInstance.BaseMainCf(config) + "\n");
        config.Write("master.cf", "127.0.0.1:0 inet n - n - - smtpd\n");
        return config;
    }

    /// <summary>
    /// Queues one two-chunk message from <paramref name="sender"/>, stops, damages the record holding
    /// <paramref name="marker"/> and starts again, waiting for the warnings; a third start must report nothing.
    /// Returns the message's queue ID and the queue directory.
    /// </summary>
    private static async Task<(string Id, string Queue)> DamageAndRestartAsync(TempDirectory config, string sender, string marker,
        params Func<string, string>[] warnings)
    {
        string id;
        await using (var edge = await EdgeProcess.StartAsync(config.Path, config.Path))
        {
            id = await SendBigAsync(edge.Port, sender);
            Assert.Equal(0, await edge.TerminateAsync());
        }
        string queue = Path.Combine(config.Path, "var");
        Damage(queue, marker);
        await using (var edge = await EdgeProcess.StartAsync(config.Path, config.Path))
        {
            Assert.Contains("with 0 messages", edge.Log.First(l => l.Contains("daemon started")));
            foreach (Func<string, string> warning in warnings)
            {
                await edge.WaitForLogAsync(warning(id));
            }
            Assert.Equal(0, await edge.TerminateAsync());
        }
        await using var again = await EdgeProcess.StartAsync(config.Path, config.Path);
        await Task.Delay(500);
        Assert.DoesNotContain(again.Log, line => line.Contains("corrupt") || line.Contains("committed records are lost"));
        return (id, queue);
    }

    [Fact]
    public async Task A_message_with_a_damaged_chunk_is_saved_readably_with_its_intact_content_and_reported_once()
    {
        using TempDirectory config = StoppedServerConfig();
        (string id, string queue) = await DamageAndRestartAsync(config, "damaged@example.org", "FIRST-PART",
            id => @"warning: corrupt queue record at log address \d+ \(log/queue\.log\.0 offset \d+\) \(chunk record of queue ID " + id + @", by its header\): checksum mismatch; saved as corrupt/record-\d+",
            id => $@"warning: {id}: content chunk at log address \d+ is missing or corrupt; message moved to corrupt/{id}, its 1 intact chunks of 2 to corrupt/{id}\.content");
        string envelope = File.ReadAllText(Path.Combine(queue, "corrupt", id));
        Assert.Contains($"*** ENVELOPE RECORDS corrupt/{id} ***\n", envelope);
        Assert.Contains("sender: damaged@example.org\n", envelope);
        Assert.Contains("recipient: postmaster@localhost\n", envelope);
        Assert.Contains("1 of 2 chunks intact", envelope);
        string content = File.ReadAllText(Path.Combine(queue, "corrupt", id + ".content"));
        Assert.Contains("SECOND-PART", content);
        Assert.DoesNotContain("FIRST-PART", content);
    }

    [Fact]
    public async Task A_message_whose_envelope_is_damaged_is_named_and_its_content_saved()
    {
        using TempDirectory config = StoppedServerConfig();
        (string id, string queue) = await DamageAndRestartAsync(config, "lost-envelope@example.org", "lost-envelope@example.org",
            id => @"warning: corrupt queue record at log address \d+ \(log/queue\.log\.0 offset \d+\) \(envelope record of queue ID " + id + ", by its header\\)",
            id => $@"warning: {id}: envelope record at log address \d+ is damaged; the message cannot be delivered: its 2 intact content chunks saved as corrupt/{id}\.content");
        string content = File.ReadAllText(Path.Combine(queue, "corrupt", id + ".content"));
        Assert.StartsWith("Received: ", content);
        Assert.Contains("FIRST-PART", content);
        Assert.Contains("SECOND-PART", content);
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

    /// <summary>
    /// A record whose checksum is right and whose fields are not (as a faulty writer would leave it: a flag byte
    /// missing, a recipient count of two billion) is put in the corrupt queue like a damaged one; recovery goes on.
    /// </summary>
    [Fact]
    public void A_record_with_a_right_checksum_and_wrong_fields_goes_to_the_corrupt_queue()
    {
        using var directory = new TempDirectory();
        var recovery = new QueueRecovery(new CorruptQueue(directory.Path));
        byte[] hold = new byte[RecordHeader.Size];
        RecordHeader.Write(hold, RecordType.Hold, new QueueId(42));
        RecordHeader.Seal(hold);
        // Size, three flags, six empty strings, then the recipient count.
        byte[] envelope = [.. new byte[RecordHeader.Size + 8 + 3 + 12], .. BitConverter.GetBytes(int.MaxValue)];
        RecordHeader.Write(envelope, RecordType.Envelope, new QueueId(43));
        RecordHeader.Seal(envelope);
        recovery.Add(hold, 100);
        recovery.Add(envelope, 200);
        recovery.Finish();
        Assert.True(File.Exists(Path.Combine(directory.Path, "corrupt", CorruptQueue.RecordName(100))));
        Assert.True(File.Exists(Path.Combine(directory.Path, "corrupt", CorruptQueue.RecordName(200))));
        Assert.Empty(recovery.Entries);
    }
}
