using System.Text.RegularExpressions;
using Edge.Tests.Support;

namespace Edge.Tests.Queue;

/// <summary>
/// What kill -9 cannot show (the page cache survives it): that a "250 … queued as" is sent only after the disk has the
/// message. The server runs under strace, the system calls it makes are read back, and for every message three
/// clients sent at once the order must be: the log write holding the message's content, then an fsync of that log
/// segment that started after the write ended, then the commit record's write, then the 250. The directory holding a
/// segment is synced after the segment was created and before anything in it is acknowledged.
/// </summary>
public partial class DurabilityTraceTests
{
    /// <summary>One system call of the trace: where in the trace it started and ended, its name, file and text.</summary>
    private sealed record Call(int Start, int End, string Name, string File, string Text);

    [Fact]
    public async Task Every_250_follows_an_fsync_of_the_log_that_holds_the_message()
    {
        string strace = Peer.Require("strace", "strace");
        using var directory = new TempDirectory();
        directory.Write("main.cf", EdgeInstance.BaseMainCf(directory) + "\nmynetworks = 127.0.0.0/8\n" +
            "defer_transports = local, virtual, relay, smtp, lmtp, error, retry, discard\n");
        directory.Write("master.cf", "127.0.0.1:0 inet n - n - - smtpd\n");
        string trace = directory.File("trace.txt");
        var queuedAs = new Dictionary<string, string>();
        await using (EdgeProcess edge = await EdgeProcess.StartAsync(directory.Path, directory.Path,
            [strace, "-f", "--seccomp-bpf", "-y", "-s", "65536", "-o", trace,
             "-e", "trace=openat,pwrite64,pwritev,fsync,fdatasync,sendto,sendmsg,write,writev"]))
        {
            await Task.WhenAll(Enumerable.Range(1, 3).Select(async client =>
            {
                await using SmtpConnection c = await SmtpConnection.OpenAsync(edge.Port);
                await c.CommandAsync("EHLO client.example");
                for (int k = 1; k <= 5; k++)
                {
                    string marker = $"durability-marker-{client}{k:D2}-end";
                    Assert.StartsWith("250", await c.CommandAsync("MAIL FROM:<a@example.org>"));
                    Assert.StartsWith("250", await c.CommandAsync("RCPT TO:<user@edge.test>"));
                    Assert.StartsWith("354", await c.CommandAsync("DATA"));
                    string reply = await c.CommandAsync($"Subject: {marker}\r\n\r\n{marker}\r\n.");
                    Match id = QueuedAs().Match(reply);
                    Assert.True(id.Success, reply);
                    lock (queuedAs)
                    {
                        queuedAs[marker] = id.Groups[1].Value;
                    }
                }
            }));
            Assert.Equal(0, await edge.TerminateAsync());
        }

        List<Call> calls = Calls(File.ReadAllLines(trace));
        string logDirectory = Path.Combine(directory.Path, "var", "log");
        foreach ((string marker, string id) in queuedAs)
        {
            Call? reply = calls.FirstOrDefault(c => c.Name is "sendto" or "sendmsg" or "write" or "writev" && c.Text.Contains($"queued as {id}\\r\\n"));
            Assert.True(reply is not null, $"{id}: no 250 in the trace:\n{string.Join("\n", File.ReadLines(trace).Where(l => l.Contains(id)))}");
            Call? content = calls.FirstOrDefault(c => c.Name is "pwrite64" or "pwritev" && c.File.StartsWith(logDirectory + "/queue.log.") && c.Text.Contains(marker));
            Assert.True(content is not null, $"{id}: no log write holds {marker}:\n{string.Join("\n", File.ReadLines(trace).Where(l => l.Contains(marker)).Select(l => l[..Math.Min(300, l.Length)]))}");
            Call? sync = calls.FirstOrDefault(c => c.Name is "fsync" or "fdatasync" && c.File == content.File && c.Start > content.End && c.End < reply.Start);
            Assert.True(sync is not null, $"{id} ({marker}): no fsync of {content.File} between its write (trace line {content.End}) and its 250 (line {reply.Start})");
            Assert.True(calls.Any(c => c.Name == "pwrite64" && c.File == logDirectory + "/queue.commit" && c.Start > sync!.End && c.End < reply.Start),
                $"{id} ({marker}): no commit record written between the fsync (line {sync!.End}) and its 250 (line {reply.Start})");
            Call created = calls.First(c => c.Name == "openat" && c.File == content.File);
            Assert.True(calls.Any(c => c.Name is "fsync" or "fdatasync" && c.File == logDirectory && c.Start > created.End && c.End < reply.Start),
                $"{id} ({marker}): {content.File} was created (line {created.End}) and its directory not synced before the 250 (line {reply.Start})");
        }
        Assert.Equal(15, queuedAs.Count);
    }

    /// <summary>
    /// strace -f -y lines: "PID name(FD&lt;path&gt;, …) = R", or split in two by another thread's calls:
    /// "PID name(FD&lt;path&gt;, … &lt;unfinished ...&gt;" and later "PID &lt;... name resumed&gt;…) = R".
    /// </summary>
    private static List<Call> Calls(string[] lines)
    {
        var calls = new List<Call>();
        var unfinished = new Dictionary<string, (int Start, string Name, string Text)>();
        for (int i = 0; i < lines.Length; i++)
        {
            // A reply the pipe held in two buffers is sent with sendmsg in two pieces: one text, as the client reads it.
            lines[i] = IovecBoundary().Replace(lines[i], "");
            if (Resumed().Match(lines[i]) is { Success: true } resumed)
            {
                if (unfinished.Remove(resumed.Groups[1].Value, out var begun))
                {
                    calls.Add(new Call(begun.Start, i, begun.Name, FileOf(begun.Name, begun.Text), begun.Text));
                }
                continue;
            }
            if (Started().Match(lines[i]) is not { Success: true } started)
            {
                continue;
            }
            string pid = started.Groups[1].Value, name = started.Groups[2].Value, text = started.Groups[3].Value;
            if (text.EndsWith("<unfinished ...>", StringComparison.Ordinal))
            {
                unfinished[pid] = (i, name, text);
            }
            else
            {
                calls.Add(new Call(i, i, name, FileOf(name, text), text));
            }
        }
        return calls;
    }

    /// <summary>The file a call works on: its first argument's path (-y), or for openat the path it opened.</summary>
    private static string FileOf(string name, string text) =>
        name == "openat" ? OpenedPath().Match(text) is { Success: true } opened ? opened.Groups[1].Value : ""
        : FirstFd().Match(text) is { Success: true } fd ? fd.Groups[1].Value : "";

    // strace pads the PID column: "5968  sendto(" as well as "14549 sendto(".
    [GeneratedRegex(@"^(\d+) +(\w+)\((.*)$")]
    private static partial Regex Started();

    [GeneratedRegex(@"^(\d+) +<\.\.\. (\w+) resumed>")]
    private static partial Regex Resumed();

    [GeneratedRegex(@"^\d+<([^>]*)>")]
    private static partial Regex FirstFd();

    [GeneratedRegex(@"^[^,]*, ""([^""]*)""")]
    private static partial Regex OpenedPath();

    [GeneratedRegex(@""", iov_len=\d+\}, \{iov_base=""")]
    private static partial Regex IovecBoundary();

    [GeneratedRegex(@"queued as (\w+)")]
    private static partial Regex QueuedAs();
}
