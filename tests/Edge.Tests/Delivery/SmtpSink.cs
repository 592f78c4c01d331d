using System.Diagnostics;
using Edge.Tests.Support;

namespace Edge.Tests.Delivery;

/// <summary>
/// Postfix's smtp-sink on a free 127.0.0.1 port, dumping every message it receives (-d) into a directory,
/// with the test's options (-r RCPT, -q ., -L …). Stopped by its process ID when the test is done.
/// </summary>
public sealed class SmtpSink : IAsyncDisposable
{
    private readonly Process _process;
    private readonly TempDirectory _directory;
    private readonly string _dumps;
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _log;

    private SmtpSink(Process process, TempDirectory directory, string dumps, int port,
        System.Collections.Concurrent.ConcurrentQueue<string> log)
    {
        _log = log;
        _process = process;
        _directory = directory;
        _dumps = dumps;
        Port = port;
    }

    public int Port { get; }

    public bool HasExited => _process.HasExited;

    public static async Task<SmtpSink> StartAsync(params string[] options)
    {
        string program = Peer.Require("smtp-sink", "postfix");
        var directory = new TempDirectory();
        string dumps = directory.File("dumps");
        Directory.CreateDirectory(dumps);
        // smtp-sink writes as the postfix user (-u), after dropping root.
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(dumps, (UnixFileMode)0b111_111_111);
        }
        int port = ListeningPort.Free();
        var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
        Process process = Peer.Start(program,
            ["-u", "postfix", "-v", "-d", Path.Combine(dumps, "message."), .. options, $"127.0.0.1:{port}", "100"], log.Enqueue);
        var sink = new SmtpSink(process, directory, dumps, port, log);
        await ListeningPort.WaitAsync(port, () => process.HasExited, "smtp-sink");
        return sink;
    }

    /// <summary>
    /// The messages received, once <paramref name="count"/> dumps are complete: each as smtp-sink writes it,
    /// its own X- and Received: lines first, lines ending in LF, and an empty line at the end.
    /// </summary>
    public async Task<IReadOnlyList<string>> DumpsAsync(int count)
    {
        // A session that ends without a message (an address verification probe) has its dump file removed again:
        // one that vanishes while it is read is looked at again on the next round.
        string[]? Read()
        {
            try
            {
                return [.. Directory.GetFiles(_dumps).Select(File.ReadAllText)];
            }
            catch (FileNotFoundException)
            {
                return null;
            }
        }

        for (int i = 0; i < 200; i++)
        {
            string[]? texts = Read();
            if (texts is not null && texts.Length >= count && texts.All(text => text.EndsWith("\n\n", StringComparison.Ordinal)))
            {
                await Task.Delay(100);
                if (Read() is { } again && again.SequenceEqual(texts))
                {
                    return texts;
                }
            }
            await Task.Delay(50);
        }
        Assert.Fail($"smtp-sink did not dump {count} message(s)");
        return [];
    }

    // What smtp-sink -v logs: "connect (…)", each command it received, "disconnect".
    /// <summary>How many logged lines are <paramref name="entry"/> (after smtp-sink's "program: " prefix), or it with details in parentheses.</summary>
    public int Count(string entry) => _log.Select(line => line[(line.IndexOf(": ", StringComparison.Ordinal) + 2)..])
        .Count(text => text == entry || text.StartsWith(entry + " (", StringComparison.Ordinal));

    public int DumpCount => Directory.GetFiles(_dumps).Length;

    /// <summary>The message itself from a dump: what follows smtp-sink's three-line Received: header, without the final empty line.</summary>
    public static string MessageOf(string dump)
    {
        int received = dump.IndexOf("Received: from ", StringComparison.Ordinal);
        int start = received;
        for (int line = 0; line < 3; line++)
        {
            start = dump.IndexOf('\n', start) + 1;
        }
        return dump[start..^1];
    }

    /// <summary>Waits for smtp-sink to exit by itself (-n: after that many sessions).</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan limit)
    {
        using var deadline = new CancellationTokenSource(limit);
        try
        {
            await _process.WaitForExitAsync(deadline.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Peer.StopAsync(_process);
        _directory.Dispose();
    }
}
