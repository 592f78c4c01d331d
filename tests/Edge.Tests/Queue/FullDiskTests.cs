using Edge.Cleanup;
using Edge.Mail;
using Edge.Queue;
using Edge.Tests.Delivery;
using Edge.Tests.Support;

namespace Edge.Tests.Queue;

/// <summary>
/// The queue on a file system that fills up (a tmpfs of its own): what was written waits for room instead of being
/// lost, a removal the disk did not take leaves the message queued, and a stop ends the wait without a crash.
/// </summary>
public class FullDiskTests
{
    /// <summary>
    /// A 40 MiB file system: the log sets aside its first two 16 MiB segments, one message is queued, and a filler
    /// takes the rest. Then records beyond the two segments find the disk full.
    /// </summary>
    private static async Task<(QueueStore Store, QueueEntry Entry, string Filler, long Last)> FillAsync(Tmpfs disk)
    {
        QueueStore store = await QueueStore.OpenAsync(disk.Path);
        try
        {
            QueueId id = await new LocalSubmission(store).SubmitAsync(TestCleanup.Internal, "a@example.org", ["b@example.org"],
                (output, token) => output.WriteAsync("Subject: x\r\n\r\nx\r\n"u8.ToArray(), token).AsTask(), CancellationToken.None);
            Assert.Equal(QueueRoom.Enough, store.RoomFor(0));
            string filler = disk.Fill();
            Assert.Equal(QueueRoom.Short, await Eventually(() => store.RoomFor(0), QueueRoom.Short));
            // Deferral records past the space set aside (two segments, 32 MiB), until a write waits for room, and a
            // little more, well within the log's 16 MiB of memory.
            string reason = new('r', 1000);
            long last = -1;
            for (int i = 0, more = 1000; more > 0 && i < 64 * 1024; i++)
            {
                last = store.AppendStatus(id, 0, DeliveryStatus.Deferred, DateTimeOffset.UtcNow, reason);
                more -= store.WritesStalled ? 1 : 0;
            }
            Assert.True(store.WritesStalled);
            return (store, store.Entry(id)!, filler, last);
        }
        catch
        {
            await store.DisposeAsync();
            throw;
        }
    }

    private static async Task<T> Eventually<T>(Func<T> value, T expected)
    {
        for (int i = 0; i < 100 && !EqualityComparer<T>.Default.Equals(value(), expected); i++)
        {
            await Task.Delay(50);
        }
        return value();
    }

    [Fact]
    public async Task Writes_that_find_the_disk_full_wait_and_go_through_once_there_is_room()
    {
        using Tmpfs disk = Tmpfs.Mount(40);
        (QueueStore store, QueueEntry entry, string filler, long last) = await FillAsync(disk);
        await using (store)
        {
            Task committed = store.CommitAsync(last);
            Assert.True(await Eventually(() => store.WritesStalled, true));
            await Task.Delay(1500);
            Assert.False(committed.IsCompleted, "a commit completed although the disk had no room for its records");
            Assert.False(store.TakesContent);
            Assert.Equal(QueueRoom.Short, store.RoomFor(0));

            Task removal = store.CommitAsync(store.AppendRemoval(entry));
            File.Delete(filler);
            await committed.WaitAsync(TimeSpan.FromSeconds(10));
            await removal.WaitAsync(TimeSpan.FromSeconds(10));
            store.Forget(entry);
            Assert.False(store.WritesStalled);
        }
        await using QueueStore reopened = await QueueStore.OpenAsync(disk.Path);
        Assert.Equal(0, reopened.Count);
    }

    [Fact]
    public async Task A_stop_ends_the_wait_and_a_removal_the_disk_did_not_take_leaves_the_message_queued()
    {
        using Tmpfs disk = Tmpfs.Mount(40);
        (QueueStore store, QueueEntry entry, string filler, long _) = await FillAsync(disk);
        Task removal = store.CommitAsync(store.AppendRemoval(entry));
        Assert.True(await Eventually(() => store.WritesStalled, true));
        await store.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        IOException failed = await Assert.ThrowsAsync<IOException>(() => removal.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Contains("No space left on device", failed.Message);

        File.Delete(filler);
        await using QueueStore reopened = await QueueStore.OpenAsync(disk.Path);
        Assert.NotNull(reopened.Entry(entry.Id));
    }

    /// <summary>
    /// Once the disk stops taking pages, the log's 16 MiB of memory fill up. A session's content then waits for room
    /// without holding a thread (FASTER's own append would spin on it): the non-blocking append says there is no room,
    /// the waiting one waits, and both go through once the disk has room again.
    /// </summary>
    [Fact]
    public async Task When_the_log_memory_is_full_an_append_waits_for_room_without_a_thread()
    {
        // Once the filler is gone, room for the two segments the log's memory and the segment after them take.
        using Tmpfs disk = Tmpfs.Mount(96);
        (QueueStore store, QueueEntry entry, string filler, long _) = await FillAsync(disk);
        await using (store)
        {
            byte[] record = new byte[1000];
            RecordHeader.Write(record, RecordType.Chunk, entry.Id);
            RecordHeader.Seal(record);
            int taken = 0;
            while (store.TryAppend(record, out _))
            {
                Assert.True(++taken < QueueStore.LogMemoryBytes / record.Length, "the log took more than its memory holds");
            }
            ValueTask<long> waiting = store.AppendAsync(record, CancellationToken.None);
            await Task.Delay(1000);
            Assert.False(waiting.IsCompleted, "an append completed although the log's memory was full");

            using (var stop = new CancellationTokenSource(200))
            {
                await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.AppendAsync(record, stop.Token).AsTask());
            }
            File.Delete(filler);
            long address = await waiting.AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            await store.CommitAsync(address).WaitAsync(TimeSpan.FromSeconds(10));
            Assert.True(store.TryAppend(record, out _));
        }
    }

    /// <summary>
    /// A disk error (what a failed fsync reports): the queue is broken for good. What waits for a commit fails at
    /// once instead of hanging, MAIL FROM gets 451 4.3.0, a message under way is not queued, and the server stops
    /// cleanly and finds what was committed before.
    /// </summary>
    [Fact]
    public async Task After_a_disk_error_nothing_is_taken_commits_fail_at_once_and_the_server_stops_cleanly()
    {
        var edge = await EdgeInstance.StartAsync();
        string first = await SmtpConnection.SendMessageAsync(edge.Port, "Subject: first\r\n\r\nfirst\r\n", "postmaster@localhost");
        await using (var waiting = await edge.ConnectAsync())
        {
            await waiting.EnvelopeAsync("sender@example.org", "postmaster@localhost");
            Assert.StartsWith("354", await waiting.CommandAsync("DATA"));

            QueueStore store = edge.Queue;
            long last = store.AppendStatus(store.Entries.Single().Id, 0, DeliveryStatus.Deferred, DateTimeOffset.UtcNow, "later");
            store.Device.Break(new IOException("Input/output error"));
            IOException failed = await Assert.ThrowsAsync<IOException>(() => store.CommitAsync(last).WaitAsync(TimeSpan.FromSeconds(10)));
            Assert.StartsWith("queue file write error", failed.Message);
            Assert.Equal(QueueRoom.Broken, store.RoomFor(0));

            Assert.Equal("451 4.3.0 Error: queue file write error", await waiting.CommandAsync("Subject: second\r\n\r\nsecond\r\n."));
            Assert.Equal("451 4.3.0 Error: queue file write error", await waiting.CommandAsync("MAIL FROM:<sender@example.org>"));
        }
        await edge.StopAsync().WaitAsync(TimeSpan.FromSeconds(30));
        await using var restarted = await edge.RestartAsync();
        Assert.Equal(first, Assert.Single(await restarted.QueuedAsync()).Id.ToString());
    }

    /// <summary>
    /// An 8 MiB queue file system has no room for the log to set a segment aside: once the first message is written
    /// the queue is short of space. A message already under way then gets 451 4.3.0 at its end and nothing of it is
    /// queued, and the next MAIL FROM gets 452 4.3.1.
    /// </summary>
    [Fact]
    public async Task A_message_under_way_when_the_queue_runs_short_gets_451_and_is_not_queued()
    {
        using Tmpfs disk = Tmpfs.Mount(8);
        await using var edge = await EdgeInstance.StartAsync($"queue_directory = {disk.Path}\nmessage_size_limit = 100000");
        await using var waiting = await edge.ConnectAsync();
        await waiting.EnvelopeAsync("sender@example.org", "postmaster@localhost");

        string first = await SmtpConnection.SendMessageAsync(edge.Port, "Subject: first\r\n\r\nfirst\r\n", "postmaster@localhost");
        Assert.Equal("354 End data with <CR><LF>.<CR><LF>", await waiting.CommandAsync("DATA"));
        Assert.Equal("451 4.3.0 Error: queue file write error", await waiting.CommandAsync("Subject: second\r\n\r\nsecond\r\n."));
        Assert.Equal("452 4.3.1 Insufficient system storage", await waiting.CommandAsync("MAIL FROM:<sender@example.org>"));
        Assert.Equal(first, Assert.Single(await edge.QueuedAsync()).Id.ToString());
    }

    /// <summary>
    /// The whole server on a 64 MiB queue file system that a filler takes up: new mail is refused at MAIL FROM with
    /// Postfix's 452 4.3.1, the queued mail is delivered and its removal recorded all the same, SIGTERM stops the
    /// server cleanly, two restarts bring nothing back, and once the filler is gone mail is accepted again.
    /// </summary>
    [Fact]
    public async Task On_a_full_queue_disk_mail_is_refused_early_and_every_queued_message_reaches_the_next_hop_exactly_once()
    {
        const int Messages = 200;
        await using var sink = await SmtpSink.StartAsync();
        using Tmpfs disk = Tmpfs.Mount(64);
        using var config = new TempDirectory();
        config.Write("main.cf", $"""
            myhostname = mx.edge.test
            mydestination = localhost
            queue_directory = {disk.Path}
            relayhost = [127.0.0.1]:{sink.Port}
            defer_transports = smtp
            message_size_limit = 1048576
            """ + "\n");
        config.Write("master.cf", "127.0.0.1:0 inet n - n - - smtpd\nqmgr unix n - n 300 1 qmgr\nsmtp unix - - n - - smtp\n");
        var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string body = string.Concat(Enumerable.Repeat(new string('b', 98) + "\r\n", 100));
        await using (var c = await SmtpConnection.OpenAsync(edge.Port))
        {
            await c.CommandAsync("EHLO client.example");
            for (int i = 0; i < Messages; i++)
            {
                Assert.Equal("250 2.1.0 Ok", await c.CommandAsync("MAIL FROM:<sender@example.org>"));
                await c.CommandAsync($"RCPT TO:<user{i}@remote.example>");
                await c.CommandAsync("DATA");
                Assert.StartsWith("250 2.0.0 Ok: queued as", await c.CommandAsync($"Subject: {i}\r\n\r\nmarker-{i}-end\r\n{body}."));
            }
        }
        await edge.WaitForLogLinesAsync("status=deferred \\(deferred transport\\)", Messages);
        string filler = disk.Fill();

        // The free space is looked at ten times a second.
        Assert.Equal("452 4.3.1 Insufficient system storage", await MailFromAsync(edge.Port, "452 4.3.1 Insufficient system storage"));
        await edge.WaitForLogAsync(@"warning: not enough free space in mail queue: \d+ bytes < 1\.5\*message size limit");
        Assert.Equal(0, (await EdgeProcess.RunAsync(config.Path, "postqueue", "-c", config.Path, "-f")).Exit);
        await WaitForEmptyQueueAsync(config.Path);
        Assert.Equal(0, await edge.TerminateAsync());
        Assert.Contains(edge.Log, line => line.Contains("terminating on signal"));
        await edge.DisposeAsync();

        await using (var again = await EdgeProcess.StartAsync(config.Path, config.Path))
        {
            Assert.Contains("with 0 messages", again.Log.First(l => l.Contains("daemon started")));
            await Task.Delay(1000);
            Assert.Equal(0, await again.TerminateAsync());
        }
        await using var last = await EdgeProcess.StartAsync(config.Path, config.Path);
        Assert.Contains("with 0 messages", last.Log.First(l => l.Contains("daemon started")));
        IReadOnlyList<string> dumps = await sink.DumpsAsync(Messages);
        await Task.Delay(1000);
        dumps = await sink.DumpsAsync(sink.DumpCount);
        for (int i = 0; i < Messages; i++)
        {
            Assert.Single(dumps, d => d.Contains($"marker-{i}-end"));
        }
        // Besides the messages, only the postmaster's notices of the sessions refused for lack of space (notify_classes
        // has resource by default).
        Assert.All(dumps.Where(d => !d.Contains("marker-")), d => Assert.Contains("Subject: Edge SMTP server: errors from localhost[127.0.0.1]", d));

        // Space comes back while the server runs: it takes mail again by itself.
        File.Delete(filler);
        Assert.Equal("250 2.1.0 Ok", await MailFromAsync(last.Port, "250 2.1.0 Ok"));
    }

    /// <summary>The reply to MAIL FROM, asked again for up to five seconds until it is <paramref name="expected"/>.</summary>
    private static async Task<string> MailFromAsync(int port, string expected)
    {
        string reply = "";
        for (int i = 0; i < 50 && reply != expected; i++)
        {
            await using var c = await SmtpConnection.OpenAsync(port);
            await c.CommandAsync("EHLO client.example");
            reply = await c.CommandAsync("MAIL FROM:<sender@example.org>");
            await Task.Delay(reply == expected ? 0 : 100);
        }
        return reply;
    }

    private static async Task WaitForEmptyQueueAsync(string configDirectory)
    {
        string mailq = "";
        for (int i = 0; i < 300 && mailq != "Mail queue is empty\n"; i++)
        {
            await Task.Delay(200);
            mailq = (await EdgeProcess.RunAsync(configDirectory, "postqueue", "-c", configDirectory, "-p")).Out;
        }
        Assert.Equal("Mail queue is empty\n", mailq);
    }
}
