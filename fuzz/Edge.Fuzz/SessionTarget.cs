using System.IO.Pipelines;
using System.Net;
using Edge.Hosting;
using Edge.Logging;
using Edge.Queue;
using Edge.Restrictions.Policy.Store;
using Edge.Restrictions.Verify;
using Edge.Smtp.Session;

namespace Edge.Fuzz;

/// <summary>
/// A whole SMTP session over in-memory pipes: the input is everything the client sends, after which it hangs up.
/// Every command, XCLIENT (the client is authorized), DATA and BDAT, and the session's state between them are
/// exercised; the session must end by itself within 5 s of the client's hang-up. Accepted messages go into a real
/// queue, which starts afresh every 1,000 sessions so that a long run does not fill the disk.
/// </summary>
internal static class SessionTarget
{
    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input => input;
        public PipeWriter Output => output;
    }

    private static readonly string Directory = Path.Combine(Path.GetTempPath(), "edge-fuzz-session-" + Environment.ProcessId);
    private static SmtpdSettings? s_settings;
    private static QueueStore? s_queue;
    private static int s_sessions;

    public static void Run(byte[] input) => RunAsync(input).GetAwaiter().GetResult();

    private static async Task RunAsync(byte[] input)
    {
        QueueStore queue = await QueueAsync();
        var toServer = new Pipe(new PipeOptions(useSynchronizationContext: false));
        var toClient = new Pipe(new PipeOptions(useSynchronizationContext: false));
        await using var session = new SmtpSession(s_settings!, queue, new Anvil(), new DuplexPipe(toServer.Reader, toClient.Writer),
            new IPEndPoint(IPAddress.Loopback, 40000), CancellationToken.None, CancellationToken.None, CancellationToken.None);
        Task run = session.RunAsync();
        Task drain = DrainAsync(toClient.Reader);
        await toServer.Writer.WriteAsync(input);
        await toServer.Writer.CompleteAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(5));
        await toClient.Writer.CompleteAsync();
        await drain;
    }

    private static async Task DrainAsync(PipeReader replies)
    {
        while (true)
        {
            ReadResult result = await replies.ReadAsync();
            replies.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                return;
            }
        }
    }

    /// <summary>The queue, made anew every 1,000 sessions.</summary>
    private static async Task<QueueStore> QueueAsync()
    {
        if (s_queue is not null && ++s_sessions % 1000 != 0)
        {
            return s_queue;
        }
        if (s_queue is not null)
        {
            await s_queue.DisposeAsync();
            System.IO.Directory.Delete(Path.Combine(Directory, "var"), recursive: true);
        }
        _ = Settings;
        s_queue = await QueueStore.OpenAsync(Path.Combine(Directory, "var"));
        return s_queue;
    }

    /// <summary>The smtpd settings, read once from a main.cf of the fuzzer's own (the policy target's restrictions too).</summary>
    public static SmtpdSettings Settings
    {
        get
        {
            if (s_settings is not null)
            {
                return s_settings;
            }
            MailLog.Configure("mx.fuzz.example", TextWriter.Null);
            System.IO.Directory.CreateDirectory(Directory);
            File.WriteAllText(Path.Combine(Directory, "main.cf"), $"""
                myhostname = mx.fuzz.example
                mydestination = localhost, fuzz.example
                local_recipient_maps =
                queue_directory = {Directory}/var
                mynetworks = 127.0.0.0/8
                smtpd_authorized_xclient_hosts = 127.0.0.0/8
                smtpd_error_sleep_time = 0
                message_size_limit = 100000
                """);
            File.WriteAllText(Path.Combine(Directory, "master.cf"), "127.0.0.1:0 inet n - n - - smtpd\n");
            var (_, _, listeners) = EdgeServer.LoadConfiguration(Directory, new PolicyStores(openFaster: false), new AddressVerifier(), _ => { });
            return s_settings = listeners[0].Settings;
        }
    }
}
