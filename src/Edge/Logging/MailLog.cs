using System.Globalization;
using System.Threading.Channels;

namespace Edge.Logging;

/// <summary>
/// The mail log, in Postfix's syslog shape ("Nov 22 00:15:01 host edge/smtpd[123]: connect from …"), on
/// standard output or in maillog_file. Lines are built in pooled buffers (<see cref="LogLine"/>) and go through a channel to
/// one writer task, so sessions never block on the console and logging allocates no strings; the writer
/// flushes whenever it has caught up.
/// </summary>
internal static class MailLog
{
    private readonly record struct Entry(char[] Buffer, int Length, string Service, DateTime Time);

    // Bounded, so that a stalled standard output cannot make clients grow our memory with log lines;
    // what does not fit is counted and reported once output moves again.
    private static readonly Channel<Entry> s_lines = Channel.CreateBounded<Entry>(
        new BoundedChannelOptions(100_000) { SingleReader = true, FullMode = BoundedChannelFullMode.DropWrite },
        dropped => { LogBuffers.Return(dropped.Buffer); Interlocked.Decrement(ref s_pending); Interlocked.Increment(ref s_dropped); });
    private static long s_dropped;
    private static readonly string s_pid = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
    private static string s_host = "localhost";
    private static Task? s_writer;
    private static readonly TextWriter s_standardOutput = new StreamWriter(Console.OpenStandardOutput(), bufferSize: 64 * 1024) { AutoFlush = false };

    /// <summary>Where the writer task writes; only it changes it, to <see cref="s_next"/>, before the next line it writes.</summary>
    private static TextWriter s_output = s_standardOutput;

    /// <summary>Where the lines not yet written are to go (<see cref="Configure"/>, <see cref="Reopen"/>).</summary>
    private static TextWriter? s_next;
    private static long s_pending;
    private static bool s_json;

    /// <summary>Whether lines are written as JSON (edge_log_format = json).</summary>
    public static bool Json => s_json;

    /// <summary>
    /// Host name shown in each line (the first label of myhostname, as syslog shows it), and the format:
    /// Postfix's syslog lines, or JSON objects (edge_log_format = json).
    /// </summary>
    public static void Configure(string myhostname, TextWriter? output = null, bool json = false)
    {
        int dot = myhostname.IndexOf('.');
        s_host = dot > 0 ? myhostname[..dot] : myhostname;
        s_json = json;
        if (output is not null)
        {
            Reopen(output);
        }
    }

    /// <summary>
    /// Lines logged from now on go to <paramref name="output"/> (null: standard output), and the file they went to until
    /// now is closed: maillog_file opened again at a reload, a new file after postfix logrotate renamed the old one.
    /// </summary>
    public static void Reopen(TextWriter? output)
    {
        // A file asked for before and not yet changed to (two reloads in a moment) is closed, never having been written.
        if (Interlocked.Exchange(ref s_next, output ?? s_standardOutput) is StreamWriter { BaseStream: FileStream } displaced
            && displaced != Volatile.Read(ref s_output))
        {
            displaced.Dispose();
        }
    }

    public static void Info(ref LogLine message, string service = "smtpd") => Write(service, ref message, warning: false);

    public static void Warning(ref LogLine message, string service = "smtpd") => Write(service, ref message, warning: true);

    public static void Info(string message, string service = "smtpd")
    {
        var line = new LogLine(message.Length, 0);
        line.AppendLiteral(message);
        Write(service, ref line, warning: false);
    }

    /// <summary>
    /// A warning said at most once a minute however often its cause recurs (a store that stopped answering):
    /// <paramref name="lastSaid"/> is the caller's Environment.TickCount64 of the last time.
    /// </summary>
    public static void WarningOncePerMinute(ref long lastSaid, Func<string> message, string service = "smtpd")
    {
        long now = Environment.TickCount64;
        long said = Interlocked.Read(ref lastSaid);
        if (now - said >= 60_000 && Interlocked.CompareExchange(ref lastSaid, now, said) == said)
        {
            Warning(message(), service);
        }
    }

    public static void Warning(string message, string service = "smtpd")
    {
        var line = new LogLine(message.Length, 0);
        line.AppendLiteral(message);
        Write(service, ref line, warning: true);
    }

    private static void Write(string service, ref LogLine message, bool warning)
    {
        EnsureWriter();
        (char[] buffer, int length) = message.Detach();
        Interlocked.Increment(ref s_pending);
        s_lines.Writer.TryWrite(new Entry(buffer, warning ? -length : length, service, DateTime.Now));
    }

    private static void EnsureWriter()
    {
        if (s_writer is null)
        {
            lock (s_lines)
            {
                s_writer ??= Task.Run(DrainAsync);
            }
        }
    }

    private static async Task DrainAsync()
    {
        ChannelReader<Entry> reader = s_lines.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            long written = 0;
            try
            {
                while (reader.TryRead(out Entry entry))
                {
                    // Checked at every line: a line logged after Reopen is read after it, and goes to the new output.
                    if (Volatile.Read(ref s_next) is not null)
                    {
                        ChangeOutput();
                    }
                    written++;
                    WriteEntry(entry);
                }
                long dropped = Interlocked.Exchange(ref s_dropped, 0);
                if (dropped > 0)
                {
                    s_output.Write($"edge: warning: {dropped} mail log lines were dropped while the log output was stalled\n");
                }
                await s_output.FlushAsync().ConfigureAwait(false);
            }
            catch (IOException)
            {
                // Standard output is gone (a closed pipe): the server goes on without its log.
            }
            Interlocked.Add(ref s_pending, -written);
            // Under load, lines come thousands a second: writing them in batches a few milliseconds apart
            // costs one wake-up and one write(2) per batch instead of per line.
            await Task.Delay(BatchInterval).ConfigureAwait(false);
        }
    }

    private static readonly TimeSpan BatchInterval = TimeSpan.FromMilliseconds(5);

    /// <summary>Changes to the output asked for (a line after the change is about to be written), closing the one before.</summary>
    private static void ChangeOutput()
    {
        if (Interlocked.Exchange(ref s_next, null) is not { } next || next == s_output)
        {
            return;
        }
        TextWriter previous = s_output;
        Volatile.Write(ref s_output, next);
        // A maillog_file is closed (its lines written); standard output and error stay open.
        if (previous is StreamWriter { BaseStream: FileStream })
        {
            previous.Dispose();
        }
        else
        {
            previous.Flush();
        }
    }

    private static void WriteEntry(Entry entry)
    {
        if (s_json)
        {
            ReadOnlySpan<byte> json = JsonLogFormat.Format(entry.Time, s_host, entry.Service, s_pid, entry.Length < 0,
                entry.Buffer.AsSpan(0, Math.Abs(entry.Length)));
            s_output.Write(System.Text.Encoding.UTF8.GetString(json));
            LogBuffers.Return(entry.Buffer);
            return;
        }
        Span<char> stamp = stackalloc char[16];
        entry.Time.TryFormat(stamp, out int n, "MMM d HH:mm:ss", CultureInfo.InvariantCulture);
        TextWriter output = s_output;
        output.Write(stamp[..4]);
        // syslog pads single-digit days with a space: "Nov  2".
        if (entry.Time.Day < 10)
        {
            output.Write(' ');
        }
        output.Write(stamp[4..n]);
        output.Write(' ');
        output.Write(s_host);
        output.Write(" edge/");
        output.Write(entry.Service);
        output.Write('[');
        output.Write(s_pid);
        output.Write("]: ");
        if (entry.Length < 0)
        {
            output.Write("warning: ");
        }
        output.Write(entry.Buffer.AsSpan(0, Math.Abs(entry.Length)));
        output.Write('\n');
        LogBuffers.Return(entry.Buffer);
    }

    /// <summary>Waits (a little while at most) until every line logged so far is written, at shutdown.</summary>
    public static async Task FlushAsync()
    {
        for (int i = 0; i < 200 && Interlocked.Read(ref s_pending) > 0; i++)
        {
            await Task.Delay(5);
        }
    }
}
