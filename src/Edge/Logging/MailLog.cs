using System.Threading.Channels;

namespace Edge.Logging;

/// <summary>
/// The mail log, in Postfix's syslog shape ("Nov 22 00:15:01 host edge/smtpd[123]: connect from …"), on
/// standard output. Lines go through a channel to one writer task so that sessions never block on the
/// console; the writer flushes whenever it has caught up.
/// </summary>
internal static class MailLog
{
    private static readonly Channel<string> s_lines = Channel.CreateUnbounded<string>(
        new UnboundedChannelOptions { SingleReader = true });
    private static readonly string s_pid = Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
    private static string s_host = "localhost";
    private static Task? s_writer;
    private static TextWriter s_output = Console.Out;
    private static long s_pending;

    /// <summary>Host name shown in each line (the first label of myhostname, as syslog shows it).</summary>
    public static void Configure(string myhostname, TextWriter? output = null)
    {
        int dot = myhostname.IndexOf('.');
        s_host = dot > 0 ? myhostname[..dot] : myhostname;
        if (output is not null)
        {
            s_output = output;
        }
    }

    public static void Info(string message, string service = "smtpd") => Write(service, message);

    public static void Warning(string message, string service = "smtpd") => Write(service, "warning: " + message);

    public static void Error(string message, string service = "smtpd") => Write(service, message);

    private static void Write(string service, string message)
    {
        EnsureWriter();
        string stamp = DateTime.Now.ToString("MMM d HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture);
        if (stamp[5] == ' ')
        {
            // syslog pads single-digit days with a space: "Nov  2".
            stamp = stamp.Insert(4, " ");
        }
        Interlocked.Increment(ref s_pending);
        s_lines.Writer.TryWrite($"{stamp} {s_host} edge/{service}[{s_pid}]: {message}");
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
        ChannelReader<string> reader = s_lines.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            long written = 0;
            while (reader.TryRead(out string? line))
            {
                await s_output.WriteLineAsync(line).ConfigureAwait(false);
                written++;
            }
            await s_output.FlushAsync().ConfigureAwait(false);
            Interlocked.Add(ref s_pending, -written);
        }
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
